import { ERROR_CODE, type ErrorCode } from './shared/error-codes.js'

/**
 * Every failure the chunk route can report is one of these classes, and each class maps to exactly
 * one HTTP status. The route turns them into JSON in one place (`route/respond.ts`), so a new check
 * never has to think about status codes or response shapes.
 */
export abstract class ResumableError extends Error {
  abstract readonly status: number
  /** Machine-readable code, stable across releases; the message is for humans. */
  abstract readonly code: ErrorCode
  /** Seconds the client should wait before retrying (sent as Retry-After). */
  readonly retryAfter?: number

  constructor(message: string) {
    super(message)
    this.name = new.target.name
  }

  toJSON(): { status: 'error'; code: ErrorCode; message: string } {
    return { status: 'error', code: this.code, message: this.message }
  }
}

/** A parameter is missing, malformed, out of range or inconsistent with the chunk arithmetic. */
export class InvalidRequest extends ResumableError {
  readonly status = 400
  readonly code = ERROR_CODE.invalidRequest
}

/** No AdminJS session: the admin must log in again. */
export class NotAuthenticated extends ResumableError {
  readonly status = 401
  readonly code = ERROR_CODE.notAuthenticated
}

/** Logged in, but not allowed: missing X-Requested-With, action not accessible, or not their upload. */
export class Forbidden extends ResumableError {
  readonly status = 403
  readonly code = ERROR_CODE.forbidden
}

/** A state-changing request from a page of another site or origin (no CSRF token in AdminJS). */
export class CrossSiteRequest extends ResumableError {
  readonly status = 403
  readonly code = ERROR_CODE.crossSite
}

/** Unknown resource, property, record or file. */
export class NotFound extends ResumableError {
  readonly status = 404
  readonly code = ERROR_CODE.notFound
}

/**
 * The record names a file the storage does not hold: a state the dashboard shows as such, apart
 * from an unknown record or property.
 */
export class FileMissing extends ResumableError {
  readonly status = 404
  readonly code = ERROR_CODE.fileMissing
}

export class MethodNotAllowed extends ResumableError {
  readonly status = 405
  readonly code = ERROR_CODE.methodNotAllowed
}

/** The same identifier came back with another total size, chunk size or file name. */
export class UploadConflict extends ResumableError {
  readonly status = 409
  readonly code = ERROR_CODE.conflict
}

/**
 * The request belongs to the other upload mode: a chunk POST to a property whose chunks go straight
 * to the bucket (`storage.s3.upload: 'direct'`), or a direct sign/report on one whose chunks go
 * through the app. Nothing was stored or signed.
 */
export class WrongUploadMode extends ResumableError {
  readonly status = 409
  readonly code = ERROR_CODE.wrongUploadMode
}

/** The upload existed but was swept by expiry: the client must start it again. */
export class UploadExpired extends ResumableError {
  readonly status = 410
  readonly code = ERROR_CODE.expired
}

/** The whole file (or a request body) is larger than allowed. */
export class TooLarge extends ResumableError {
  readonly status = 413
  readonly code = ERROR_CODE.tooLarge
}

/** The file's type or extension is not allowed. */
export class TypeNotAllowed extends ResumableError {
  readonly status = 415
  readonly code = ERROR_CODE.typeNotAllowed
}

/** Starting one more upload would pass the admin's limit of unfinished uploads (count or bytes). */
export class TooManyUploads extends ResumableError {
  readonly status = 429
  readonly code = ERROR_CODE.tooManyUploads
}

/**
 * The application refused the upload through `onUploadStart` or `onUploadComplete` (a quota, a
 * business rule, a virus scan). The message is the application's, shown to the admin as is.
 * Throw it from either hook, or return `{ refuse: message }`.
 */
export class UploadRefused extends ResumableError {
  readonly status = 422
  readonly code = ERROR_CODE.uploadRefused
}

/** Another request is writing this very chunk right now; retry shortly. */
export class ChunkBusy extends ResumableError {
  readonly status = 503
  readonly code = ERROR_CODE.chunkBusy
  readonly retryAfter = 1
}

/**
 * The chunk's bytes do not have the SHA-256 the client sent with them (damaged between the browser
 * and the store): nothing was stored for it. 460 is the status the tus checksum extension uses; it
 * is not among Resumable.js's permanent errors, so the client sends the chunk again.
 */
export class ChunkDigestMismatch extends ResumableError {
  readonly status = 460
  readonly code = ERROR_CODE.chunkDigestMismatch
}

/** Storage failed (disk full, permissions...). Retryable: nothing was marked as held. */
export class StorageFailure extends ResumableError {
  readonly status = 507
  readonly code = ERROR_CODE.storageFailure
}

/**
 * The object store (S3 or compatible) is down, restarting or throttling. Retryable like ChunkBusy:
 * nothing was marked as held, and the same request succeeds once the store answers again.
 */
export class StorageUnavailable extends ResumableError {
  readonly status = 503
  readonly code = ERROR_CODE.storageUnavailable
  readonly retryAfter = 2
}

/** A download Range that lies outside the file. */
export class RangeNotSatisfiable extends ResumableError {
  readonly status = 416
  readonly code = ERROR_CODE.rangeNotSatisfiable
}

/**
 * The plugin was set up wrongly. Thrown at start-up (while the feature, the store or the router is
 * built), never while serving a request, so a misconfigured app does not start instead of failing
 * its users later. `option` names the setting to fix, as the README's options table spells it.
 */
export class ConfigurationError extends Error {
  readonly option: string

  constructor(option: string, problem: string) {
    super(`adminjs-resumable: \`${option}\` ${problem}`)
    this.name = 'ConfigurationError'
    this.option = option
  }
}
