import { createReadStream } from 'node:fs'
import { mkdir, rename, rm, unlink, writeFile } from 'node:fs/promises'
import type { FileHandle } from 'node:fs/promises'
import { UploadExpired } from '../../errors.js'
import { manifestDifferences } from '../manifest.js'
import type { FinishedUpload, StagingStore } from '../staging.js'
import type { Readable } from 'node:stream'
import type {
  ChunkQuery, ChunkState, ChunkWrite, OwnerLimits, StagedUpload, StagingUsage, SweepResult, UploadCompletion, UploadManifest,
  UploadState, WriteResult,
} from '../types.js'
import { discard, writeExactly } from './chunk-write.js'
import { exists, isMissing, storageError, uploadChanged, uploadGone } from './fs-errors.js'
import { directIo, pooledIo, type MetadataIo } from './io.js'
import { StagingLayout } from './layout.js'
import { acquireFileLock } from './lock.js'
import { OpenUploads, type OpenUpload } from './open-uploads.js'
import { recover, sweepStaging } from './recovery.js'
import { OwnerUsage } from './usage.js'
import { Creations } from './creation.js'
import { OwnerReservations } from './owner-reservations.js'
import { readChunkDigest, writeChunkDigest } from './chunk-digests.js'
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

  constructor(options: LocalStagingOptions) {
    this.directory = options.directory
    this.layout = new StagingLayout(options.directory)
    this.lockStaleMs = options.lockStaleMs ?? 30_000
    this.io = options.directMetadata === false ? pooledIo : directIo
    this.openUploads = new OpenUploads({ io: this.io })
    this.owners = new OwnerUsage(this.layout, this.lockStaleMs)
    const reservations = new OwnerReservations(this.layout, this.io, this.owners, this.lockStaleMs)
    this.creations = new Creations(this.layout, this.io, reservations, async (id) => (await this.get(id)) !== null)
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
      if (!(await this.readMark(upload.received, chunkNumber))) return false
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
        if (chunk.sha256) await this.keepDigest(manifest.id, chunk.chunkNumber, chunk.sha256, true)
        return { result: created, manifest }
      }
    }
    const dir = this.layout.upload(manifest.id)
    // A manifest from memory may describe an upload that another process removed since: then the
    // retry goes through find() again, which restarts it or answers 410 as the disk says.
    const fromMemory = this.openUploads.peek(manifest.id) === manifest
    const gone = () => {
      if (!fromMemory) return uploadGone()
      this.openUploads.drop(manifest.id)
      return uploadChanged()
    }
    const release = await acquireFileLock(
      this.layout.chunkLock(manifest.id, chunk.chunkNumber),
      this.lockStaleMs,
      `Chunk ${chunk.chunkNumber} is being received by another request; retry shortly.`,
      this.io,
    ).catch((error) => {
      if (isMissing(error)) throw gone()
      // A lock file that cannot be created or written (ENOSPC, EROFS...) is a retryable 507, not a 500.
      throw storageError(error, 'lock the chunk')
    })
    let upload
    try {
      upload = await this.openUploads.acquire(manifest.id, dir).catch((error) => {
        throw storageError(error, 'read the upload state')
      })
      if (!upload) throw gone()
      // The route may have checked a copy from memory: under the lock, the upload on disk decides.
      if (upload.manifest !== manifest && manifestDifferences(upload.manifest, manifest).length) {
        this.openUploads.drop(manifest.id)
        throw uploadChanged()
      }
      // Checked under the lock: once held, a chunk's bytes are never rewritten, so a duplicate
      // (a retry whose first answer was lost, a racing copy, a chunk after completion) cannot mix
      // its bytes in.
      const held = await this.readMark(upload.received, chunk.chunkNumber)
      if (held && !(await this.replaces(manifest.id, chunk))) {
        await discard(chunk.body)
        return { result: { complete: await this.finishIfAllHeld(manifest, upload.received), written: false }, manifest: upload.manifest }
      }
      const writer = await this.openUploads.openWriter(upload, dir).catch((error) => {
        if (isMissing(error)) throw uploadGone()
        throw storageError(error, 'open the upload')
      })
      try {
        const record = (mark: Buffer) => this.io.write(writer.received, mark, chunk.chunkNumber - 1).catch((error) => {
          throw storageError(error, 'record the chunk')
        })
        // Unmarked (and its digest forgotten) before its bytes change: a replacement that fails
        // leaves the chunk missing, never held with mixed bytes.
        if (held) {
          await record(ZERO)
          await this.keepDigest(manifest.id, chunk.chunkNumber, NO_DIGEST)
        }
        await writeExactly(writer.data, chunk)
        if (chunk.sha256) await this.keepDigest(manifest.id, chunk.chunkNumber, chunk.sha256)
        await record(ONE)
      } finally {
        await this.openUploads.closeWriter(upload)
      }
      const complete = await this.finishIfAllHeld(manifest, upload.received)
      return { result: { complete, written: true, ...(held ? { replaced: true } : {}) }, manifest: upload.manifest }
    } finally {
      if (upload) this.openUploads.release(upload)
      await release()
    }
  }

  /**
   * A held chunk is replaced by one that carries another digest than the one it was kept under
   * (or none), while the upload is not complete.
   */
  private async replaces(id: string, chunk: ChunkWrite): Promise<boolean> {
    if (!chunk.sha256 || (await exists(this.layout.file(id, 'complete')))) return false
    return (await readChunkDigest(this.io, this.layout.file(id, 'digests'), chunk.chunkNumber)) !== chunk.sha256
  }

  private async keepDigest(id: string, chunkNumber: number, sha256: string, mayBeGone = false): Promise<void> {
    try {
      await writeChunkDigest(this.io, this.layout.file(id, 'digests'), chunkNumber, sha256)
    } catch (error) {
      // Removed right after its creation: there is nothing left to describe.
      if (mayBeGone && isMissing(error)) return
      throw error
    }
  }

  async finishIfReady(manifest: UploadManifest): Promise<boolean> {
    return (await this.withUpload(manifest.id, 'read the upload state', (upload) => this.finishIfAllHeld(manifest, upload.received))) ?? false
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

  private async readMark(received: FileHandle, chunkNumber: number): Promise<boolean> {
    const byte = Buffer.alloc(1)
    return (await this.io.read(received, byte, chunkNumber - 1)) === 1 && byte[0] === 1
  }

  /** Renames `data` to `complete` once every chunk is marked; exactly one caller's rename wins. */
  private async finishIfAllHeld(manifest: UploadManifest, received: FileHandle): Promise<boolean> {
    const marks = Buffer.alloc(manifest.chunkCount)
    try {
      const bytesRead = await this.io.read(received, marks, 0)
      // `complete` appears only after every mark is set and marks are never cleared, so an
      // unmarked chunk means there is nothing to look for.
      if (bytesRead < marks.length || marks.includes(0)) return false
    } catch (error) {
      throw storageError(error, 'read the upload state')
    }
    const complete = this.layout.file(manifest.id, 'complete')
    try {
      await rename(this.layout.file(manifest.id, 'data'), complete)
      return true
    } catch (error) {
      if (isMissing(error)) return exists(complete)
      throw storageError(error, 'finish the upload')
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

const ONE = Buffer.from([1])
const ZERO = Buffer.from([0])
const NO_DIGEST = '0'.repeat(64)

function expiredError(): UploadExpired {
  return new UploadExpired('This upload expired on the server and was removed; start it again.')
}
