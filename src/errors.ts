/**
 * Every failure the chunk route can report is one of these classes, and each class maps to exactly
 * one HTTP status. The route turns them into JSON in one place (`route/respond.ts`), so a new check
 * never has to think about status codes or response shapes.
 */
export abstract class ResumableError extends Error {
  abstract readonly status: number
  /** Machine-readable code, stable across releases; the message is for humans. */
  abstract readonly code: string
  /** Seconds the client should wait before retrying (sent as Retry-After). */
  readonly retryAfter?: number

  constructor(message: string) {
    super(message)
    this.name = new.target.name
  }

  toJSON(): { status: 'error'; code: string; message: string } {
    return { status: 'error', code: this.code, message: this.message }
  }
}

/** A parameter is missing, malformed, out of range or inconsistent with the chunk arithmetic. */
export class InvalidRequest extends ResumableError {
  readonly status = 400
  readonly code = 'invalid_request'
}

/** No AdminJS session: the admin must log in again. */
export class NotAuthenticated extends ResumableError {
  readonly status = 401
  readonly code = 'not_authenticated'
}

/** Logged in, but not allowed: missing X-Requested-With, action not accessible, or not their upload. */
export class Forbidden extends ResumableError {
  readonly status = 403
  readonly code = 'forbidden'
}

/** Unknown resource, property, record or file. */
export class NotFound extends ResumableError {
  readonly status = 404
  readonly code = 'not_found'
}

export class MethodNotAllowed extends ResumableError {
  readonly status = 405
  readonly code = 'method_not_allowed'
}

/** The same identifier came back with another total size, chunk size or file name. */
export class UploadConflict extends ResumableError {
  readonly status = 409
  readonly code = 'conflict'
}

/** The upload existed but was swept by expiry: the client must start it again. */
export class UploadExpired extends ResumableError {
  readonly status = 410
  readonly code = 'expired'
}

/** The whole file (or a request body) is larger than allowed. */
export class TooLarge extends ResumableError {
  readonly status = 413
  readonly code = 'too_large'
}

/** The file's type or extension is not allowed. */
export class TypeNotAllowed extends ResumableError {
  readonly status = 415
  readonly code = 'type_not_allowed'
}

/** Starting one more upload would pass the admin's limit of unfinished uploads (count or bytes). */
export class TooManyUploads extends ResumableError {
  readonly status = 429
  readonly code = 'too_many_uploads'
}

/** Another request is writing this very chunk right now; retry shortly. */
export class ChunkBusy extends ResumableError {
  readonly status = 503
  readonly code = 'chunk_busy'
  readonly retryAfter = 1
}

/** Storage failed (disk full, permissions...). Retryable: nothing was marked as held. */
export class StorageFailure extends ResumableError {
  readonly status = 507
  readonly code = 'storage_failure'
}

/** A download Range that lies outside the file. */
export class RangeNotSatisfiable extends ResumableError {
  readonly status = 416
  readonly code = 'range_not_satisfiable'
}
