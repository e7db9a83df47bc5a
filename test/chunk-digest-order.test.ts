/**
 * The edit component's chunk hashing (components/chunk-digest.ts) hashes a file's chunks in order
 * ahead of the one whose turn it is, through one stream of the file: its digests must still be each
 * chunk's own, a chunk's turn must find its digest under way, and a failed read must only cost
 * those chunks their digests. Driven as Resumable.js 1.1.0 drives `preprocess`, on Node's File,
 * streams and crypto.subtle (Node has no Web Worker: the page's path).
 */
import { createHash } from 'node:crypto'
import { afterEach, beforeEach, describe, expect, test } from '@jest/globals'
import { withChunkDigests } from '../components/chunk-digest.js'
import type { ResumableChunk, ResumableFile } from '../components/resumable-types.js'

const MiB = 1024 * 1024

interface FakeChunk extends ResumableChunk {
  preprocessState: number
  preprocessFinished(): void
}

function bytesOf(size: number, seed: number): Buffer {
  const data = Buffer.alloc(size)
  for (let i = 0; i < size; i += 4096) data.writeUInt32LE((i * 2654435761 + seed) >>> 0, i)
  return data
}

const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex')

/**
 * The bytes of `data` from `start` as a byte stream (BYOB readers, as Blob streams) that fails with
 * a read error once it reaches `failAt`: a file that became unreadable part way.
 */
function failingStream(data: Buffer, start: number, failAt: number): ReadableStream<Uint8Array> {
  let at = start
  return new ReadableStream({
    type: 'bytes',
    pull(controller) {
      if (at >= failAt) {
        controller.error(new Error('NotReadableError'))
        return
      }
      const view = controller.byobRequest?.view
      const into = view ? new Uint8Array(view.buffer, view.byteOffset, view.byteLength) : new Uint8Array(64 * 1024)
      const n = Math.min(into.byteLength, failAt - at)
      into.set(data.subarray(at, at + n))
      at += n
      if (view) controller.byobRequest!.respond(n)
      else controller.enqueue(into.subarray(0, n))
    },
  })
}

/** A File whose slice() calls (where a read starts) are recorded, and whose reads can fail past a byte. */
function fakeFile(data: Buffer, chunkSize: number, failAt: () => number | null = () => null) {
  const file = new File([new Uint8Array(data)], 'a.bin')
  const reads: number[] = []
  const slice = file.slice.bind(file)
  Object.defineProperty(file, 'slice', {
    value: (start: number, end?: number) => {
      reads.push(start)
      const fail = failAt()
      if (fail !== null && start <= fail && fail < (end ?? data.length)) return { size: data.length - start, stream: () => failingStream(data, start, fail) } as unknown as Blob
      return slice(start, end)
    },
  })
  const fileObj = { file, size: data.length } as unknown as ResumableFile
  const rebuild = (): FakeChunk[] => {
    const count = Math.max(1, Math.floor(data.length / chunkSize))
    fileObj.chunks = Array.from({ length: count }, (_, offset) => ({
      fileObj, offset, startByte: offset * chunkSize, endByte: offset === count - 1 ? data.length : (offset + 1) * chunkSize,
      preprocessState: 0, abort: () => undefined,
    }) as unknown as FakeChunk)
    return fileObj.chunks as FakeChunk[]
  }
  return { reads, rebuild }
}

/** What Resumable.js does for a chunk's turn: preprocess, then (once finished) the query of its requests. */
async function turn(options: ReturnType<typeof withChunkDigests>, chunk: FakeChunk): Promise<string | undefined> {
  const preprocess = (options as { preprocess(c: FakeChunk): void }).preprocess
  await new Promise<void>((resolve) => {
    chunk.preprocessFinished = () => { chunk.preprocessState = 2; resolve() }
    chunk.preprocessState = 1
    preprocess(chunk)
  })
  const query = options.query as (f: ResumableFile, c: ResumableChunk) => Record<string, string>
  return query(chunk.fileObj, chunk).resumableChunkSha256
}

/** Bytes given to crypto.subtle.digest since the test began: how far hashing has got. */
let digested = 0
const subtle = globalThis.crypto.subtle
const digest = subtle.digest.bind(subtle)
beforeEach(() => {
  digested = 0
  subtle.digest = (algorithm: AlgorithmIdentifier, data: BufferSource) => {
    digested += data.byteLength
    return digest(algorithm, data)
  }
})
afterEach(() => { subtle.digest = digest })

async function until(condition: () => boolean): Promise<void> {
  for (let waited = 0; !condition() && waited < 5000; waited += 10) await new Promise((resolve) => { setTimeout(resolve, 10) })
}

describe('chunk digests hashed in order, ahead of the upload', () => {
  test('every chunk gets its own digest, hashed ahead of its turn; the file is read once, through one stream', async () => {
    const data = bytesOf(20 * MiB + 512 * 1024, 1)
    const { reads, rebuild } = fakeFile(data, MiB)
    const chunks = rebuild()
    const options = withChunkDigests({ chunkSize: MiB })
    const first = await turn(options, chunks[0])
    // After chunk 1's turn alone, the bytes well past it are hashed: the next turns find their digests ready.
    await until(() => digested >= 16 * MiB)
    expect(digested).toBeGreaterThanOrEqual(16 * MiB)
    const digests = [first]
    for (const chunk of chunks.slice(1)) digests.push(await turn(options, chunk))
    expect(digests).toEqual(chunks.map((c) => sha256(data.subarray(c.startByte, c.endByte))))
    expect(reads).toEqual([0])
    expect(digested).toBe(data.length)
  })

  test('chunks preprocessed side by side are hashed in order, each byte once', async () => {
    const data = bytesOf(50 * MiB + 7, 2)
    const { reads, rebuild } = fakeFile(data, 10 * MiB)
    const chunks = rebuild()
    const options = withChunkDigests({ chunkSize: 10 * MiB })
    // Three upload slots: Resumable.js preprocesses the first three chunks at once.
    const started = await Promise.all(chunks.slice(0, 3).map((c) => turn(options, c)))
    const rest = []
    for (const chunk of chunks.slice(3)) rest.push(await turn(options, chunk))
    expect([...started, ...rest]).toEqual(chunks.map((c) => sha256(data.subarray(c.startByte, c.endByte))))
    expect(reads).toEqual([0])
    expect(digested).toBe(data.length)
  })

  test('a failed read costs only its chunks their digests; the next are read anew; a chunk asked again is hashed again', async () => {
    const data = bytesOf(24 * MiB, 3)
    let failing = true
    // The file cannot be read from 9 MiB on: the chunks asked for with it (8..15, one block) fail.
    const { reads, rebuild } = fakeFile(data, MiB, () => (failing ? 9 * MiB : null))
    const chunks = rebuild()
    const options = withChunkDigests({ chunkSize: MiB })
    const digests = []
    for (const chunk of chunks) digests.push(await turn(options, chunk))
    const own = chunks.map((c) => sha256(data.subarray(c.startByte, c.endByte)))
    expect(digests.slice(0, 8)).toEqual(own.slice(0, 8))
    expect(digests.slice(8, 16)).toEqual(Array(8).fill(undefined))
    expect(digests.slice(16)).toEqual(own.slice(16))
    expect(reads).toEqual([0, 16 * MiB])

    // Resumable.js rebuilds a file's chunks when it is retried: the new chunks are hashed afresh.
    failing = false
    const again = rebuild()
    expect(await turn(options, again[9])).toBe(own[9])
    expect(reads.at(-1)).toBe(9 * MiB)
  })
})
