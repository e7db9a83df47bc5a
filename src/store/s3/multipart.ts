import { Readable } from 'node:stream'
import { isNotFound, isUnsupported, refusesCondition, storageError, type S3Clients, type S3Location } from './client.js'
import { exactBody } from './exact-body.js'
import { sha256HexToBase64 } from './part-signer.js'
import type { PartChecksum } from '../shared-state/uploads.js'
import type { ChunkSink } from '../types.js'

/**
 * The S3 multipart calls the staging store makes, each turning SDK failures into the plugin's typed
 * errors. None of them decides anything: which host creates, uploads or completes is decided by the
 * shared upload state before these run.
 */
export interface PartEtag {
  partNumber: number
  etag: string
  /** The part's SHA-256 as 64 hex digits: sent in the completion of an upload created with SHA256. */
  sha256?: string | null
}

/**
 * With `checksum` 'SHA256' the object store wants `x-amz-checksum-sha256` on every part and each
 * part's checksum in the completion; without, it refuses any part checksum ("Checksum Type mismatch").
 */
export async function createMultipart(
  s3: S3Clients, where: S3Location, key: string, contentType: string, checksum: PartChecksum | null = null,
): Promise<string> {
  try {
    const out = await s3.client.send(new s3.sdk.CreateMultipartUploadCommand({
      Bucket: where.bucket,
      Key: key,
      ContentType: contentType,
      ...(checksum ? { ChecksumAlgorithm: checksum } : {}),
    }))
    if (!out.UploadId) throw new Error('CreateMultipartUpload answered without an UploadId')
    return out.UploadId
  } catch (error) {
    throw storageError(error, 'starting a multipart upload')
  }
}

/**
 * Streams one chunk as one part, straight from the request body to the object store: no file, no
 * buffer of the chunk. Returns the part's ETag only once the store has acknowledged every byte.
 * A body that is too long, too short or broken fails with its own error (InvalidRequest, or the
 * socket's), an object-store failure with StorageUnavailable / StorageFailure.
 */
export async function uploadPart(
  s3: S3Clients,
  where: S3Location,
  key: string,
  uploadId: string,
  part: { partNumber: number; length: number; body: Readable; sha256?: string; sink?: ChunkSink; checksummed?: boolean },
): Promise<string> {
  const body = exactBody(part.body, part.length, part.partNumber, part.sha256, part.sink)
  try {
    const out = await s3.streaming.send(
      new s3.sdk.UploadPartCommand({
        Bucket: where.bucket,
        Key: key,
        UploadId: uploadId,
        PartNumber: part.partNumber,
        ContentLength: part.length,
        // Only on uploads created with SHA256 (`checksummed`): AWS refuses a part checksum on one
        // created without ("Checksum Type mismatch"). The bucket then verifies the part too; the
        // digest was also checked as the bytes streamed (exactBody).
        ...(part.checksummed && part.sha256 ? { ChecksumSHA256: sha256HexToBase64(part.sha256) } : {}),
        Body: body.stream,
      }),
      { abortSignal: body.signal },
    )
    if (!out.ETag) throw new Error('UploadPart answered without an ETag')
    return out.ETag
  } catch (error) {
    // Whatever happened, the request body must not stay half read: the client is still sending it
    // and waits for an answer the route can only give once the body is consumed.
    body.detach()
    throw body.failure() ?? storageError(error, `storing part ${part.partNumber}`)
  }
}

/** With `ifNoneMatch`, the object store refuses to complete onto a taken key (where it implements that; else without). */
export async function completeMultipart(
  s3: S3Clients, where: S3Location, key: string, uploadId: string, parts: PartEtag[], options: { ifNoneMatch?: boolean } = {},
): Promise<void> {
  const complete = (conditional: boolean) => s3.client.send(
    new s3.sdk.CompleteMultipartUploadCommand({
      Bucket: where.bucket,
      Key: key,
      UploadId: uploadId,
      MultipartUpload: {
        Parts: parts.map((p) => ({ PartNumber: p.partNumber, ETag: p.etag, ...(p.sha256 ? { ChecksumSHA256: sha256HexToBase64(p.sha256) } : {}) })),
      },
      IfNoneMatch: conditional ? '*' : undefined,
    }),
  )
  try {
    await complete(!!options.ifNoneMatch).catch((error: unknown) => (options.ifNoneMatch && refusesCondition(error) ? complete(false) : Promise.reject(error)))
  } catch (error) {
    throw storageError(error, 'completing a multipart upload')
  }
}

export type AbortOutcome = 'aborted' | 'gone' | 'unsupported'

/**
 * Aborts a multipart upload so that its parts stop costing storage. 'unsupported' (s3rver answers
 * 405) is not a failure: the upload is abandoned, which is all the plugin needs — its state says
 * aborted and nothing will ever complete it; a bucket lifecycle rule (AbortIncompleteMultipartUpload)
 * reclaims the parts on servers that keep them.
 */
export async function abortMultipart(s3: S3Clients, where: S3Location, key: string, uploadId: string): Promise<AbortOutcome> {
  try {
    await s3.client.send(new s3.sdk.AbortMultipartUploadCommand({ Bucket: where.bucket, Key: key, UploadId: uploadId }))
    return 'aborted'
  } catch (error) {
    if (isNotFound(error)) return 'gone'
    if (isUnsupported(error)) return 'unsupported'
    throw storageError(error, 'aborting a multipart upload')
  }
}

export interface OpenMultipart {
  key: string
  uploadId: string
  initiated: Date | null
}

/**
 * The multipart uploads open under `prefix`, or null when the server does not list them (s3rver:
 * 501). Best effort only: the shared state is the plugin's own list; this finds uploads a crash left
 * between CreateMultipartUpload and recording its UploadId.
 */
export async function listMultipart(s3: S3Clients, where: S3Location, prefix: string): Promise<OpenMultipart[] | null> {
  const found: OpenMultipart[] = []
  let keyMarker: string | undefined
  let uploadIdMarker: string | undefined
  try {
    for (;;) {
      const out = await s3.client.send(
        new s3.sdk.ListMultipartUploadsCommand({ Bucket: where.bucket, Prefix: prefix, KeyMarker: keyMarker, UploadIdMarker: uploadIdMarker }),
      )
      // Every ListMultipartUploadsResult names its bucket; an answer without one is another request's
      // (fauxqs answers `?uploads` with a plain bucket listing): a server that does not list them.
      if (out.Bucket === undefined) return null
      for (const u of out.Uploads ?? []) {
        if (u.Key && u.UploadId) found.push({ key: u.Key, uploadId: u.UploadId, initiated: u.Initiated ?? null })
      }
      if (!out.IsTruncated) return found
      keyMarker = out.NextKeyMarker
      uploadIdMarker = out.NextUploadIdMarker
    }
  } catch (error) {
    if (isUnsupported(error)) return null
    throw storageError(error, 'listing multipart uploads')
  }
}
