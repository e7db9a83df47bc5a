import { open, readFile, stat } from 'node:fs/promises'
import type { FileHandle } from 'node:fs/promises'
import { join } from 'node:path'
import { isMissing } from './fs-errors.js'
import { pooledIo, type MetadataIo } from './io.js'
import type { UploadManifest } from '../types.js'

/** An upload this process works on: its manifest and a read-only handle on its `received` file (one mark byte per chunk). */
export interface OpenUpload {
  readonly manifest: UploadManifest
  /** Read-only on purpose: a file kept open for writing would keep the file system from being remounted read-only. */
  readonly received: FileHandle
}

/** Writable handles on an upload's bytes and marks. */
export interface UploadWriter {
  readonly data: FileHandle
  readonly received: FileHandle
}

interface Entry extends OpenUpload {
  readonly dev: number
  readonly ino: number
  users: number
  dropped: boolean
  lastUsed: number
  writer: Promise<UploadWriter> | null
  writers: number
}

/** What reading an upload from disk gives. */
type Loaded = Pick<Entry, 'manifest' | 'received' | 'dev' | 'ino'>

/**
 * Keeps what never changes while an upload exists (its manifest) next to a handle on its `received` marks,
 * so that a request costs one stat instead of reading the manifest and opening `received` (file-system
 * calls are the largest share of a chunk's cost). The handle pins the `received` file's inode: while it
 * is open no other file can get that inode, so finding the same inode at the upload's path proves
 * that the upload there is still this one. A cancelled, expired or restarted upload, by this process
 * or another, has new files. Bounded; idle entries are closed.
 */
export class OpenUploads {
  private readonly entries = new Map<string, Entry>()
  private sweeper: NodeJS.Timeout | null = null

  private readonly io: MetadataIo
  private readonly limit: number
  private readonly idleMs: number

  constructor(options: { io?: MetadataIo; limit?: number; idleMs?: number } = {}) {
    this.io = options.io ?? pooledIo
    this.limit = options.limit ?? 128
    this.idleMs = options.idleMs ?? 15_000
  }

  /** The manifest last seen for `id`, unchecked: a hint that `acquire` confirms or corrects. */
  peek(id: string): UploadManifest | null {
    return this.entries.get(id)?.manifest ?? null
  }

  /**
   * The upload in `dir` as it is on disk now, or null when there is none. Every acquired upload
   * must be released.
   */
  async acquire(id: string, dir: string): Promise<OpenUpload | null> {
    const cached = this.entries.get(id)
    if (cached) {
      let now
      try {
        now = await this.io.stat(join(dir, 'received'))
      } catch (error) {
        if (isMissing(error)) {
          this.evict(id, cached)
          return null
        }
        throw error
      }
      if (!cached.dropped && now.ino === cached.ino && now.dev === cached.dev) {
        cached.users++
        cached.lastUsed = Date.now()
        return cached
      }
      this.evict(id, cached)
    }
    // Twice at most: a second change while loading means the upload is being replaced right now.
    for (let attempt = 0; attempt < 2; attempt++) {
      const loaded = await load(dir)
      if (loaded === 'gone') return null
      if (loaded === 'changed') continue
      return this.keep(id, loaded)
    }
    return null
  }

  release(upload: OpenUpload): void {
    const entry = upload as Entry
    entry.users--
    if (entry.dropped && entry.users === 0) closeQuietly(entry)
  }

  /** Forgets an upload (removed, replaced); its handle closes once nobody uses it. */
  drop(id: string): void {
    const entry = this.entries.get(id)
    if (entry) this.evict(id, entry)
  }

  /** Forgets `entry`, and takes it out of the map only if it is still the one kept for `id`. */
  private evict(id: string, entry: Entry): void {
    if (this.entries.get(id) === entry) this.entries.delete(id)
    if (entry.dropped) return
    entry.dropped = true
    if (entry.users === 0) closeQuietly(entry)
  }

  /**
   * Writable handles on the upload's `data` and `received`, shared by the requests that write to it
   * at the same time and closed when the last of them is done: between requests no file stays open
   * for writing (which would, among other things, keep the file system from being remounted
   * read-only). Pair with `closeWriter`.
   */
  async openWriter(upload: OpenUpload, dir: string): Promise<UploadWriter> {
    const entry = upload as Entry
    entry.writers++
    entry.writer ??= openWriter(dir)
    const opening = entry.writer
    try {
      return await opening
    } catch (error) {
      entry.writers--
      if (entry.writer === opening) entry.writer = null
      throw error
    }
  }

  async closeWriter(upload: OpenUpload): Promise<void> {
    const entry = upload as Entry
    entry.writers--
    if (entry.writers > 0 || !entry.writer) return
    // Taken out before waiting, so that a writer arriving meanwhile opens its own handles.
    const closing = entry.writer
    entry.writer = null
    const writer = await closing
    // Bytes reach the file system at write(); a close error adds nothing to report here.
    await Promise.all([writer.data.close(), writer.received.close()]).catch(() => undefined)
  }

  private keep(id: string, loaded: Loaded): Entry {
    const entry: Entry = { ...loaded, users: 1, dropped: false, lastUsed: Date.now(), writer: null, writers: 0 }
    this.drop(id)
    if (this.entries.size >= this.limit) {
      const idle = [...this.entries].find(([, e]) => e.users === 0)
      // All in use: serve this request without keeping the upload.
      if (!idle) {
        entry.dropped = true
        return entry
      }
      this.evict(idle[0], idle[1])
    }
    this.entries.set(id, entry)
    this.startSweeper()
    return entry
  }

  private startSweeper(): void {
    if (this.sweeper) return
    this.sweeper = setInterval(() => {
      const now = Date.now()
      for (const [id, entry] of this.entries) {
        if (entry.users === 0 && now - entry.lastUsed > this.idleMs) this.evict(id, entry)
      }
      if (!this.entries.size && this.sweeper) {
        clearInterval(this.sweeper)
        this.sweeper = null
      }
    }, this.idleMs)
    // Never the reason the process stays alive.
    this.sweeper.unref()
  }
}

async function openWriter(dir: string): Promise<UploadWriter> {
  const [data, received] = await Promise.allSettled([open(join(dir, 'data'), 'r+'), open(join(dir, 'received'), 'r+')])
  if (data.status === 'fulfilled' && received.status === 'fulfilled') return { data: data.value, received: received.value }
  for (const opened of [data, received]) if (opened.status === 'fulfilled') await opened.value.close().catch(() => undefined)
  throw (data.status === 'rejected' ? data.reason : (received as PromiseRejectedResult).reason)
}

async function load(dir: string): Promise<Loaded | 'gone' | 'changed'> {
  let received: FileHandle
  try {
    received = await open(join(dir, 'received'), 'r')
  } catch (error) {
    if (isMissing(error)) return 'gone'
    throw error
  }
  try {
    const { dev, ino } = await received.stat()
    const manifest = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')) as UploadManifest
    // The manifest belongs to these marks if they are still the ones at the path after reading it.
    const after = await stat(join(dir, 'received'))
    if (after.ino !== ino || after.dev !== dev) {
      await received.close()
      return 'changed'
    }
    return { manifest, received, dev, ino }
  } catch (error) {
    await received.close().catch(() => undefined)
    if (isMissing(error)) return 'changed'
    throw error
  }
}

function closeQuietly(entry: Entry): void {
  entry.received.close().catch(() => undefined)
}
