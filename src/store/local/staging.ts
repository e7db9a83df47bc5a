import { createReadStream } from 'node:fs'
import { mkdir, rename, rm, unlink, writeFile } from 'node:fs/promises'
import { UploadExpired } from '../../errors.js'
import { manifestDifferences } from '../manifest.js'
import type { FinishedUpload, StagingStore } from '../staging.js'
import type { Readable } from 'node:stream'
import type {
  ChunkQuery, ChunkState, ChunkWrite, OwnerLimits, StagedUpload, StagingUsage, SweepResult, UploadCompletion, UploadManifest,
  UploadState, WriteResult,
} from '../types.js'
import { exists, isMissing, storageError } from './fs-errors.js'
import { directIo, pooledIo, type MetadataIo } from './io.js'
import { StagingLayout } from './layout.js'
import { keepDigest, writeUnderLock, type LockedWriteParts } from './locked-chunk-write.js'
import { OpenUploads, type OpenUpload } from './open-uploads.js'
import { finishIfAllHeld, readMark } from './received-marks.js'
import { recover, sweepStaging } from './recovery.js'
import { OwnerUsage } from './usage.js'
import { Creations } from './creation.js'
import { OwnerReservations } from './owner-reservations.js'
import { readChunkDigest } from './chunk-digests.js'
import { listOwner, readCompletion, readHeldBytes, writeCompletion } from './listing.js'

export interface LocalStagingOptions {
  /** The staging folder (absolute). */
  directory: string
  /** A chunk lock not refreshed for this long is taken over. Default 30 s. */
  lockStaleMs?: number
  /** See LocalStorageOptions.directMetadata. Default true. */
  directMetadata?: boolean
}

/**
 * Uploads staged in a local folder, one sub-folder per upload (layout.ts). Each process keeps the
 * manifests of the uploads it works on, with a read-only handle on their `received` marks
 * (open-uploads.ts): a chunk request then checks one inode instead of reading the manifest.
 */
export class LocalStagingStore implements StagingStore {
  readonly directory: string
  readonly lockStaleMs: number
  readonly layout: StagingLayout
  private readonly io: MetadataIo
  private readonly openUploads: OpenUploads
  private readonly owners: OwnerUsage
  private readonly creations: Creations
  private readonly locked: LockedWriteParts

  constructor(options: LocalStagingOptions) {
    this.directory = options.directory
    this.layout = new StagingLayout(options.directory)
    this.lockStaleMs = options.lockStaleMs ?? 30_000
    this.io = options.directMetadata === false ? pooledIo : directIo
    this.openUploads = new OpenUploads({ io: this.io })
    this.owners = new OwnerUsage(this.layout, this.lockStaleMs)
    const reservations = new OwnerReservations(this.layout, this.io, this.owners, this.lockStaleMs)
    this.creations = new Creations(this.layout, this.io, reservations, async (id) => (await this.get(id)) !== null)
    this.locked = { layout: this.layout, io: this.io, openUploads: this.openUploads, lockStaleMs: this.lockStaleMs }
  }

  async init(): Promise<void> {
    await mkdir(this.directory, { recursive: true })
    await recover(this, Date.now(), true)
  }

  async find(wanted: UploadManifest): Promise<UploadManifest | null> {
    // A copy from memory that describes the same file is confirmed under the chunk's lock by
    // writeChunk; one that differs may be stale, so a conflict is only ever decided from the disk.
    const known = this.openUploads.peek(wanted.id)
    if (known && !manifestDifferences(known, wanted).length) return known
    const stored = await this.get(wanted.id)
    if (stored) return stored
    if (await exists(this.layout.tombstone(wanted.id))) throw expiredError()
    return null
  }

  async get(id: string): Promise<UploadManifest | null> {
    return this.withUpload(id, 'read the upload', (upload) => upload.manifest)
  }

  async state(id: string): Promise<UploadState> {
    if (await exists(this.layout.file(id, 'manifest'))) {
      return (await exists(this.layout.file(id, 'complete'))) ? 'complete' : 'partial'
    }
    if (await exists(this.layout.tombstone(id))) return 'expired'
    return 'missing'
  }

  async chunkState(id: string, chunkNumber: number, query: ChunkQuery = {}): Promise<ChunkState> {
    const held = await this.withUpload(id, 'read the upload state', async (upload) => {
      if (!(await readMark(this.io, upload.received, chunkNumber))) return false
      // A complete upload is final: its chunks are not replaced any more.
      if (!query.sha256 || (await exists(this.layout.file(id, 'complete')))) return true
      return (await readChunkDigest(this.io, this.layout.file(id, 'digests'), chunkNumber)) === query.sha256
    })
    return held === null ? 'no-upload' : held ? 'held' : 'missing'
  }

