import type { CorsCheck } from './s3/cors-check.js'
import type { DirectPartStore, DirectTarget } from './s3/direct-parts.js'
import type { PartToSign, SignedPart } from './s3/part-signer.js'

/**
 * A backend whose browsers send parts straight to the object store (`storage.s3.upload: 'direct'`):
 * the part store on the shared tables, the URL signer, and the start-up check of the bucket's CORS.
 * Each call waits for the backend to be opened (the SDK loaded, the tables created).
 */
export interface DirectUploads {
  parts(): Promise<DirectPartStore>
  /** Presigned UploadPart URLs for exactly these parts of `target`; no request to the object store. */
  sign(target: DirectTarget, parts: PartToSign[]): Promise<SignedPart[]>
  /**
   * Whether the bucket lets the admin's pages PUT parts and read their ETag (ConfigurationError
   * when not), with the policy to apply, for the warning when the server cannot say.
   */
  checkCors(): Promise<CorsVerdict>
}

export interface CorsVerdict {
  check: CorsCheck
  bucket: string
  /** The CORS configuration direct uploads need, as JSON. */
  policy: string
}
