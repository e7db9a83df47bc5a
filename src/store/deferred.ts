import { PassThrough, type Readable } from 'node:stream'
import type { DownloadUrlOptions, FileStorage } from './file-storage.js'
import type { FinishedUpload, StagingStore } from './staging.js'
import type { ChunkQuery, ChunkWrite, OwnerLimits, UploadCompletion, UploadManifest } from './types.js'

/** A backend whose parts are built asynchronously (an SDK to load, tables to create). */
export interface OpenedBackend {
  staging: StagingStore
  files: FileStorage
  close(): void | Promise<void>
}

/**
 * A backend that is opened on first use: the feature is configured synchronously, while S3 needs
 * its SDK imported and its tables created first. Every call waits for the opening; an opening that
 * failed (database or object store unreachable at start-up) is tried again by the next call
 * instead of failing for ever.
 */
export function deferredBackend<T extends OpenedBackend>(open: () => Promise<T>): { staging: DeferredStaging; files: DeferredFiles; opened(): Promise<T> } {
  let opening: Promise<T> | null = null
  const get = () => {
    opening ??= open().catch((error: unknown) => {
      opening = null
      throw error
    })
    return opening
  }
  const close = async () => {
    const opened = opening && (await opening.catch(() => null))
    opening = null
    await opened?.close()
  }
  return { staging: new DeferredStaging(get, close), files: new DeferredFiles(get), opened: get }
}

type Opened = () => Promise<OpenedBackend>

export class DeferredStaging implements StagingStore {
  constructor(private readonly opened: Opened, readonly close: () => Promise<void>) {}
  private async store(): Promise<StagingStore> {
    return (await this.opened()).staging
  }

  async init() { return (await this.store()).init() }
  async find(wanted: UploadManifest) { return (await this.store()).find(wanted) }
  async get(id: string) { return (await this.store()).get(id) }
  async list(owner: string) { return (await this.store()).list(owner) }
  async saveCompletion(id: string, completion: UploadCompletion) { return (await this.store()).saveCompletion(id, completion) }
  async completion(id: string) { return (await this.store()).completion(id) }
  async state(id: string) { return (await this.store()).state(id) }
  async chunkState(id: string, n: number, query?: ChunkQuery) { return (await this.store()).chunkState(id, n, query) }
  async writeChunk(m: UploadManifest, chunk: ChunkWrite, options?: { create?: OwnerLimits }) { return (await this.store()).writeChunk(m, chunk, options) }
  async finishIfReady(m: UploadManifest) { return (await this.store()).finishIfReady(m) }
  async finished(id: string) { return (await this.store()).finished(id) }
  async remove(id: string, options?: { expired?: boolean }) { return (await this.store()).remove(id, options) }
  async clearExpired(id: string) { return (await this.store()).clearExpired(id) }
  async usage(owner: string) { return (await this.store()).usage(owner) }
  async sweep(ttlMs: number, now?: number) { return (await this.store()).sweep(ttlMs, now) }
}

export class DeferredFiles implements FileStorage {
  constructor(private readonly opened: Opened) {}
  private async storage(): Promise<FileStorage> {
    return (await this.opened()).files
  }

  async init() { return (await this.storage()).init() }
  async place(upload: FinishedUpload, key: string) { return (await this.storage()).place(upload, key) }
  async stat(key: string) { return (await this.storage()).stat(key) }
  async delete(key: string) { return (await this.storage()).delete(key) }

  async downloadUrl(key: string, options: DownloadUrlOptions): Promise<string | null> {
    const files = await this.storage()
    return files.downloadUrl ? files.downloadUrl(key, options) : null
  }

  /** The stream is returned at once (as FileStorage.read promises); key errors and failures arrive on it. */
  read(key: string, range?: { start: number; end: number }): Readable {
    const out = new PassThrough()
    this.storage().then(
      (files) => {
        const source = files.read(key, range)
        source.on('error', (error) => out.destroy(error))
        out.on('close', () => source.destroy())
        source.pipe(out)
      },
      (error: Error) => out.destroy(error),
    )
    return out
  }
}
