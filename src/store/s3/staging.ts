import { randomBytes } from 'node:crypto'
import { ChunkBusy, InvalidRequest } from '../../errors.js'
import { manifestDifferences } from '../manifest.js'
import type { FinishedUpload, StagingStore } from '../staging.js'
import type { OwnerLockTable } from '../shared-state/owner-locks.js'
import type { PartTable } from '../shared-state/parts.js'
import type { UploadRow, UploadTable } from '../shared-state/uploads.js'
import type {
  ChunkQuery, ChunkState, ChunkWrite, OwnerLimits, StagedUpload, StagingUsage, SweepResult, UploadCompletion, UploadManifest, UploadState,
  WriteResult,
} from '../types.js'
import { isNoSuchUpload, type S3Clients, type S3Location } from './client.js'
import { discardBody } from './exact-body.js'
import { objectStream, statObject } from './files.js'
import { checkUploadId, type S3Keys } from './keys.js'
import { completeMultipart, uploadPart } from './multipart.js'
import { createUpload, dropIfEmpty } from './staging-creation.js'
import { ensureMultipart, gone, live, sleep } from './staging-rows.js'
import { removeStaged, sweepStaged } from './staging-cleanup.js'

export interface S3StagingTimings {
  /** A part claim lasts this long without renewal; renewed every third of it while the part streams. */
  partLeaseMs: number
  /** A CreateMultipartUpload claim whose host recorded no UploadId after this long is taken over. */
  createLeaseMs: number
  /** A `completing` upload whose host has not finished after this long is completed by another host. */
  completionStaleMs: number
  /** How long a request that lost the completion race waits to see `complete` before answering partial. */
  completionWaitMs: number
  /**
   * An owner's lock (held while one host counts and creates) whose host died is taken over after
   * this; hosts' clocks must agree to well within it.
   */
  ownerLockLeaseMs: number
  pollMs: number
}

