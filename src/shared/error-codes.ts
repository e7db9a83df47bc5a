/**
 * The machine-readable `code` of every error the chunk route answers (`{status:'error', code,
 * message}`). The server's error classes (src/errors.ts) take their codes from here and the edit
 * component reacts only to these, so neither side can check for a code the other never sends.
 */
export const ERROR_CODE = {
  invalidRequest: 'invalid_request',
  notAuthenticated: 'not_authenticated',
  forbidden: 'forbidden',
  crossSite: 'cross_site',
  notFound: 'not_found',
  /** The record names a file the storage does not hold (removed, or the storage was switched). */
  fileMissing: 'file_missing',
  methodNotAllowed: 'method_not_allowed',
  conflict: 'conflict',
  expired: 'expired',
  tooLarge: 'too_large',
  typeNotAllowed: 'type_not_allowed',
  chunkBusy: 'chunk_busy',
  chunkDigestMismatch: 'chunk_digest_mismatch',
  storageFailure: 'storage_failure',
  storageUnavailable: 'storage_unavailable',
  tooManyUploads: 'too_many_uploads',
  uploadRefused: 'upload_refused',
  rangeNotSatisfiable: 'range_not_satisfiable',
  /** A request of the other upload mode: a chunk POST to a direct property, or a direct request to a through-app one. */
  wrongUploadMode: 'wrong_upload_mode',
} as const

export type ErrorCode = typeof ERROR_CODE[keyof typeof ERROR_CODE]

export const ERROR_CODES: readonly ErrorCode[] = Object.values(ERROR_CODE)

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && (ERROR_CODES as readonly string[]).includes(value)
}
