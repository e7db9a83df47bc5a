/**
 * Values the edit component puts into the form instead of an upload reference; the save hooks
 * read them. Neither can be mistaken for a reference (40 hex digits).
 */

/** Remove the record's current file on Save. */
export const CLEAR_MARKER = '__clear__'

/** An upload is still running: the server refuses a Save with it rather than save no file. */
export const PENDING_MARKER = '__pending__'

/**
 * With `multiple`, a file whose upload failed for good and is still in the list: the Save is
 * refused with words that say to remove it (waiting, as for PENDING_MARKER, never helps).
 */
export const FAILED_MARKER = '__failed__'

/**
 * Like FAILED_MARKER, for a file whose upload Retry can still finish (the connection gave up, the
 * session ended, the upload expired): the refusal offers Retry too.
 */
export const FAILED_RETRYABLE_MARKER = '__failed_retryable__'

/**
 * With `multiple`, a slot that keeps one of the record's current files: `__keep__:<its key>`. The
 * server accepts only keys the record holds now; a bare key is no reference and is refused.
 */
export const KEEP_PREFIX = '__keep__:'
