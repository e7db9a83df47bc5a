import type { Readable } from 'node:stream'
import type {
  ChunkQuery, ChunkState, ChunkWrite, OwnerLimits, StagedUpload, StagingUsage, SweepResult, UploadCompletion, UploadManifest,
  UploadState, WriteResult,
} from './types.js'

/**
 * A finished upload as its staging store hands it over to a file storage (see FileStorage.place).
 *
 * `location` says where the bytes already are, in terms the file storage of the same backend
 * understands, so that placing the file moves no bytes through this process: the local store gives
 * `{ kind: 'local-file', path }` (placed by a hard link), an S3 store would give
 * `{ kind: 's3-object', bucket, key }` of the object CompleteMultipartUpload produced (placed by a
 * server-side CopyObject). A file storage that does not know the kind streams `read()` instead,
 * so any staging store works with any file storage, just slower.
 */
export interface FinishedUpload {
  readonly manifest: UploadManifest
  readonly size: number
  readonly location: { readonly kind: string; readonly [detail: string]: unknown }
  /** The whole file. */
  read(): Readable
}

/**
 * Where uploads live while their chunks arrive, until they are saved or expire. The chunk route
 * speaks only to this interface; finished files are the FileStorage's job.
 *
 * Contract (test/staging-contract.ts runs it against any implementation):
 * - Ids are server-computed (40 hex digits); anything else is refused with InvalidRequest and never
 *   used to build a path or a key.
 * - An upload exists only once a first chunk of it was stored whole: `writeChunk` with `create`
 *   makes it together with that chunk, and a request whose chunk fails (short, long, aborted body)
 *   leaves no upload behind. Requests racing to create one id end up in one upload, first writer's
 *   manifest wins; a loser whose bytes could not be kept fails with the retryable ChunkBusy.
 * - Creating checks the owner's `usage` against `create` limits and refuses with TooManyUploads;
 *   an existing upload is never refused for that.
 * - `writeChunk` marks a chunk held only after all of its bytes are stored; a failed, short or long
 *   write leaves it missing and writes nothing outside its range; a held chunk is never rewritten
 *   (a second copy is discarded or refused with ChunkBusy, never mixed in), except by a chunk
 *   that carries a digest other than the one the held chunk was kept under (or none): that chunk's
 *   verified bytes replace it while the upload is not complete.
 * - A chunk with `sha256` whose bytes hash otherwise is refused with ChunkDigestMismatch and leaves
 *   the chunk not held; its digest is kept with the upload, so `chunkState` with that digest
 *   answers held in any process.
 * - Completion happens exactly once, is visible to every later call, and `finished` then hands the
 *   file over; it stays staged until `remove`, so a crash between placing the file and the record
 *   update loses nothing.
 * - `remove` with `expired` leaves a mark: later requests for the id get UploadExpired (410) until
 *   `clearExpired`.
 * - `sweep` removes uploads idle longer than the TTL, and only what the store itself created.
 * - `list(owner)` gives that owner's staged uploads and nobody else's, with the bytes of the chunks
 *   held; `saveCompletion` is kept with the upload (gone when it is removed) and `completion` reads
 *   it back in any process.
 */
export interface StagingStore {
  /** Start-up: finish or clean whatever a crash left behind. */
  init(): Promise<void>
  /**
   * The stored manifest of `wanted.id`, or null when there is no such upload yet. May come from
   * memory: `writeChunk` confirms it against the stored upload. UploadExpired when it expired.
   */
  find(wanted: UploadManifest): Promise<UploadManifest | null>
  /** The stored manifest, or null when there is no such upload (or it expired). */
  get(id: string): Promise<UploadManifest | null>
  state(id: string): Promise<UploadState>
  chunkState(id: string, chunkNumber: number, query?: ChunkQuery): Promise<ChunkState>
  /**
   * Stores one chunk of the upload `manifest` describes. With `create`, an upload that does not
   * exist yet is created with this chunk, within those limits; without it, UploadExpired.
   */
  writeChunk(manifest: UploadManifest, chunk: ChunkWrite, options?: { create?: OwnerLimits }): Promise<WriteResult>
  /** Finishes the upload if every chunk is held (e.g. after a crash right before finishing). */
  finishIfReady(manifest: UploadManifest): Promise<boolean>
  /** The complete upload, ready to be placed; null when it is not complete (or does not exist). */
  finished(id: string): Promise<FinishedUpload | null>
  /** Removes a staged upload (cancel, after Save). With `expired`, later requests get 410. */
  remove(id: string, options?: { expired?: boolean }): Promise<void>
  /** Clears the expiry mark so that the same upload can start afresh. */
  clearExpired(id: string): Promise<void>
  /** What `owner` keeps in staging now, across every process sharing the store. */
  usage(owner: string): Promise<StagingUsage>
  /** Removes uploads idle for longer than `ttlMs`. */
  sweep(ttlMs: number, now?: number): Promise<SweepResult>
  /** The uploads `owner` keeps in staging now (in progress or finished), across processes. */
  list(owner: string): Promise<StagedUpload[]>
  /** Keeps what the route settled about a finished upload (its checksum, the hook's metadata). */
  saveCompletion(id: string, completion: UploadCompletion): Promise<void>
  /** What `saveCompletion` kept, or null (not settled yet, or no such upload). */
  completion(id: string): Promise<UploadCompletion | null>
  /**
   * Optional: the bytes `start`..`end` (inclusive) of an upload, finished or not, where every chunk
   * in that range is held. Lets the checksum be computed from chunks as they arrive (read back
   * while still in the page cache); a store without it gets one full `finished().read()` instead.
   */
  readHeld?(id: string, range: { start: number; end: number }): Readable
  /**
   * Optional: where a local store keeps an upload's bytes and chunk marks (see local/layout.ts), so
   * that the file's SHA-256 can be computed from them off the event loop as chunks arrive
   * (integrity/prefix-hash.ts). A store without it has its finished file streamed once instead.
   */
  stagedFiles?(id: string): { data: string; complete: string; received: string }
}