export const DEFAULT_TIMINGS: S3StagingTimings = {
  partLeaseMs: 20_000,
  createLeaseMs: 30_000,
  completionStaleMs: 120_000,
  completionWaitMs: 30_000,
  ownerLockLeaseMs: 30_000,
  pollMs: 50,
}

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

  /**
   * Streams the chunk to S3 as part `chunkNumber`. The part is claimed in the shared table first (a
   * second request for it, on any host, gets ChunkBusy), and marked held only once S3 returned its
   * ETag. A failure of the body or of the object store releases the claim, marks nothing.
   * With `create`, a chunk of an upload that does not exist creates it (within the owner's limits);
   * if that chunk then fails and nothing else went into the upload, the upload is taken away again.
   */
  async writeChunk(manifest: UploadManifest, chunk: ChunkWrite, options: { create?: OwnerLimits } = {}): Promise<WriteResult> {
    const existing = await this.row(manifest.id)
    let created = false
    if (!existing || existing.state === 'aborted') {
      // An `aborted` row is a removal under way (a cancel, an expiry, a failed first chunk taken away):
      // retry shortly, and the answer then follows from what the removal left (410 or a new upload).
      if (!options.create) throw existing ? new ChunkBusy('This upload is being removed; retry shortly.') : gone()
      created = (await createUpload(this.deps, manifest, options.create, this.now, this.timings.ownerLockLeaseMs)).inserted
    }
    try {
      return await this.writePart(manifest, chunk)
    } catch (error) {
      if (created) await dropIfEmpty(this.deps, manifest.id, this.now()).catch(() => undefined)
      throw error
    }
  }

  private async writePart(manifest: UploadManifest, chunk: ChunkWrite): Promise<WriteResult> {
    const { uploads, parts } = this.deps
    const before = await this.liveRow(manifest)
    if (before.state !== 'open') {
      await discardBody(chunk.body)
      return { complete: await this.awaitComplete(before), written: false }
    }
    const token = randomBytes(12).toString('hex')
    const claim = await parts.claim(manifest.id, chunk.chunkNumber, token, this.now(), this.timings.partLeaseMs, chunk.sha256)
    if (claim === 'busy') throw new ChunkBusy(`Chunk ${chunk.chunkNumber} is being written by another request; retry shortly.`)
    if (claim === 'held') {
      await discardBody(chunk.body)
      return { complete: await this.completeIfReady(before), written: false }
    }
    let etag: string
    let row: UploadRow | null = null
    // A writer that lost its claim (it stalled past the lease and another request took the part over)
    // stops sending at once, so that its late bytes do not replace the new writer's part in S3.
    const renewal = setInterval(() => {
      parts.renew(manifest.id, chunk.chunkNumber, token, this.now()).then(
        (ours) => ours || chunk.body.destroy(new ChunkBusy(`Chunk ${chunk.chunkNumber} was taken over by another request; retry shortly.`)),
        () => undefined,
      )
    }, Math.max(1000, this.timings.partLeaseMs / 3))
    try {
      // Read after the claim: if the upload is removed (and maybe started afresh) from here on, the
      // claim is deleted with it and markHeld below refuses, so a part is never recorded against
      // another multipart upload than the one it went to.
      row = await this.liveRow(manifest)
      const multipart = await ensureMultipart(this.deps, row, this.timings, this.now, chunk.sha256 ? 'SHA256' : null)
      // The bucket would refuse the part (and later the completion) without its checksum: say so
      // now, naming what the client left out, before any byte is sent.
      if (multipart.partChecksum && !chunk.sha256) {
        throw new InvalidRequest(
          `This upload started with per-chunk SHA-256 digests: chunk ${chunk.chunkNumber} must carry resumableChunkSha256 too.`,
        )
      }
      etag = await uploadPart(this.deps.s3, this.deps.where, row.objectKey, multipart.uploadId, {
        partNumber: chunk.chunkNumber,
        length: chunk.length,
        body: chunk.body,
        sha256: chunk.sha256,
        sink: chunk.sink,
        checksummed: multipart.partChecksum !== null,
      })
    } catch (error) {
      chunk.sink?.failed()
      await parts.release(manifest.id, chunk.chunkNumber, token).catch(() => undefined)
      // The multipart upload vanished from the object store (a lifecycle rule aborted it): no part
      // can ever complete it, so the upload expires and the client starts again instead of retrying for ever.
      if (row && isNoSuchUpload(error)) {
        await removeStaged(this.deps, row, this.now(), 'expired').catch(() => undefined)
        throw gone()
      }
      throw error
    } finally {
      clearInterval(renewal)
    }
    if (!(await parts.markHeld(manifest.id, chunk.chunkNumber, token, etag, chunk.length, chunk.sha256 ?? null))) {
      chunk.sink?.failed()
      const now = await uploads.find(manifest.id)
      if (!now || !live(now)) throw gone()
      throw new ChunkBusy(`Chunk ${chunk.chunkNumber} was taken over by another request; retry shortly.`)
    }
    chunk.sink?.held(row.manifest)
    await uploads.touch(manifest.id, this.now())
    return { complete: await this.completeIfReady(row), written: true }
  }

  /** Completes the upload if every part is held (after a crash, or when a completion failed). */
  async finishIfReady(manifest: UploadManifest): Promise<boolean> {
    const row = await this.row(manifest.id)
    if (!row || !live(row)) return false
    if (row.state !== 'open') return this.awaitComplete(row)
    return this.completeIfReady(row)
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

  /** The upload's row, refusing one that is gone (410) or was started afresh with another file (503: retry re-reads). */
  private async liveRow(manifest: UploadManifest): Promise<UploadRow> {
    const row = await this.row(manifest.id)
    if (!row || !live(row)) throw gone()
    if (manifestDifferences(row.manifest, manifest).length) throw new ChunkBusy('The upload was started again with another file; retry.')
    return row
  }

  /**
   * Runs CompleteMultipartUpload if every part is held and this host wins `open → completing`;
   * a host that loses waits (bounded) for the winner's `complete`.
   */
  private async completeIfReady(row: UploadRow): Promise<boolean> {
    const { uploads, parts } = this.deps
    if ((await parts.heldCount(row.id)) < row.manifest.chunkCount) return false
    const stamp = await uploads.beginCompleting(row.id, this.now(), this.timings.completionStaleMs)
    if (stamp === null) return this.awaitComplete((await uploads.find(row.id)) ?? row)
    const current = (await uploads.find(row.id)) ?? row
    try {
      await this.assemble(current)
    } catch (error) {
      await uploads.abandonCompleting(row.id, stamp).catch(() => undefined)
      throw error
    }
    if (await uploads.finishCompleting(row.id, stamp, this.now())) return true
    // Removed (or expired) while completing: the assembled object belongs to nobody.
    const after = await uploads.find(row.id)
    if (!after || !live(after) || after.objectKey !== current.objectKey) {
      await removeStaged(this.deps, { ...current, state: 'complete' }, this.now(), null).catch(() => undefined)
      return false
    }
    return after.state === 'complete'
  }

  /**
   * CompleteMultipartUpload with the parts of the table. A host taking over a completion whose host
   * died may find the upload already completed: S3 answers a repeated Complete with success or
   * NoSuchUpload, s3rver with a 500; either way the object being there with the file's size settles it.
   */
  private async assemble(row: UploadRow): Promise<void> {
    const held = await this.deps.parts.held(row.id)
    try {
      if (!row.s3UploadId) throw new Error('no multipart upload recorded')
      // An upload created with SHA256 wants each part's checksum in the completion as well.
      const parts = row.partChecksum ? held : held.map(({ partNumber, etag }) => ({ partNumber, etag }))
      await completeMultipart(this.deps.s3, this.deps.where, row.objectKey, row.s3UploadId, parts)
    } catch (error) {
      const object = await statObject(this.deps.s3, this.deps.where, row.objectKey).catch(() => null)
      if (object?.size === row.manifest.totalSize) return
      throw error
    }
  }

  private async awaitComplete(row: UploadRow): Promise<boolean> {
    const deadline = this.now() + this.timings.completionWaitMs
    for (let current: UploadRow | null = row; current && live(current); current = await this.deps.uploads.find(row.id)) {
      if (current.state === 'complete') return true
      if (current.state === 'open') return false
      // A completion left stale by a dead host is taken over here rather than waited on for ever.
      if (current.completingAt !== null && this.now() - current.completingAt > this.timings.completionStaleMs) return this.completeIfReady({ ...current, state: 'open' })
      if (this.now() > deadline) return false
      await sleep(this.timings.pollMs)
    }
    return false
  }
}
