/**
 * S3's multipart limits, and the chunk size that keeps a Resumable.js upload inside them: one chunk
 * is one part, so the chunk size decides both the smallest part and the number of parts.
 */
export const MiB = 1024 * 1024
export const GiB = 1024 * MiB
/** Every part but the last must be at least this big (S3 answers EntityTooSmall otherwise). */
export const MIN_PART_SIZE = 5 * MiB
export const MAX_PART_SIZE = 5 * GiB
export const MAX_PARTS = 10_000
/** The largest object S3 stores. */
export const MAX_OBJECT_SIZE = 5 * 1024 * GiB

/**
 * Resumable.js (without forceChunkSize) makes `floor(size / chunk)` chunks and lets the last one
 * absorb the remainder, so the last part lies between `chunk` and `2 * chunk - 1` bytes: it is never
 * below the minimum (unless the whole file is one part, which S3 accepts), but it must still fit
 * the 5 GiB part limit.
 */
const LARGEST_CHUNK = Math.floor((MAX_PART_SIZE + 1) / 2)

/**
 * The chunk size to hand to Resumable.js for files up to `maxSize` bytes: at least `wanted`, at
 * least 5 MiB, and big enough that no file up to `maxSize` needs more than 10,000 parts — whether
 * or not the client absorbs the remainder into the last chunk (`forceChunkSize` makes one more
 * chunk). Rounded up to whole MiB so that the value reads well in logs and the browser.
 * Throws a RangeError for a configuration no chunk size can serve (checked at start-up, not per
 * request, so a bad configuration never starts an upload that cannot finish).
 */
export function s3ChunkSize(maxSize: number, wanted: number): number {
  if (!Number.isSafeInteger(maxSize) || maxSize < 1) {
    throw new RangeError(`S3 storage needs a finite maxSize in bytes (got ${maxSize}): the chunk size is derived from it.`)
  }
  if (maxSize > MAX_OBJECT_SIZE) {
    throw new RangeError(`maxSize ${maxSize} is larger than the largest S3 object (5 TiB).`)
  }
  if (!Number.isSafeInteger(wanted) || wanted < 1) throw new RangeError(`chunkSize must be a positive integer (got ${wanted}).`)
  const forParts = Math.max(Math.floor(maxSize / (MAX_PARTS + 1)) + 1, Math.ceil(maxSize / MAX_PARTS))
  const size = Math.ceil(Math.max(wanted, MIN_PART_SIZE, forParts) / MiB) * MiB
  if (size > LARGEST_CHUNK) {
    throw new RangeError(
      `No chunk size fits S3's limits for chunkSize ${wanted} and maxSize ${maxSize}: the last part could exceed 5 GiB.`,
    )
  }
  return size
}
