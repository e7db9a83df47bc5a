import type { Readable } from 'node:stream'
import type { FinishedUpload } from './staging.js'
import type { FileStat } from './types.js'

/**
 * Where saved files live, under keys the feature builds from `uploadPath` (relative, `/`-separated).
 * The part of a backend that @adminjs/upload calls a provider.
 *
 * Contract (test/file-storage-contract.ts runs it against any implementation):
 * - Keys that could leave the storage root (`..`, absolute, empty segments, backslashes, NUL) or
 *   reach the staging area are refused with InvalidRequest by every method. The feature wraps the
 *   storage (src/preview/thumbnail-storage.ts) and also refuses the thumbnails' folder there: a
 *   storage needs no rule of its own for it.
 * - `place` makes the whole file appear under `key` in one step, and never replaces what is
 *   there: it answers false and changes nothing when the key is taken. So a file a record points at
 *   keeps its bytes until that record points elsewhere, and concurrent Saves cannot overwrite each
 *   other's files. It leaves the finished upload staged (the staging store removes it after Save).
 *   It adopts `upload.location` when it knows the kind (no bytes through this process), else it
 *   streams `upload.read()`.
 * - `read` serves an inclusive byte range; `delete` of a missing key is a no-op.
 */
export interface DownloadUrlOptions {
  /** Sent back as Content-Disposition (attachment), so the browser saves under the real name. */
  filename: string
  contentType: string
}

export interface FileStorage {
  /** Start-up (create the root, check credentials...). */
  init(): Promise<void>
  place(upload: FinishedUpload, key: string): Promise<boolean>
  stat(key: string): Promise<FileStat | null>
  read(key: string, range?: { start: number; end: number }): Readable
  delete(key: string): Promise<void>
  /**
   * Optional: a short-lived URL the browser downloads the file from directly (e.g. a presigned S3
   * GET), handed out by the download route after its access check; null streams through the app.
   */
  downloadUrl?(key: string, options: DownloadUrlOptions): Promise<string | null>
}
