import { randomBytes } from 'node:crypto'
import { createReadStream } from 'node:fs'
import {
  copyFile, link, mkdir, open, readdir, rename, rm, rmdir, stat, unlink, writeFile,
} from 'node:fs/promises'
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path'
import type { FileHandle } from 'node:fs/promises'
import type { Readable } from 'node:stream'
import { ChunkBusy, InvalidRequest, StorageFailure, UploadExpired } from '../errors.js'
import { isMissing } from './fs-errors.js'
import { directIo, pooledIo, type MetadataIo } from './local-io.js'
import { acquireFileLock, isStaleLock } from './local-lock.js'
import { OpenUploads, type OpenUpload } from './local-open-uploads.js'
import { manifestDifferences } from './manifest.js'
import { ensureWritableDirectory } from './writable-directory.js'
import type {
  ChunkWrite, FileStat, SweepResult, UploadManifest, UploadState, UploadStore, WriteResult,
} from './types.js'

export interface LocalStoreOptions {
  /** Root of the finished files; record keys are paths relative to it. */
  directory: string
  /** Where chunks are staged. Default `<directory>/.resumable`. Keep it on the same file system. */
  stagingDirectory?: string
  /** A chunk lock not refreshed for this long is taken over. Default 30 s. */
  lockStaleMs?: number
  /**
   * Run a chunk request's small metadata operations (its lock, its mark bytes, a stat) as direct
   * system calls on the event loop rather than through libuv's thread pool: faster on local disks.
   * Set false when the staging folder is on a network file system, where one call can take
   * milliseconds. Default true.
   */
  directMetadata?: boolean
}

/**
 * Per upload, `<staging>/<id>/` holds:
 * - `manifest.json`: written once, before the folder appears (the folder is renamed into place);
 * - `data`: a file of the final size; each chunk is written at its own offset, so finishing is a
 *   rename and never a second pass over the bytes;
 * - `received`: one byte per chunk, set to 1 only after that chunk's bytes are all written. Test
 *   requests read one byte of it; it survives restarts and is safe across processes because every
 *   chunk owns a distinct offset;
 * - `lock-<n>`: a symbolic link naming its owner, present while one request writes chunk n;
 * - `complete`: `data`, renamed once every chunk is held. The rename is atomic, so exactly one
 *   request finishes the upload and nobody ever sees a half-written finished file.
 * An expired upload leaves `<staging>/<id>.expired` so later requests get a clear 410.
 * Each process keeps the manifests of the uploads it works on, with a read-only handle on their marks
 * (local-open-uploads.ts): a chunk request then checks one inode instead of reading the manifest.
 */
export class LocalUploadStore implements UploadStore {
  readonly directory: string
  readonly stagingDirectory: string
  private readonly lockStaleMs: number
  /** Leftovers younger than this may belong to an operation in progress in another process. */
  private readonly leftoverGraceMs = 60_000
  private readonly io: MetadataIo
  private readonly openUploads: OpenUploads

  constructor(options: LocalStoreOptions) {
    this.directory = resolve(options.directory)
    this.stagingDirectory = resolve(options.stagingDirectory ?? join(this.directory, '.resumable'))
    ensureWritableDirectory(this.directory, 'storage.local.directory')
    ensureWritableDirectory(this.stagingDirectory, 'storage.local.stagingDirectory')
    this.lockStaleMs = options.lockStaleMs ?? 30_000
    this.io = options.directMetadata === false ? pooledIo : directIo
    this.openUploads = new OpenUploads({ io: this.io })
  }

  async init(): Promise<void> {
    await mkdir(this.directory, { recursive: true })
    await mkdir(this.stagingDirectory, { recursive: true })
    await this.cleanLeftovers(Date.now(), true)
  }

