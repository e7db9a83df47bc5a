import type { FinishedUpload, StagingStore } from '../staging.js'
import type { OwnerLockTable } from '../shared-state/owner-locks.js'
import type { PartTable } from '../shared-state/parts.js'
import type { UploadRow, UploadTable } from '../shared-state/uploads.js'
import type {
  ChunkQuery, ChunkState, ChunkWrite, OwnerLimits, StagedUpload, StagingUsage, SweepResult, UploadCompletion, UploadManifest, UploadState,
  WriteResult,
} from '../types.js'
import type { S3Clients, S3Location } from './client.js'
import { objectStream } from './files.js'
import { checkUploadId, type S3Keys } from './keys.js'
import { awaitComplete, completeIfReady } from './staging-completion.js'
import { createUpload } from './staging-creation.js'
import { writeChunk } from './staging-part-write.js'
import { gone, live } from './staging-rows.js'
import { removeStaged, sweepStaged } from './staging-cleanup.js'
import { DEFAULT_TIMINGS, type S3StagingTimings } from './staging-timings.js'

export { DEFAULT_TIMINGS, type S3StagingTimings } from './staging-timings.js'

export interface S3StagingParts {
  s3: S3Clients
  where: S3Location
  keys: S3Keys
  uploads: UploadTable
  parts: PartTable
  /** Who counts an owner's uploads now, so that the limits hold across hosts. */
  ownerLocks: OwnerLockTable
  timings?: Partial<S3StagingTimings>
  now?: () => number
}

/**
 * Staged uploads on S3: one multipart upload per upload, one part per chunk, streamed from the
 * request; CompleteMultipartUpload assembles the file in the object store. Who creates, which request
 * writes a part, and who completes are decided in the shared tables (see shared-state/), so any
 * number of app hosts can serve the chunks of one upload.
 */
export class S3Staging implements StagingStore {
  readonly timings: S3StagingTimings
  private readonly now: () => number

  constructor(readonly deps: S3StagingParts) {
    this.timings = { ...DEFAULT_TIMINGS, ...deps.timings }
    this.now = deps.now ?? Date.now
  }

  /** The plugin's tables are created by openS3Storage; nothing is kept in this process to recover. */
  async init(): Promise<void> {}

  /**
   * Creates the upload's row without a chunk, if there is none (first writer wins), and returns the
   * manifest actually stored. The route creates uploads through `writeChunk` with `create`; this is
   * for tools and tests that set up an upload step by step.
   */
  async open(manifest: UploadManifest): Promise<UploadManifest> {
    checkUploadId(manifest.id)
    return (await createUpload(this.deps, manifest, null, this.now)).manifest
  }

  async find(wanted: UploadManifest): Promise<UploadManifest | null> {
    const row = await this.row(wanted.id)
    if (row?.state === 'expired') throw gone()
    return row && live(row) ? row.manifest : null
  }

  async get(id: string): Promise<UploadManifest | null> {
    const row = await this.row(id)
    return row && live(row) ? row.manifest : null
  }

  async state(id: string): Promise<UploadState> {
    const row = await this.row(id)
    if (!row || row.state === 'aborted') return 'missing'
    if (row.state === 'expired') return 'expired'
    return row.state === 'complete' ? 'complete' : 'partial'
  }

  async chunkState(id: string, chunkNumber: number, query: ChunkQuery = {}): Promise<ChunkState> {
    const row = await this.row(id)
    if (!row || !live(row)) return 'no-upload'
    // A complete upload is final: its parts are not replaced any more.
    if (row.state === 'complete') return 'held'
    return (await this.deps.parts.isHeld(id, chunkNumber, query.sha256)) ? 'held' : 'missing'
  }

  /** One part per chunk, claimed in the shared tables so that any host may serve it: see staging-part-write.ts. */
  async writeChunk(manifest: UploadManifest, chunk: ChunkWrite, options: { create?: OwnerLimits } = {}): Promise<WriteResult> {
    return writeChunk(this.deps, manifest, chunk, options, this.timings, this.now)
  }

  /** Completes the upload if every part is held (after a crash, or when a completion failed). */
  async finishIfReady(manifest: UploadManifest): Promise<boolean> {
    const row = await this.row(manifest.id)
    if (!row || !live(row)) return false
    if (row.state !== 'open') return awaitComplete(this.deps, row, this.timings, this.now)
    return completeIfReady(this.deps, row, this.timings, this.now)
  }

  /** Cancels (abort the multipart upload, or drop the assembled staging object) and forgets the parts. */
  async remove(id: string, options: { expired?: boolean } = {}): Promise<void> {
    const row = await this.row(id)
    if (!row || row.state === 'expired') return
    await removeStaged(this.deps, row, this.now(), options.expired ? 'expired' : 'missing')
  }

  /** Clears an expiry tombstone so that the same upload can start afresh. */
  async clearExpired(id: string): Promise<void> {
    checkUploadId(id)
    await this.deps.uploads.delete(id, ['expired'])
  }

  /** Expires uploads idle for longer than `ttlMs` and finishes interrupted removals (see staging-cleanup). */
  async sweep(ttlMs: number, now: number = this.now()): Promise<SweepResult> {
    return sweepStaged(this.deps, ttlMs, now)
  }

  /** What one admin has staged, for quotas. */
  async usage(owner: string): Promise<StagingUsage> {
    return this.deps.uploads.usage(owner)
  }

  /** One admin's staged uploads, from the shared tables: the same answer on every host. */
  async list(owner: string): Promise<StagedUpload[]> {
    const rows = await this.deps.uploads.owned(owner)
    return Promise.all(rows.map(async (row) => {
      const complete = row.state === 'complete'
      return {
        manifest: row.manifest,
        receivedBytes: complete ? row.manifest.totalSize : await this.deps.parts.heldBytes(row.id),
        complete,
        updatedAt: new Date(row.activeAt).toISOString(),
      }
    }))
  }

  async saveCompletion(id: string, completion: UploadCompletion): Promise<void> {
    checkUploadId(id)
    if (!(await this.deps.uploads.setCompletion(id, JSON.stringify(completion)))) throw gone()
  }

  async completion(id: string): Promise<UploadCompletion | null> {
    checkUploadId(id)
    const text = await this.deps.uploads.completion(id)
    return text ? (JSON.parse(text) as UploadCompletion) : null
  }

  /**
   * The assembled staging object of a complete upload: S3Files copies it into place server-side;
   * a file storage of another kind reads it as a stream.
   */
  async finished(id: string): Promise<FinishedUpload | null> {
    const row = await this.row(id)
    if (row?.state !== 'complete') return null
    const { s3, where } = this.deps
    return {
      manifest: row.manifest,
      size: row.manifest.totalSize,
      location: { kind: 's3-object', bucket: where.bucket, key: row.objectKey },
      read: () => objectStream(s3, where, row.objectKey),
    }
  }

  private async row(id: string): Promise<UploadRow | null> {
    return this.deps.uploads.find(checkUploadId(id))
  }
}
