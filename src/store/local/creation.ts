import { mkdir, open, rename, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { UploadExpired } from '../../errors.js'
import type { ChunkWrite, OwnerLimits, UploadManifest, WriteResult } from '../types.js'
import { writeExactly } from './chunk-write.js'
import { exists, storageError, uploadChanged } from './fs-errors.js'
import type { MetadataIo } from './io.js'
import { FILES, type StagingLayout } from './layout.js'
import type { OwnerReservations } from './owner-reservations.js'

const ONE = Buffer.from([1])

/** How the local staging store creates uploads: with their first chunk, within the owner's limits. */
export class Creations {
  /** Uploads this process is creating now, by id: a second first chunk waits for the first. */
  private readonly creating = new Map<string, Promise<void>>()
  constructor(
    private readonly layout: StagingLayout,
    private readonly io: MetadataIo,
    private readonly reservations: OwnerReservations,
    private readonly uploadExists: (id: string) => Promise<boolean>,
  ) {}

  /**
   * Creates the upload together with its first chunk, in a folder of its own that is renamed into
   * place only once the chunk is stored: a request whose chunk fails leaves nothing behind. Null
   * when the upload exists (by the time this request's turn came): the chunk then goes into it.
   */
  async createWith(manifest: UploadManifest, chunk: ChunkWrite, limits: OwnerLimits): Promise<WriteResult | null> {
    for (let pending = this.creating.get(manifest.id); pending; pending = this.creating.get(manifest.id)) await pending
    let done!: () => void
    this.creating.set(manifest.id, new Promise<void>((resolve) => { done = resolve }))
    try {
      if (await this.uploadExists(manifest.id)) return null
      if (await exists(this.layout.tombstone(manifest.id))) throw expiredError()
      if (limits.uploads === undefined && limits.bytes === undefined) return await this.createFolder(manifest, chunk)
      // Counted by every process until the folder is in place, released whatever happens.
      const release = await this.reservations.reserve(manifest, limits, () => this.uploadExists(manifest.id))
      if (!release) return null
      try {
        return await this.createFolder(manifest, chunk)
      } finally {
        await release()
      }
    } finally {
      this.creating.delete(manifest.id)
      done()
    }
  }

  private async createFolder(manifest: UploadManifest, chunk: ChunkWrite): Promise<WriteResult> {
    const temp = this.layout.creating(manifest.id)
    const complete = manifest.chunkCount === 1
    try {
      await mkdir(temp)
      await writeFile(join(temp, FILES.manifest), JSON.stringify(manifest))
      await writeFile(join(temp, FILES.received), Buffer.alloc(manifest.chunkCount))
      const data = await open(join(temp, FILES.data), 'wx')
      try {
        await data.truncate(manifest.totalSize)
        await writeExactly(data, chunk)
      } finally {
        await data.close()
      }
      const received = await open(join(temp, FILES.received), 'r+')
      try {
        await this.io.write(received, ONE, chunk.chunkNumber - 1)
      } finally {
        await received.close()
      }
      if (complete) await rename(join(temp, FILES.data), join(temp, FILES.complete))
    } catch (error) {
      await rm(temp, { recursive: true, force: true })
      throw storageError(error, 'start the upload')
    }
    try {
      await rename(temp, this.layout.upload(manifest.id))
      return { complete, written: true }
    } catch (error) {
      await rm(temp, { recursive: true, force: true })
      const code = (error as NodeJS.ErrnoException).code
      // Another process created the upload meanwhile: this chunk goes into it on the retry.
      if (code === 'ENOTEMPTY' || code === 'EEXIST') throw uploadChanged()
      throw storageError(error, 'start the upload')
    }
  }

}

function expiredError(): UploadExpired {
  return new UploadExpired('This upload expired on the server and was removed; start it again.')
}
