/**
 * The chunk arithmetic of the npm `resumablejs` 1.1.0 client, recomputed on the server so that no
 * client-declared count or size is ever trusted.
 *
 * Without `forceChunkSize`, chunks 1..n-1 are exactly `chunkSize` bytes and the last one absorbs the
 * remainder (between chunkSize and 2*chunkSize-1 bytes, or the whole file when smaller than a chunk).
 * With `forceChunkSize`, every chunk is at most `chunkSize` and the last one is the remainder.
 */
export interface ChunkLayout {
  totalSize: number
  chunkSize: number
  forceChunkSize: boolean
}

export function chunkCount({ totalSize, chunkSize, forceChunkSize }: ChunkLayout): number {
  if (forceChunkSize) return Math.max(Math.ceil(totalSize / chunkSize), 1)
  return Math.max(Math.floor(totalSize / chunkSize), 1)
}

/** Byte offset of 1-based chunk `n` in the file. */
export function chunkOffset(layout: ChunkLayout, n: number): number {
  return (n - 1) * layout.chunkSize
}

/** Exact byte length of 1-based chunk `n`. */
export function chunkLength(layout: ChunkLayout, n: number): number {
  const count = chunkCount(layout)
  const start = chunkOffset(layout, n)
  const end = n === count ? layout.totalSize : Math.min(start + layout.chunkSize, layout.totalSize)
  return end - start
}