  async open(manifest: UploadManifest): Promise<UploadManifest> {
    // A copy from memory that describes the same file is confirmed under the chunk's lock by
    // writeChunk; one that differs may be stale, so a conflict is only ever decided from the disk.
    const known = this.openUploads.peek(manifest.id)
    if (known && !manifestDifferences(known, manifest).length) return known
    const existing = await this.get(manifest.id)
    if (existing) return existing
    if (await exists(this.tombstone(manifest.id))) {
      throw new UploadExpired('This upload expired on the server and was removed; start it again.')
    }
    const temp = join(this.stagingDirectory, `.creating-${manifest.id}-${nonce()}`)
    try {
      await mkdir(temp)
      await writeFile(join(temp, 'manifest.json'), JSON.stringify(manifest))
      const data = await open(join(temp, 'data'), 'wx')
      try {
        await data.truncate(manifest.totalSize)
      } finally {
        await data.close()
      }
      await writeFile(join(temp, 'received'), Buffer.alloc(manifest.chunkCount))
    } catch (error) {
      await rm(temp, { recursive: true, force: true })
      throw storageError(error, 'start the upload')
    }
    try {
      await rename(temp, this.uploadDir(manifest.id))
      return manifest
    } catch (error) {
      await rm(temp, { recursive: true, force: true })
      const code = (error as NodeJS.ErrnoException).code
      if (code === 'ENOTEMPTY' || code === 'EEXIST') {
        const winner = await this.get(manifest.id)
        if (winner) return winner
      }
      throw storageError(error, 'start the upload')
    }
  }

  async get(id: string): Promise<UploadManifest | null> {
    return this.withUpload(id, 'read the upload', (upload) => upload.manifest)
  }

  async state(id: string): Promise<UploadState> {
    const dir = this.uploadDir(id)
    if (await exists(join(dir, 'manifest.json'))) return (await exists(join(dir, 'complete'))) ? 'complete' : 'partial'
    if (await exists(this.tombstone(id))) return 'expired'
    return 'missing'
  }

  async hasChunk(id: string, chunkNumber: number): Promise<boolean> {
    return (await this.chunkState(id, chunkNumber)) === 'held'
  }

  async chunkState(id: string, chunkNumber: number): Promise<'held' | 'missing' | 'no-upload'> {
    const held = await this.withUpload(id, 'read the upload state', (upload) => this.readMark(upload.marks, chunkNumber))
    return held === null ? 'no-upload' : held ? 'held' : 'missing'
  }

  async writeChunk(manifest: UploadManifest, chunk: ChunkWrite): Promise<WriteResult> {
    const dir = this.uploadDir(manifest.id)
    // A manifest from memory may describe an upload that another process removed since: then the
    // retry goes through open() again, which restarts it or answers 410 as the disk says.
    const fromMemory = this.openUploads.peek(manifest.id) === manifest
    const gone = () => {
      if (!fromMemory) return uploadGone()
      this.openUploads.drop(manifest.id)
      return uploadChanged()
    }
    const release = await acquireFileLock(
      join(dir, `lock-${chunk.chunkNumber}`),
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
      if (await this.readMark(upload.marks, chunk.chunkNumber)) {
        await discard(chunk.body)
        return { complete: await this.finishIfAllHeld(manifest, upload.marks), written: false }
      }
      const writer = await this.openUploads.openWriter(upload, dir).catch((error) => {
        if (isMissing(error)) throw uploadGone()
        throw storageError(error, 'open the upload')
      })
      try {
        await writeExactly(writer.data, chunk)
        await this.io.write(writer.received, ONE, chunk.chunkNumber - 1).catch((error) => {
          throw storageError(error, 'record the chunk')
        })
      } finally {
        await this.openUploads.closeWriter(upload)
      }
      return { complete: await this.finishIfAllHeld(manifest, upload.marks), written: true }
    } finally {
      if (upload) this.openUploads.release(upload)
      await release()
    }
  }

