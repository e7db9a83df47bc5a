/**
 * The edit component's chunk hashing (components/chunk-digest.ts) hashes a file's chunks in order
 * ahead of the one whose turn it is, reading small chunks together: its digests must still be each
 * chunk's own, a chunk's turn must find its digest under way, and a failed read must only cost
 * those chunks their digests. Driven as Resumable.js 1.1.0 drives `preprocess`, on Node's File and
 * crypto.subtle.
 */
import { createHash } from 'node:crypto'
import { describe, expect, test } from '@jest/globals'
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

/** A File whose slice() calls are recorded (and can be made to fail), chunked as Resumable.js chunks it. */
function fakeFile(data: Buffer, chunkSize: number, failReads: (start: number) => boolean = () => false) {
  const file = new File([new Uint8Array(data)], 'a.bin')
  const reads: Array<[number, number]> = []
  const slice = file.slice.bind(file)
  Object.defineProperty(file, 'slice', {
    value: (start: number, end: number) => {
      reads.push([start, end])
      if (failReads(start)) return { arrayBuffer: () => Promise.reject(new Error('NotReadableError')) } as unknown as Blob
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

describe('chunk digests hashed in order, ahead of the upload', () => {
  test('every chunk gets its own digest; small chunks are read 8 MiB at a time, ahead of their turn', async () => {
    const data = bytesOf(20 * MiB + 512 * 1024, 1)
    const { reads, rebuild } = fakeFile(data, MiB)
    const chunks = rebuild()
    const options = withChunkDigests({ chunkSize: MiB })
    const first = await turn(options, chunks[0])
    await new Promise((resolve) => { setImmediate(resolve) })
    // By the end of chunk 1's turn, bytes well past it are being read: the next turns find their digests under way.
    expect(Math.max(...reads.map(([, end]) => end))).toBeGreaterThanOrEqual(16 * MiB)
    const digests = [first]
    for (const chunk of chunks.slice(1)) digests.push(await turn(options, chunk))
    expect(digests).toEqual(chunks.map((c) => sha256(data.subarray(c.startByte, c.endByte))))
    // 20 chunks in 3 reads of at most 8 MiB, in order, each byte read once.
    expect(reads).toEqual([[0, 8 * MiB], [8 * MiB, 16 * MiB], [16 * MiB, data.length]])
  })

  test('a chunk larger than a read block is read alone, and the chunks are hashed in order', async () => {
    const data = bytesOf(50 * MiB + 7, 2)
    const { reads, rebuild } = fakeFile(data, 10 * MiB)
    const chunks = rebuild()
    const options = withChunkDigests({ chunkSize: 10 * MiB })
    // Three upload slots: Resumable.js preprocesses the first three chunks at once.
    const started = await Promise.all(chunks.slice(0, 3).map((c) => turn(options, c)))
    const rest = []
    for (const chunk of chunks.slice(3)) rest.push(await turn(options, chunk))
    expect([...started, ...rest]).toEqual(chunks.map((c) => sha256(data.subarray(c.startByte, c.endByte))))
    expect(reads).toEqual(chunks.map((c) => [c.startByte, c.endByte]))
  })

  test('a failed read costs only its chunks their digests; a chunk asked again is hashed again', async () => {
    const data = bytesOf(24 * MiB, 3)
    let failing = true
    const { reads, rebuild } = fakeFile(data, MiB, (start) => failing && start === 8 * MiB)
    const chunks = rebuild()
    const options = withChunkDigests({ chunkSize: MiB })
    const digests = []
    for (const chunk of chunks) digests.push(await turn(options, chunk))
    const own = chunks.map((c) => sha256(data.subarray(c.startByte, c.endByte)))
    expect(digests.slice(0, 8)).toEqual(own.slice(0, 8))
    expect(digests.slice(8, 16)).toEqual(Array(8).fill(undefined))
    expect(digests.slice(16)).toEqual(own.slice(16))

    // Resumable.js rebuilds a file's chunks when it is retried: the new chunks are hashed afresh.
    failing = false
    const again = rebuild()
    const before = reads.length
    expect(await turn(options, again[9])).toBe(own[9])
    expect(reads.length).toBeGreaterThan(before)
  })
})
