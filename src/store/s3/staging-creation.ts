import { randomBytes } from 'node:crypto'
import { ChunkBusy, TooManyUploads } from '../../errors.js'
import type { OwnerLockTable } from '../shared-state/owner-locks.js'
import type { PartTable } from '../shared-state/parts.js'
import type { UploadTable } from '../shared-state/uploads.js'
import type { OwnerLimits, UploadManifest } from '../types.js'
import type { S3Clients, S3Location } from './client.js'
import type { S3Keys } from './keys.js'
import { gone } from './staging-rows.js'
import { removeStaged } from './staging-cleanup.js'

/** The parts of the S3 staging store that creating an upload, and writing its parts, need. */
export interface CreationDeps {
  s3: S3Clients
  where: S3Location
  keys: S3Keys
  uploads: UploadTable
  parts: PartTable
  ownerLocks: OwnerLockTable
}

/** How long a first chunk waits for another host counting the same owner's uploads. */
const OWNER_LOCK_WAIT_MS = 5_000

/**
 * Creates the upload's row unless one exists (first writer wins). `inserted` tells whether this
 * request made it, so that a first chunk that fails can take its empty upload away again.
 * With `limits`, the owner's uploads are counted and the row inserted under the owner's lock, and
 * a new upload past the limits is refused (TooManyUploads).
 */
export async function createUpload(
  deps: CreationDeps, manifest: UploadManifest, limits: OwnerLimits | null, now: () => number, ownerLockLeaseMs = 30_000,
): Promise<{ manifest: UploadManifest; inserted: boolean }> {
  const limited = !!limits && (limits.uploads !== undefined || limits.bytes !== undefined)
  for (let attempt = 0; attempt < 5; attempt++) {
    const row = await deps.uploads.find(manifest.id)
    if (row?.state === 'expired') throw gone()
    if (row?.state === 'aborted') {
      await removeStaged(deps, row, now(), 'missing')
      continue
    }
    if (row) return { manifest: row.manifest, inserted: false }
    const key = deps.keys.staging(manifest.id, randomBytes(8).toString('hex'))
    const inserted = limited
      ? await withOwnerLock(deps, manifest.owner, now, ownerLockLeaseMs, async () => {
        // Another request may have created it while this one waited: it is never refused then.
        if (await deps.uploads.find(manifest.id)) return false
        withinLimits(manifest, limits!, await deps.uploads.usage(manifest.owner))
        return deps.uploads.insert(manifest, key, now())
      })
      : await deps.uploads.insert(manifest, key, now())
    if (inserted) return { manifest, inserted: true }
  }
  throw new ChunkBusy('The upload is being removed; retry shortly.')
}

function withinLimits(manifest: UploadManifest, limits: OwnerLimits, usage: { uploads: number; bytes: number }): void {
  if (limits.uploads !== undefined && usage.uploads + 1 > limits.uploads) {
    throw new TooManyUploads(`You have ${usage.uploads} unfinished uploads, the most allowed: save or cancel one, or wait until abandoned ones expire, then try again.`)
  }
  if (limits.bytes !== undefined && usage.bytes + manifest.totalSize > limits.bytes) {
    throw new TooManyUploads(`Your unfinished uploads already hold ${usage.bytes} of the ${limits.bytes} bytes allowed; this file needs ${manifest.totalSize} more: save or cancel one, then try again.`)
  }
}

/** Runs `work` holding the owner's lock; another host holds it only for a count and an insert. */
async function withOwnerLock<T>(deps: CreationDeps, owner: string, now: () => number, leaseMs: number, work: () => Promise<T>): Promise<T> {
  const token = randomBytes(8).toString('hex')
  const deadline = Date.now() + OWNER_LOCK_WAIT_MS
  while (!(await deps.ownerLocks.acquire(owner, token, now(), leaseMs))) {
    if (Date.now() > deadline) throw new ChunkBusy('Your uploads are being counted by another request; retry shortly.')
    await new Promise((done) => setTimeout(done, 5 + Math.random() * 20))
  }
  try {
    return await work()
  } finally {
    await deps.ownerLocks.release(owner, token).catch(() => undefined)
  }
}

/**
 * Takes away an upload whose first chunk failed in the request that created it, if nothing was put
 * into it meanwhile (no part held or being written): an upload exists only once a chunk is stored.
 */
export async function dropIfEmpty(deps: CreationDeps, id: string, now: number): Promise<void> {
  const row = await deps.uploads.find(id)
  if (!row || row.state !== 'open') return
  if ((await deps.parts.count(id)) > 0) return
  await removeStaged(deps, row, now, 'missing')
}