  async finishIfReady(manifest: UploadManifest): Promise<boolean> {
    return (await this.withUpload(manifest.id, 'read the upload state', (upload) => this.finishIfAllHeld(manifest, upload.marks))) ?? false
  }

  /**
   * Runs `use` on the upload as it is on disk now (one stat when this process already knows it, see
   * local-open-uploads.ts), or returns null when there is none.
   */
  private async withUpload<T>(id: string, doing: string, use: (upload: OpenUpload) => Promise<T> | T): Promise<T | null> {
    const upload = await this.openUploads.acquire(id, this.uploadDir(id)).catch((error) => {
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
    const dir = this.uploadDir(manifest.id)
    const marks = Buffer.alloc(manifest.chunkCount)
    try {
      const bytesRead = await this.io.read(received, marks, 0)
      // `complete` appears only after every mark is set and marks are never cleared, so an
      // unmarked chunk means there is nothing to look for.
      if (bytesRead < marks.length || marks.includes(0)) return false
    } catch (error) {
      throw storageError(error, 'read the upload state')
    }
    try {
      await rename(join(dir, 'data'), join(dir, 'complete'))
      return true
    } catch (error) {
      if (isMissing(error)) return exists(join(dir, 'complete'))
      throw storageError(error, 'finish the upload')
    }
  }

  async remove(id: string, options: { expired?: boolean } = {}): Promise<void> {
    this.openUploads.drop(id)
    if (options.expired) await writeFile(this.tombstone(id), new Date().toISOString())
    const trash = join(this.stagingDirectory, `.trash-${id}-${nonce()}`)
    try {
      await rename(this.uploadDir(id), trash)
    } catch (error) {
      if (isMissing(error)) return
      throw storageError(error, 'remove the upload')
    }
    await rm(trash, { recursive: true, force: true })
  }

  async forget(id: string): Promise<void> {
    await unlink(this.tombstone(id)).catch(() => undefined)
  }

  async commit(id: string, key: string): Promise<void> {
    const source = join(this.uploadDir(id), 'complete')
    const target = this.resolveKey(key)
    await mkdir(dirname(target), { recursive: true }).catch((error) => {
      throw storageError(error, 'create the target folder')
    })
    // A hard link keeps the staged copy until the record is saved; the rename makes the file appear
    // under its final name in one step, replacing any older file there.
    const temp = join(this.stagingDirectory, `.commit-${nonce()}`)
    try {
      try {
        await link(source, temp)
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code
        if (code !== 'EXDEV' && code !== 'EPERM' && code !== 'ENOTSUP') throw error
        await copyFile(source, temp)
      }
      try {
        await rename(temp, target)
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EXDEV') throw error
        const sibling = `${target}.resumable-${nonce()}`
        await copyFile(temp, sibling)
        await rename(sibling, target)
        await unlink(temp)
      }
    } catch (error) {
      await unlink(temp).catch(() => undefined)
      throw storageError(error, 'store the file')
    }
  }

  async statFile(key: string): Promise<FileStat | null> {
    try {
      const info = await stat(this.resolveKey(key))
      return info.isFile() ? { size: info.size, modifiedAt: info.mtime } : null
    } catch (error) {
      if (isMissing(error)) return null
      throw error
    }
  }

  readFile(key: string, range?: { start: number; end: number }): Readable {
    return createReadStream(this.resolveKey(key), range)
  }

  async deleteFile(key: string): Promise<void> {
    const path = this.resolveKey(key)
    await unlink(path).catch((error) => {
      if (!isMissing(error)) throw error
    })
    // Remove folders the key created (e.g. documents/<id>/) once they are empty.
    for (let dir = dirname(path); dir !== this.directory && dir.startsWith(this.directory + sep); dir = dirname(dir)) {
      try {
        await rmdir(dir)
      } catch {
        break
      }
    }
  }

  async sweep(ttlMs: number, now = Date.now()): Promise<SweepResult> {
    // Leftovers first: tombstones written by this very sweep must survive it whatever `now` is.
    const removedLeftovers = await this.cleanLeftovers(now, false, ttlMs * 7)
    const expired: string[] = []
    for (const name of await this.listStaging()) {
      if (!ID.test(name)) continue
      const dir = join(this.stagingDirectory, name)
      const activity = await lastActivity(dir)
      if (activity !== null && now - activity > ttlMs) {
        await this.remove(name, { expired: true })
        expired.push(name)
      }
    }
    return { expired, removedLeftovers }
  }

  /** Turns a record key into a path, refusing anything that could leave the storage root. */
  resolveKey(key: string): string {
    if (typeof key !== 'string' || !key || key.includes('\0') || key.includes('\\') || isAbsolute(key)) {
      throw new InvalidRequest('Invalid storage key.')
    }
    const segments = key.split('/')
    if (segments.some((s) => s === '' || s === '.' || s === '..')) throw new InvalidRequest('Invalid storage key.')
    const path = resolve(this.directory, key)
    const inRoot = relative(this.directory, path)
    const inStaging = relative(this.stagingDirectory, path)
    if (inRoot.startsWith('..') || isAbsolute(inRoot) || !inStaging.startsWith('..')) {
      throw new InvalidRequest('Invalid storage key.')
    }
    return path
  }

  private uploadDir(id: string): string {
    if (!ID.test(id)) throw new InvalidRequest('Invalid upload id.')
    return join(this.stagingDirectory, id)
  }

  private tombstone(id: string): string {
    return `${this.uploadDir(id)}.expired`
  }

  private async listStaging(): Promise<string[]> {
    try {
      return await readdir(this.stagingDirectory)
    } catch (error) {
      if (isMissing(error)) return []
      throw error
    }
  }

  /**
   * Leftovers of crashed operations: half-created uploads, trash, commit links, stale chunk locks,
   * old tombstones and anything else that is not an upload. Uploads whose chunks are all held but
   * that were not renamed yet (a crash right between the two) are finished.
   */
  private async cleanLeftovers(now: number, finishUploads: boolean, tombstoneTtlMs = 7 * 24 * 3600_000): Promise<number> {
    let removed = 0
    for (const name of await this.listStaging()) {
      const path = join(this.stagingDirectory, name)
      const info = await stat(path).catch(() => null)
      if (!info) continue
      const age = now - info.mtimeMs
      if (ID.test(name) && info.isDirectory()) {
        const manifest = await this.get(name).catch(() => null)
        if (!manifest) {
          if (age > this.leftoverGraceMs) removed += await removePath(path)
          continue
        }
        for (const entry of await readdir(path).catch(() => [] as string[])) {
          if (entry.startsWith('lock-') && (await isStaleLock(join(path, entry), this.lockStaleMs, now))) {
            removed += await removePath(join(path, entry))
          }
        }
        if (finishUploads) await this.finishIfReady(manifest).catch(() => false)
      } else if (name.endsWith('.expired') && ID.test(name.slice(0, -8))) {
        if (age > tombstoneTtlMs) removed += await removePath(path)
      } else if (name.startsWith('.trash-') || age > this.leftoverGraceMs) {
        removed += await removePath(path)
      }
    }
    return removed
  }
}

const ID = /^[a-f0-9]{32,64}$/
const ONE = Buffer.from([1])
/**
 * Writes are batched to about this many bytes: four system calls per MiB instead of sixteen. Larger
 * batches cost more than they save: side by side in `npm run bench` (2 GiB, 1 MiB chunks), 1 MiB
 * batches were a third slower and used a third to a half more server CPU, with as many collections
 * of the heap, so not through the GC.
 */
const WRITE_BATCH = 256 * 1024

function nonce(): string {
  return randomBytes(8).toString('hex')
}

async function writeExactly(data: FileHandle, chunk: ChunkWrite): Promise<void> {
  let position = chunk.offset
  let received = 0
  let pending: Buffer[] = []
  let pendingBytes = 0
  // One batch is written while the next one is received: waiting for each write before reading on
  // would stall the socket for every batch (5 MiB chunks: about a fifth slower).
  let writing: Promise<void> = Promise.resolve()
  const startWrite = async () => {
    await writing
    if (!pendingBytes) return
    writing = writeAt(data, pending, pendingBytes, position)
    // Observed here so that a failing write is not reported as unhandled before it is awaited.
    writing.catch(() => undefined)
    position += pendingBytes
    pending = []
    pendingBytes = 0
  }
  try {
    for await (const piece of chunk.body) {
      const buffer = piece as Buffer
      // Refused before writing: a longer body must never spill into the next chunk's bytes.
      if (received + buffer.length > chunk.length) {
        throw new InvalidRequest(`Chunk ${chunk.chunkNumber} carries more than the ${chunk.length} bytes declared.`)
      }
      received += buffer.length
      pending.push(buffer)
      pendingBytes += buffer.length
      if (pendingBytes >= WRITE_BATCH) await startWrite()
    }
    if (received !== chunk.length) {
      throw new InvalidRequest(`Chunk ${chunk.chunkNumber} carried ${received} bytes, but ${chunk.length} were declared.`)
    }
    await startWrite()
    await writing
  } catch (error) {
    // Never give up (and let the handle be closed) while a write is still running.
    await writing.catch(() => undefined)
    throw error
  }
}

/** Writes `bytes` bytes of `buffers` at `position`, however many system calls that takes. */
async function writeAt(data: FileHandle, buffers: Buffer[], bytes: number, position: number): Promise<void> {
  try {
    let written = 0
    while (written < bytes) {
      const { bytesWritten } = await data.writev(written ? sliceBuffers(buffers, written) : buffers, position + written)
      written += bytesWritten
    }
  } catch (error) {
    throw storageError(error, 'write the chunk')
  }
}

function sliceBuffers(buffers: Buffer[], skip: number): Buffer[] {
  const out: Buffer[] = []
  for (const b of buffers) {
    if (skip >= b.length) {
      skip -= b.length
      continue
    }
    out.push(skip ? b.subarray(skip) : b)
    skip = 0
  }
  return out
}

async function discard(body: AsyncIterable<Buffer>): Promise<void> {
  for await (const _ of body) void _
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path)
    return true
  } catch {
    return false
  }
}

