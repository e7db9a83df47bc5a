import type { Readable } from 'node:stream'

/**
 * Everything the server knows about one upload, written once when the upload starts and checked
 * on every later request. Nothing here comes from a client string without sanitising, and nothing
 * is ever used to build a file-system path except `id`, which the server computes.
 */
export interface UploadManifest {
  version: 1
  /** Server-computed: a hash of (owner, resource, property, client identifier). Also the reference. */
  id: string
  owner: string
  resourceId: string
  propertyPath: string
  /** Sanitised display name. */
  filename: string
  /** Hash of the file name the client sent, to refuse a name change under one identifier. */
  rawFilenameHash: string
  type: string
  totalSize: number
  chunkSize: number
  forceChunkSize: boolean
  chunkCount: number
  createdAt: string
}

export type UploadState = 'missing' | 'expired' | 'partial' | 'complete'

export interface ChunkWrite {
  chunkNumber: number
  offset: number
  length: number
  /** The chunk's bytes. Must deliver exactly `length` bytes; anything else is refused unmarked. */
  body: AsyncIterable<Buffer> & Readable
}

export interface WriteResult {
  /** True once every chunk is held and the upload is final (whoever finished it). */
  complete: boolean
  /** False when the chunk was already held and the body was discarded. */
  written: boolean
}

export interface FileStat {
  size: number
  modifiedAt: Date
}

export interface SweepResult {
  expired: string[]
  removedLeftovers: number
}

/**
 * A place where chunks are staged and finished files live. The route and the feature only speak to
 * this interface, so an S3-style store (multipart upload per upload, one part per chunk, completion
 * as CompleteMultipartUpload, `commit` as a copy) can be added without touching either.
 *
 * Contract every implementation meets (see test/store-contract.ts):
 * - `open` is idempotent and safe under concurrency: one manifest per id, first writer wins.
 * - `writeChunk` marks a chunk held only after all of its bytes are stored; a failed or short write
 *   leaves it missing; the same chunk never gets bytes from two requests.
 * - Completion happens exactly once, and `complete` is visible to every later call.
 * - `commit` makes the finished file appear under its key atomically, and keeps the staged upload
 *   until `remove` so that a crash between commit and the record update loses nothing.
 */
export interface UploadStore {
  /** Start-up: finish or clean whatever a crash left behind. */
  init(): Promise<void>
  /** Creates the upload if needed and returns the manifest that is actually stored. */
  open(manifest: UploadManifest): Promise<UploadManifest>
  /** The stored manifest, or null when there is no such upload (or it expired). */
  get(id: string): Promise<UploadManifest | null>
  state(id: string): Promise<UploadState>
  hasChunk(id: string, chunkNumber: number): Promise<boolean>
  /** Like hasChunk, but tells a chunk not held apart from an upload that does not exist. */
  chunkState(id: string, chunkNumber: number): Promise<'held' | 'missing' | 'no-upload'>
  writeChunk(manifest: UploadManifest, chunk: ChunkWrite): Promise<WriteResult>
  /** Finishes the upload if every chunk is held (e.g. after a crash right before finishing). */
  finishIfReady(manifest: UploadManifest): Promise<boolean>
  /** Removes a staged upload (cancel, after commit). With `expired`, later requests get 410. */
  remove(id: string, options?: { expired?: boolean }): Promise<void>
  /** Clears the expiry mark so that the same upload can start afresh. */
  forget(id: string): Promise<void>

  /** Places a complete upload under `key` (relative, already validated). */
  commit(id: string, key: string): Promise<void>
  statFile(key: string): Promise<FileStat | null>
  readFile(key: string, range?: { start: number; end: number }): Readable
  deleteFile(key: string): Promise<void>

  /** Removes uploads idle for longer than `ttlMs`. */
  sweep(ttlMs: number, now?: number): Promise<SweepResult>
}
