/**
 * Direct uploads to S3 (`storage: { s3: { ..., upload: 'direct' } }`): the browser PUTs each chunk to
 * the bucket under a URL an app host signed for exactly that part; the chunk route only signs,
 * records and completes. Both the edit components and the route read this file, so neither can
 * send or expect a shape the other does not know.
 *
 * Every request below is made on the chunk route (`<rootPath>/api/resumable/:resourceId/:property`)
 * with the `X-Requested-With` header and the admin's session cookie, and carries chunk 1's
 * Resumable.js parameters in its query string (`chunkParams(file, 1, chunking)`), as the cancel
 * DELETE does: the upload is found by identifier and owner exactly as for a chunk POST.
 *
 * - The test GET is Resumable.js's own, unchanged: in direct mode it answers from the recorded
 *   parts (200 held, 204 wanted; with `resumableChunkSha256` only when the recorded part has it).
 * - `POST <route>/direct/sign`, body `SignRequest`: after the access check, ownership, the limits
 *   and `onUploadStart` (the first time), answers `SignAnswer`. Lengths come from the upload's
 *   chunk arithmetic, never from the client. Which parts the upload holds is answered only when
 *   asked (`held: true`, a page's first sign): the page knows what it sent since, and the answer
 *   costs the bucket a ListParts.
 * - `POST <route>/direct/parts`, body `PartsReport`: records the ETags the bucket gave the browser.
 *   The report that makes the upload whole completes it (once across hosts: CompleteMultipartUpload
 *   with the recorded ETags, the content check on the object's first bytes, the completion gate) and
 *   answers like the chunk POST that completes a file, or names the parts to send again.
 * - The DELETE (cancel) and the reference GET are unchanged.
 */

/** Sub-paths of the chunk route, appended after `/:resourceId/:propertyPath`. */
export const DIRECT_PATH = {
  sign: 'direct/sign',
  parts: 'direct/parts',
} as const

/** At most this many parts are signed or reported in one request. */
export const DIRECT_BATCH_MAX = 32

/** Bodies of the direct requests are JSON and never larger than this. */
export const DIRECT_BODY_MAX_BYTES = 16 * 1024

export interface PartToSignRequest {
  partNumber: number
  /** The chunk's SHA-256 as 64 lowercase hex digits; signed, so the PUT must carry exactly it. */
  sha256?: string
}

export interface SignRequest {
  parts: PartToSignRequest[]
  /** Ask which parts the upload holds (a page that has not asked yet: after a reload, another tab). */
  held?: boolean
}

export interface SignedPartAnswer {
  partNumber: number
  url: string
  /** Sent with the PUT exactly as given: each is part of the signature. */
  headers: Record<string, string>
  /** Epoch milliseconds after which the bucket refuses the URL: sign again before. */
  expiresAt: number
}

export interface SignAnswer {
  status: 'signed'
  parts: SignedPartAnswer[]
  /**
   * Part numbers the upload already holds (recorded, confirmed by ListParts where the bucket has it),
   * when the request asked (`held: true`).
   */
  held?: number[]
}

export interface ReportedPart {
  partNumber: number
  /** The `ETag` response header of the bucket's answer to the PUT, quotes included. */
  etag: string
}

export interface PartsReport {
  parts: ReportedPart[]
  /**
   * The whole file's SHA-256 (64 lowercase hex digits), hashed by the browser in order over the
   * same bytes whose per-part digests the bucket verified; sent with the report that completes the
   * upload. The app never sees the bytes in direct mode: this is what the checksum column records.
   */
  fileSha256?: string
}

/**
 * `partial`: recorded, more parts to come. `complete`: the upload is whole and the reference is
 * handed out (as for a completing chunk POST). `resend`: the bucket refused these parts at
 * completion (or they were never held): PUT them again (sign again first), then report again.
 */
export type PartsAnswer =
  | { status: 'partial'; held: number[] }
  | { status: 'complete'; reference: string }
  | { status: 'resend'; parts: number[] }
