import type { ComponentLoader } from 'adminjs'
import type { StorageBackend } from '../store/backend.js'
import type { LocalStorageOptions } from '../store/local/index.js'
import type { UploadCompleteHook, UploadPathOption, UploadStartHook } from '../upload/hook-types.js'
import type { S3StorageOption } from './s3-backend.js'
import { DEFAULT_CHUNK_SIZE, DEFAULT_SIMULTANEOUS_UPLOADS, type ResumablePropertyMapping } from '../shared/custom.js'

export type { ResumablePropertyMapping } from '../shared/custom.js'
export type { StorageBackend } from '../store/backend.js'
export type {
  UploadCompleteContext, UploadCompleteResult, UploadHookContext, UploadPathOption, UploadStartResult,
} from '../upload/hook-types.js'

export interface ResumableValidation {
  /** Largest accepted file in bytes. Default 10 GiB. Checked on every chunk (413). */
  maxSize?: number
  /** e.g. `['video/*', 'application/pdf']`. Empty or absent: any. Checked on every chunk (415). */
  mimeTypes?: string[]
  /** e.g. `['mp4', 'pdf']`. Empty or absent: any. */
  extensions?: string[]
  /** A record cannot be created without a file, nor have its file cleared. */
  required?: boolean
}

export interface ResumableUploadFeatureOptions {
  componentLoader: ComponentLoader
  properties: ResumablePropertyMapping
  /**
   * `{ local: { directory, stagingDirectory? } }`, `{ s3: { bucket, sequelize, ... } }` (files in
   * an S3-compatible bucket, upload state in the app's database), or a backend of your own: a staging store for
   * uploads in progress and a file storage for saved files (see src/store/staging.ts and
   * file-storage.ts), e.g. `{ staging: new MyStaging(...), files: new MyFiles(...) }`.
   */
  storage: { local: LocalStorageOptions } | { s3: S3StorageOption } | StorageBackend
  /**
   * Where the finished file goes, relative to the storage root: a folder (the file lands in
   * `<folder>/<record id>/<file name>`) or a function of the saved record and the sanitised name.
   * Default: `<resource id>/<record id>/<file name>`.
   */
  uploadPath?: UploadPathOption
  validation?: ResumableValidation
  /**
   * The property holds an ordered list of files, as @adminjs/upload's `multiple`: every mapped
   * column holds an array (a JSON or ARRAY column), one entry per file, in the same order.
   */
  multiple?: boolean
  /**
   * Bytes per chunk, sent to Resumable.js and enforced by the route. Default 5 MiB. With S3 storage
   * it is raised where S3's part limits need it (at least 5 MiB, at most 10,000 parts for maxSize).
   */
  chunkSize?: number
  /** Resumable.js `forceChunkSize`. Default false (the last chunk absorbs the remainder). */
  forceChunkSize?: boolean
  /** Chunks in flight per browser. Default 3. */
  simultaneousUploads?: number
  /**
   * What one admin may keep in staging at once (across every property whose uploads share the staging
   * folder): uploads not yet saved (in progress,
   * or finished and waiting for Save). Checked only when a chunk would start a new upload; over a
   * limit the chunk gets 429. Existing uploads always go on.
   */
  limits?: {
    /** Default 20. `Infinity` for no limit. */
    uploadsPerAdmin?: number
    /**
     * The sum of their declared sizes. Default: no limit of its own, since `uploadsPerAdmin` ×
     * `validation.maxSize` already bounds it; set it when the staging disk is smaller than that.
     */
    bytesPerAdmin?: number
  }
  /**
   * Called before a new upload is created (on its first chunk), with nothing stored yet. Refuse it
   * (a quota, a business rule) by returning `{ refuse: message }` or throwing UploadRefused: the
   * chunk gets 422 `upload_refused` with that message, and the component shows it.
   */
  onUploadStart?: UploadStartHook
  /**
   * Called once the last chunk completed the file, before its reference is handed out. Refuse it
   * (a virus scan) the same way: the upload is removed and the completing request gets 422 with the
   * message. Or return `{ metadata }` (JSON) to keep with the upload: Save writes it to
   * `properties.metadata`. Runs once per upload in a process; a process that dies between the
   * hook and recording its answer lets the next request run it again, so make it idempotent.
   */
  onUploadComplete?: UploadCompleteHook
  expiry?: {
    /** Unfinished uploads, and finished ones never saved, are removed after this long idle. Default 24 h. */
    ttlMs?: number
    /** How often the sweep runs; 0 disables the timer (call `sweepExpiredUploads(admin)` yourself). Default 1 h. */
    sweepIntervalMs?: number
  }
}

export const DEFAULTS = {
  file: 'file',
  maxSize: 10 * 1024 ** 3,
  chunkSize: DEFAULT_CHUNK_SIZE,
  simultaneousUploads: DEFAULT_SIMULTANEOUS_UPLOADS,
  ttlMs: 24 * 3600_000,
  sweepIntervalMs: 3600_000,
  uploadsPerAdmin: 20,
} as const

export { CLEAR_MARKER, PENDING_MARKER } from '../shared/markers.js'
