import { describe, expect, test } from '@jest/globals'
import { chunkCount, chunkLength } from '../src/shared/arithmetic.js'
import { GiB, MAX_PART_SIZE, MAX_PARTS, MiB, MIN_PART_SIZE, s3ChunkSize } from '../src/store/s3-part-limits.js'

/** Every part size a file of `totalSize` gets from Resumable.js with this chunk size (first, middle, last). */
function partsOf(totalSize: number, chunkSize: number, forceChunkSize: boolean) {
  const layout = { totalSize, chunkSize, forceChunkSize }
  const count = chunkCount(layout)
  return { count, first: chunkLength(layout, 1), last: chunkLength(layout, count) }
}

describe('s3ChunkSize', () => {
  test('keeps a wanted size that already fits, rounded up to whole MiB', () => {
    expect(s3ChunkSize(1 * GiB, 8 * MiB)).toBe(8 * MiB)
    expect(s3ChunkSize(1 * GiB, 8 * MiB + 1)).toBe(9 * MiB)
  })

  test('raises a small wanted size to the 5 MiB part minimum', () => {
    expect(s3ChunkSize(100 * MiB, 1 * MiB)).toBe(MIN_PART_SIZE)
    expect(s3ChunkSize(10, 1)).toBe(MIN_PART_SIZE)
  })

  test('raises the size so that maxSize needs at most 10,000 parts, with and without forceChunkSize', () => {
    for (const maxSize of [100 * GiB, 100 * GiB + 1, 10_001 * 5 * MiB, 10_000 * 5 * MiB + 1, 5 * 1024 * GiB, 48_828_125 * 1024 * 5 + 7]) {
      const size = s3ChunkSize(maxSize, 1 * MiB)
      for (const force of [false, true]) {
        const parts = partsOf(maxSize, size, force)
        expect(parts.count).toBeLessThanOrEqual(MAX_PARTS)
        expect(parts.last).toBeLessThanOrEqual(MAX_PART_SIZE)
        if (parts.count > 1) expect(parts.first).toBeGreaterThanOrEqual(MIN_PART_SIZE)
      }
      // Not needlessly large: one MiB less would break one of the limits (or the 5 MiB floor).
      const smaller = size - MiB
      if (smaller >= MIN_PART_SIZE) {
        expect(Math.max(partsOf(maxSize, smaller, false).count, partsOf(maxSize, smaller, true).count)).toBeGreaterThan(MAX_PARTS)
      }
    }
  })

  test('without forceChunkSize the last part never drops below the chunk size: every file size up to maxSize fits', () => {
    const maxSize = 10_000 * 5 * MiB + 12_345
    const size = s3ChunkSize(maxSize, 5 * MiB)
    for (const totalSize of [1, size - 1, size, size + 1, 2 * size - 1, 2 * size, 3 * size + 17, maxSize - 1, maxSize]) {
      const parts = partsOf(totalSize, size, false)
      expect(parts.count).toBeLessThanOrEqual(MAX_PARTS)
      if (parts.count > 1) expect(parts.last).toBeGreaterThanOrEqual(size)
      else expect(parts.last).toBe(totalSize)
      expect(parts.last).toBeLessThan(2 * size)
    }
  })

  test('refuses configurations no chunk size can serve', () => {
    expect(() => s3ChunkSize(Infinity, 5 * MiB)).toThrow(RangeError)
    expect(() => s3ChunkSize(0, 5 * MiB)).toThrow(RangeError)
    expect(() => s3ChunkSize(6 * 1024 * GiB, 5 * MiB)).toThrow(/5 TiB/)
    expect(() => s3ChunkSize(1 * GiB, 0)).toThrow(RangeError)
    expect(() => s3ChunkSize(1 * GiB, 1.5)).toThrow(RangeError)
    // A wanted chunk whose last part (up to twice the chunk) could pass 5 GiB.
    expect(() => s3ChunkSize(100 * GiB, 3 * GiB)).toThrow(/5 GiB/)
    expect(s3ChunkSize(100 * GiB, 2 * GiB)).toBe(2 * GiB)
  })
})