  /**
   * Stores one chunk. Its sink (the file hash) is told `held` with the upload's manifest on disk once
   * the chunk is marked, `failed` otherwise (a duplicate too: its bytes were discarded, not held).
   */
  async writeChunk(manifest: UploadManifest, chunk: ChunkWrite, options: { create?: OwnerLimits } = {}): Promise<WriteResult> {
    let written: { result: WriteResult; manifest: UploadManifest }
    try {
      written = await this.writeChunkOnce(manifest, chunk, options)
    } catch (error) {
      chunk.sink?.failed()
      throw error
    }
    if (written.result.written) chunk.sink?.held(written.manifest)
    else chunk.sink?.failed()
    return written.result
  }

  private async writeChunkOnce(
    manifest: UploadManifest, chunk: ChunkWrite, options: { create?: OwnerLimits },
  ): Promise<{ result: WriteResult; manifest: UploadManifest }> {
    if (options.create) {
      const created = await this.creations.createWith(manifest, chunk, options.create)
      if (created) {
        // Kept right after the creation: a test GET in between only gets the chunk sent once more.
        if (chunk.sha256) await keepDigest(this.locked, manifest.id, chunk.chunkNumber, chunk.sha256, true)
        return { result: created, manifest }
      }
    }
    return writeUnderLock(this.locked, manifest, chunk)
  }

  async finishIfReady(manifest: UploadManifest): Promise<boolean> {
    return (await this.withUpload(manifest.id, 'read the upload state', (upload) => finishIfAllHeld(this.io, this.layout, manifest, upload.received))) ?? false
  }

  async finished(id: string): Promise<FinishedUpload | null> {
    const manifest = await this.get(id)
    if (!manifest || !(await this.finishIfReady(manifest))) return null
    const path = this.layout.file(id, 'complete')
    return {
      manifest,
      size: manifest.totalSize,
      location: { kind: 'local-file', path },
      read: () => createReadStream(path),
    }
  }

  /**
   * Runs `use` on the upload as it is on disk now (one stat when this process already knows it, see
   * open-uploads.ts), or returns null when there is none.
   */
  private async withUpload<T>(id: string, doing: string, use: (upload: OpenUpload) => Promise<T> | T): Promise<T | null> {
    const upload = await this.openUploads.acquire(id, this.layout.upload(id)).catch((error) => {
      throw storageError(error, doing)
    })
    if (!upload) return null
    try {
      return await use(upload)
    } finally {
      this.openUploads.release(upload)
    }
  }

  async remove(id: string, options: { expired?: boolean } = {}): Promise<void> {
    this.openUploads.drop(id)
    if (options.expired) await writeFile(this.layout.tombstone(id), new Date().toISOString())
    const trash = this.layout.trash(id)
    try {
      await rename(this.layout.upload(id), trash)
    } catch (error) {
      if (isMissing(error)) return
      throw storageError(error, 'remove the upload')
    }
    await rm(trash, { recursive: true, force: true })
  }

  async clearExpired(id: string): Promise<void> {
    await unlink(this.layout.tombstone(id)).catch(() => undefined)
  }

  async usage(owner: string): Promise<StagingUsage> {
    return this.owners.of(owner)
  }

  async sweep(ttlMs: number, now = Date.now()): Promise<SweepResult> {
    return sweepStaging(this, ttlMs, now)
  }

  async list(owner: string): Promise<StagedUpload[]> {
    return listOwner(this.layout, owner)
  }

  async saveCompletion(id: string, completion: UploadCompletion): Promise<void> {
    await writeCompletion(this.layout, id, completion)
  }

  async completion(id: string): Promise<UploadCompletion | null> {
    return readCompletion(this.layout, id)
  }

  stagedFiles(id: string): { data: string; complete: string; received: string } {
    return { data: this.layout.file(id, 'data'), complete: this.layout.file(id, 'complete'), received: this.layout.file(id, 'received') }
  }

  readHeld(id: string, range: { start: number; end: number }): Readable {
    return readHeldBytes(this.layout, id, range)
  }
}

function expiredError(): UploadExpired {
  return new UploadExpired('This upload expired on the server and was removed; start it again.')
}
