import { chunkCount, chunkLength, chunkOffset } from '../src/shared/arithmetic.js'

const MiB = 1024 * 1024
const layout = (totalSize: number, chunkSize: number, forceChunkSize = false) => ({ totalSize, chunkSize, forceChunkSize })

describe('chunk arithmetic as resumablejs 1.1.0 computes it', () => {
  it('lets the last chunk absorb the remainder (up to 2 * chunkSize - 1 bytes)', () => {
    const l = layout(10 * MiB + 123, MiB)
    expect(chunkCount(l)).toBe(10)
    expect(chunkLength(l, 1)).toBe(MiB)
    expect(chunkLength(l, 9)).toBe(MiB)
    expect(chunkLength(l, 10)).toBe(MiB + 123)
    expect(chunkOffset(l, 10)).toBe(9 * MiB)
  })

  it('handles the off-by-one sizes around a chunk boundary', () => {
    expect(chunkCount(layout(2 * MiB - 1, MiB))).toBe(1)
    expect(chunkLength(layout(2 * MiB - 1, MiB), 1)).toBe(2 * MiB - 1)
    expect(chunkCount(layout(2 * MiB, MiB))).toBe(2)
    expect(chunkLength(layout(2 * MiB, MiB), 2)).toBe(MiB)
    expect(chunkCount(layout(2 * MiB + 1, MiB))).toBe(2)
    expect(chunkLength(layout(2 * MiB + 1, MiB), 2)).toBe(MiB + 1)
  })

  it('sends a file smaller than one chunk as one chunk of its own size', () => {
    expect(chunkCount(layout(1, MiB))).toBe(1)
    expect(chunkLength(layout(1, MiB), 1)).toBe(1)
    expect(chunkCount(layout(MiB - 1, MiB))).toBe(1)
  })

  it('with forceChunkSize, never exceeds chunkSize and the last chunk is the rest', () => {
    const l = layout(10 * MiB + 123, MiB, true)
    expect(chunkCount(l)).toBe(11)
    expect(chunkLength(l, 10)).toBe(MiB)
    expect(chunkLength(l, 11)).toBe(123)
    expect(chunkCount(layout(10 * MiB, MiB, true))).toBe(10)
    expect(chunkLength(layout(10 * MiB, MiB, true), 10)).toBe(MiB)
    expect(chunkCount(layout(1, MiB, true))).toBe(1)
  })

  it('covers every byte exactly once', () => {
    for (const [size, chunk, force] of [[1, 7, false], [13, 7, false], [14, 7, false], [20, 7, true], [21, 7, true], [5, 5, false]] as const) {
      const l = layout(size, chunk, force)
      let next = 0
      for (let n = 1; n <= chunkCount(l); n++) {
        expect(chunkOffset(l, n)).toBe(next)
        next += chunkLength(l, n)
      }
      expect(next).toBe(size)
    }
  })
})
