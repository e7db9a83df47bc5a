import { ChunkBusy, TooManyUploads } from '../../errors.js'
import type { OwnerLimits, UploadManifest } from '../types.js'
import { storageError } from './fs-errors.js'
import type { MetadataIo } from './io.js'
import type { StagingLayout } from './layout.js'
import { acquireFileLock } from './lock.js'
import type { OwnerUsage } from './usage.js'

/** How long a first chunk waits for another request counting the same owner's usage. */
const OWNER_LOCK_WAIT_MS = 5_000

export type Release = () => Promise<void>

/**
 * An owner's limits held across every process sharing the staging folder. Counting and reserving
 * happen under the owner's lock file, one request at a time; the reservation, a file in the staging
 * folder, then counts as one of the owner's uploads until the upload's folder is in place, so a
 * creation in flight in another process is never invisible to the count. A reservation is a lock
 * file (lock.ts): its holder refreshes it, and one whose holder died stops counting.
 */
export class OwnerReservations {
  /** Requests of this process waiting for an owner's lock, one after the other. */
  private readonly queues = new Map<string, Promise<void>>()

  constructor(
    private readonly layout: StagingLayout,
    private readonly io: MetadataIo,
    private readonly owners: OwnerUsage,
    private readonly staleMs: number,
  ) {}

  /**
   * Reserves room for `manifest` within `limits` (TooManyUploads when there is none), or returns
   * null when `exists` says the upload is there already (it is never refused for the limits).
   */
  async reserve(manifest: UploadManifest, limits: OwnerLimits, exists: () => Promise<boolean>): Promise<Release | null> {
    return this.inTurn(manifest.owner, async () => {
      const unlock = await this.lockOwner(manifest.owner)
      try {
        if (await exists()) return null
        this.check(manifest, limits, await this.owners.of(manifest.owner))
        return await acquireFileLock(
          this.layout.reservation(manifest.owner, manifest.id, manifest.totalSize),
          this.staleMs,
          'This upload is being started by another request; retry shortly.',
          this.io,
        ).catch((error) => {
          if (error instanceof ChunkBusy) throw error
          throw storageError(error, 'start the upload')
        })
      } finally {
        await unlock()
      }
    })
  }

  private check(manifest: UploadManifest, limits: OwnerLimits, usage: { uploads: number; bytes: number }): void {
    if (limits.uploads !== undefined && usage.uploads + 1 > limits.uploads) {
      throw new TooManyUploads(`You have ${usage.uploads} unfinished uploads, the most allowed: save or cancel one, or wait until abandoned ones expire, then try again.`)
    }
    if (limits.bytes !== undefined && usage.bytes + manifest.totalSize > limits.bytes) {
      throw new TooManyUploads(`Your unfinished uploads already hold ${usage.bytes} of the ${limits.bytes} bytes allowed; this file needs ${manifest.totalSize} more: save or cancel one, then try again.`)
    }
  }

  /** The owner's lock file; another process holds it only for a count, so it is worth waiting for. */
  private async lockOwner(owner: string): Promise<Release> {
    const deadline = Date.now() + OWNER_LOCK_WAIT_MS
    for (;;) {
      try {
        return await acquireFileLock(this.layout.ownerLock(owner), this.staleMs, 'Your uploads are being counted by another request; retry shortly.', this.io)
      } catch (error) {
        if (!(error instanceof ChunkBusy)) throw storageError(error, 'start the upload')
        if (Date.now() > deadline) throw error
        await new Promise((done) => setTimeout(done, 2 + Math.random() * 8))
      }
    }
  }

  /** Runs `work` after this process's earlier requests for the same owner. */
  private async inTurn<T>(owner: string, work: () => Promise<T>): Promise<T> {
    const before = this.queues.get(owner) ?? Promise.resolve()
    const run = before.then(work)
    const settled = run.then(() => undefined, () => undefined)
    this.queues.set(owner, settled)
    try {
      return await run
    } finally {
      if (this.queues.get(owner) === settled) this.queues.delete(owner)
    }
  }
}