async function lastActivity(dir: string): Promise<number | null> {
  const times = await Promise.all(
    ['received', 'manifest.json'].map((f) => stat(join(dir, f)).then((s) => s.mtimeMs, () => 0)),
  )
  const latest = Math.max(...times)
  if (latest > 0) return latest
  return stat(dir).then((s) => s.mtimeMs, () => null)
}

async function removePath(path: string): Promise<number> {
  await rm(path, { recursive: true, force: true }).catch(() => undefined)
  return 1
}

/** The upload was removed (cancelled or expired) while a request for it was under way. */
function uploadGone(): UploadExpired {
  return new UploadExpired('This upload no longer exists on the server; start it again.')
}

/** The copy in memory no longer matches the upload on disk: the retry goes by the disk. */
function uploadChanged(): ChunkBusy {
  return new ChunkBusy('This upload changed on the server while the chunk arrived; retry.')
}

const STORAGE_CODES = new Set(['ENOSPC', 'EDQUOT', 'EACCES', 'EPERM', 'EROFS', 'EIO', 'EMFILE', 'ENFILE', 'EBUSY'])

/** File-system failures become a retryable 507: the chunk is not marked, so a retry is safe. */
function storageError(error: unknown, doing: string): unknown {
  const code = (error as NodeJS.ErrnoException)?.code
  if (code && STORAGE_CODES.has(code)) {
    return new StorageFailure(`The server could not ${doing} (${code}); the upload will be retried.`)
  }
  return error
}
