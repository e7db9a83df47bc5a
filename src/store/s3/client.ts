import type { S3Client, S3ClientConfig } from '@aws-sdk/client-s3'
import { StorageFailure, StorageUnavailable } from '../../errors.js'

/** Where the plugin keeps its objects. */
export interface S3Location {
  bucket: string
  /** Key prefix of everything the plugin writes (staging and, unless `filePrefix` says otherwise, files). */
  prefix: string
}

/** The SDK, loaded on first use: a site on local disk never needs `@aws-sdk/client-s3` installed. */
export type S3Sdk = typeof import('@aws-sdk/client-s3')

let sdk: Promise<S3Sdk> | null = null
export function loadS3Sdk(): Promise<S3Sdk> {
  sdk ??= import('@aws-sdk/client-s3').catch((error: unknown) => {
    sdk = null
    throw new Error(`S3 storage needs the optional peer dependency @aws-sdk/client-s3 (npm install @aws-sdk/client-s3): ${String(error)}`)
  })
  return sdk
}

export interface S3Clients {
  sdk: S3Sdk
  /** For small, repeatable requests: the SDK's own retries apply. */
  client: S3Client
  /**
   * For UploadPart with a streamed request body: a retry could only resend a body that is already
   * consumed, so the SDK must not retry; the failure goes back to Resumable.js, which resends the chunk.
   */
  streaming: S3Client
}

/**
 * Builds the clients from an SDK configuration (credentials come from the standard AWS chain when
 * none are given). Checksums only when required: a streamed body with a CRC trailer is sent with
 * aws-chunked encoding, which several S3-compatible servers (s3rver, older MinIO and Ceph) store
 * verbatim, framing and all.
 */
export async function createS3Clients(config: S3ClientConfig): Promise<S3Clients> {
  const loaded = await loadS3Sdk()
  const base: S3ClientConfig = { requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED', ...config }
  return {
    sdk: loaded,
    client: new loaded.S3Client(base),
    streaming: new loaded.S3Client({ ...base, maxAttempts: 1 }),
  }
}

interface SdkError {
  name?: string
  Code?: string
  $metadata?: { httpStatusCode?: number }
  $fault?: 'client' | 'server'
  code?: string
}

function statusOf(error: unknown): number | undefined {
  return (error as SdkError | null)?.$metadata?.httpStatusCode
}

function nameOf(error: unknown): string {
  const e = error as SdkError | null
  return e?.name ?? e?.Code ?? ''
}

/** The object (or upload) named in the request does not exist. */
export function isNotFound(error: unknown): boolean {
  return statusOf(error) === 404 || ['NotFound', 'NoSuchKey', 'NoSuchUpload'].includes(nameOf(error))
}

/**
 * The server does not implement the operation (s3rver answers AbortMultipartUpload and ListParts
 * with 405, ListMultipartUploads and UploadPartCopy with 501): callers fall back or go without.
 */
export function isUnsupported(error: unknown): boolean {
  const status = statusOf(error)
  return status === 405 || status === 501 || ['MethodNotAllowed', 'NotImplemented'].includes(nameOf(error))
}

/**
 * The server does not take `If-None-Match` on this request: 501, or a 400 naming the header as an
 * invalid argument (some S3-compatible servers predate conditional writes). The write is then sent
 * without it; the shared key table still guards the key.
 */
export function refusesCondition(error: unknown): boolean {
  return isUnsupported(error) || (statusOf(error) === 400 && ['InvalidArgument', 'InvalidRequest', 'NotImplemented'].includes(nameOf(error)))
}

/**
 * A conditional write found the key taken (412 for `If-None-Match: *`; 409 when S3 saw two
 * conditional writes of one key at once). Looked for in `cause` too, since typed errors keep the SDK's.
 */
export function isPreconditionFailed(error: unknown): boolean {
  const cause = (error as { cause?: unknown } | null)?.cause ?? error
  const status = statusOf(cause)
  return status === 412 || ['PreconditionFailed', 'ConditionalRequestConflict'].includes(nameOf(cause))
}

const TRANSIENT_NAMES = ['SlowDown', 'ServiceUnavailable', 'InternalError', 'RequestTimeout', 'TimeoutError', 'ThrottlingException']
const TRANSIENT_CODES = ['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN', 'ENOTFOUND']

/** The multipart upload itself is gone from the object store (aborted by a lifecycle rule or by hand). */
export function isNoSuchUpload(error: unknown): boolean {
  const cause = (error as { cause?: unknown } | null)?.cause ?? error
  return nameOf(cause) === 'NoSuchUpload'
}

/** A failure a later retry of the same request can get past (server error, throttling, no connection). */
export function isTransient(error: unknown): boolean {
  const status = statusOf(error)
  if (status !== undefined && (status >= 500 || status === 429) && !isUnsupported(error)) return true
  if (TRANSIENT_NAMES.includes(nameOf(error))) return true
  const code = (error as SdkError | null)?.code ?? ''
  return TRANSIENT_CODES.includes(code) || TRANSIENT_CODES.some((c) => String((error as Error)?.message ?? '').includes(c))
}

/**
 * The typed error the route answers with: a server that is down or refusing is retryable
 * (StorageUnavailable, 503 + Retry-After, which Resumable.js retries); anything else the object store
 * refused (access denied, no such bucket) is a StorageFailure the operator has to fix.
 */
export function storageError(error: unknown, doing: string): Error {
  if (error instanceof StorageUnavailable || error instanceof StorageFailure) return error
  const detail = nameOf(error) || (error as Error)?.message || String(error)
  const typed = isTransient(error)
    ? new StorageUnavailable(`Object storage is unavailable while ${doing} (${detail}); retry shortly.`)
    : new StorageFailure(`Object storage refused ${doing} (${detail}).`)
  // Kept so that a caller can still tell e.g. NoSuchUpload from NoSuchBucket.
  return Object.assign(typed, { cause: error })
}
