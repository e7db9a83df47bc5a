import { isUnsupported, refusesCondition, storageError, type S3Clients, type S3Location } from './client.js'
import { abortMultipart, completeMultipart, createMultipart, type PartEtag } from './multipart.js'
import { GiB } from '../s3-part-limits.js'

/** CopyObject copies objects up to 5 GiB; above that only a multipart copy does. */
export const COPY_OBJECT_LIMIT = 5 * GiB
/** Parts of a multipart copy: well inside S3's 5 MiB..5 GiB, few requests for large files. */
export const COPY_PART_SIZE = 512 * 1024 * 1024

/** The inclusive byte ranges a multipart copy of `size` bytes sends, one per UploadPartCopy. */
export function copyRanges(size: number, partSize: number = COPY_PART_SIZE): Array<{ partNumber: number; start: number; end: number }> {
  if (!Number.isSafeInteger(size) || size < 1) throw new RangeError(`Nothing to copy (size ${size}).`)
  const ranges = []
  for (let start = 0, n = 1; start < size; start += partSize, n++) ranges.push({ partNumber: n, start, end: Math.min(start + partSize, size) - 1 })
  if (ranges.length > 10_000) throw new RangeError(`A copy of ${size} bytes needs more than 10,000 parts of ${partSize} bytes.`)
  return ranges
}

export interface CopyOptions {
  /** Size from which the copy is multipart (tests lower it; S3 needs it at 5 GiB or below). */
  multipartFrom?: number
  partSize?: number
}

/** CopySource is "bucket/key", URL-encoded segment by segment (a `/` inside the key must stay a `/`). */
function copySource(where: S3Location, key: string): string {
  return `${where.bucket}/${key.split('/').map(encodeURIComponent).join('/')}`
}

/**
 * Copies `from` to `to` inside the bucket without the bytes passing through the app server: one
 * CopyObject below the limit, a multipart copy (UploadPartCopy per range) above. Either way the
 * object appears under `to` whole or not at all — S3 makes a key visible only when the PUT, copy or
 * CompleteMultipartUpload succeeds — so a reader never sees a half-copied file.
 */
export async function serverSideCopy(s3: S3Clients, where: S3Location, from: string, to: string, size: number, contentType: string, options: CopyOptions = {}): Promise<void> {
  if (size < (options.multipartFrom ?? COPY_OBJECT_LIMIT)) {
    const copy = (conditional: boolean) => s3.client.send(new s3.sdk.CopyObjectCommand({
      Bucket: where.bucket, Key: to, CopySource: copySource(where, from), ContentType: contentType, MetadataDirective: 'REPLACE',
      IfNoneMatch: conditional ? '*' : undefined,
    }))
    try {
      // `If-None-Match: *` makes the object store itself refuse a copy onto a taken key (412). A
      // server that does not implement the condition on copies refuses it (refusesCondition); the
      // copy then goes without it, guarded by the shared key table alone.
      await copy(true).catch((error: unknown) => (refusesCondition(error) ? copy(false) : Promise.reject(error)))
      return
    } catch (error) {
      throw storageError(error, 'copying the finished upload into place')
    }
  }
  const uploadId = await createMultipart(s3, where, to, contentType)
  try {
    const parts: PartEtag[] = []
    for (const range of copyRanges(size, options.partSize)) {
      const out = await s3.client.send(
        new s3.sdk.UploadPartCopyCommand({
          Bucket: where.bucket,
          Key: to,
          UploadId: uploadId,
          PartNumber: range.partNumber,
          CopySource: copySource(where, from),
          CopySourceRange: `bytes=${range.start}-${range.end}`,
        }),
      )
      const etag = out.CopyPartResult?.ETag
      if (!etag) throw new Error('UploadPartCopy answered without an ETag')
      parts.push({ partNumber: range.partNumber, etag })
    }
    await completeMultipart(s3, where, to, uploadId, parts, { ifNoneMatch: true })
  } catch (error) {
    // The half-made copy never becomes visible; its parts are given up (or left to the lifecycle rule).
    await abortMultipart(s3, where, to, uploadId).catch(() => undefined)
    if (isUnsupported(error)) throw storageError(error, 'copying a file above 5 GiB (this server has no UploadPartCopy)')
    throw storageError(error, 'copying the finished upload into place')
  }
}
