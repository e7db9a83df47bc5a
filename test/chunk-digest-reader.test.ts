/**
 * The chunk reader behind the edit component's digests (components/chunk-digest-reader.ts) on a
 * stream that only gives plain chunks of its own sizes (no BYOB reads): each chunk's digest must
 * still be of exactly its bytes, across pieces that straddle chunk boundaries, and a call that
 * starts where the last one ended reads on from the same stream.
 */
import { createHash } from 'node:crypto'
import { describe, expect, test } from '@jest/globals'
import { createChunkReader } from '../components/chunk-digest-reader.js'

const sha256 = (data: Uint8Array): string => createHash('sha256').update(data).digest('hex')

/** A Blob-like file whose streams give plain pieces of 3000 bytes (a size no chunk boundary falls on); slice starts recorded. */
function plainFile(data: Uint8Array) {
  const starts: number[] = []
  const file = {
    size: data.length,
    slice(start: number) {
      starts.push(start)
      let at = start
      return {
        stream: () => new ReadableStream<Uint8Array>({
          pull(controller) {
            if (at >= data.length) return controller.close()
            controller.enqueue(data.slice(at, at + 3000))
            at += 3000
          },
        }),
      }
    },
  }
  return { file: file as unknown as Blob, starts }
}

describe('the chunk reader on a stream of plain pieces', () => {
  test('every chunk hashed from exactly its bytes; consecutive calls read on from one stream', async () => {
    const data = new Uint8Array(100_000).map((_, i) => (i * 31 + 7) & 0xff)
    const { file, starts } = plainFile(data)
    const reader = createChunkReader()
    const first = await reader.digests(file, 1, 0, [10_000, 20_000, 30_000])
    const next = await reader.digests(file, 1, 30_000, [40_000, 100_000])
    expect([...first, ...next]).toEqual([0, 10_000, 20_000, 30_000, 40_000].map((start, i) =>
      sha256(data.subarray(start, [10_000, 20_000, 30_000, 40_000, 100_000][i]))))
    expect(starts).toEqual([0])
    // Elsewhere in the file (a chunk hashed again): a stream opened where it starts.
    expect(await reader.digests(file, 1, 10_000, [20_000])).toEqual([sha256(data.subarray(10_000, 20_000))])
    expect(starts).toEqual([0, 10_000])
  })

  test('a file shorter than its chunks say fails those chunks with a clear error', async () => {
    const data = new Uint8Array(5000)
    const { file } = plainFile(data)
    await expect(createChunkReader().digests(file, 2, 0, [4000, 6000])).rejects.toThrow('the file ended before its last chunk')
  })
})

describe('the chunk reader with several files side by side', () => {
  test('calls for two files in turn each read on from their own stream', async () => {
    const a = new Uint8Array(60_000).map((_, i) => (i * 7) & 0xff)
    const b = new Uint8Array(60_000).map((_, i) => (i * 13 + 1) & 0xff)
    const fa = plainFile(a)
    const fb = plainFile(b)
    const reader = createChunkReader()
    const got: string[] = []
    for (let start = 0; start < 60_000; start += 20_000) {
      got.push(...await reader.digests(fa.file, 1, start, [start + 20_000]))
      got.push(...await reader.digests(fb.file, 2, start, [start + 20_000]))
    }
    const own = (data: Uint8Array, start: number) => sha256(data.subarray(start, start + 20_000))
    expect(got).toEqual([0, 20_000, 40_000].flatMap((start) => [own(a, start), own(b, start)]))
    expect(fa.starts).toEqual([0])
    expect(fb.starts).toEqual([0])
  })
})
