import { randomBytes } from 'node:crypto'
import { ChunkBusy, TooManyUploads } from '../../errors.js'
import type { PartTable } from '../shared-state/parts.js'
import type { UploadTable } from '../shared-state/uploads.js'
import type { OwnerLimits, UploadManifest } from '../types.js'
import type { S3Clients, S3Location } from './client.js'
import type { S3Keys } from './keys.js'
import { gone } from './staging-rows.js'
import { removeStaged } from './staging-cleanup.js'

interface CreationDeps {
  s3: S3Clients
  where: S3Location
  keys: S3Keys
  uploads: UploadTable
  parts: PartTable
}

/**
 * Creates the upload's row unless one exists (first writer wins). `inserted` tells whether this
 * request made it, so that a first chunk that fails can take its empty upload away again.
 * With `limits`, a new row past the owner's limits is removed again and refused (TooManyUploads).
 */
export async function createUpload(
  deps: CreationDeps, manifest: UploadManifest, limits: OwnerLimits | null, now: () => number,
): Promise<{ manifest: UploadManifest; inserted: boolean }> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const row = await deps.uploads.find(manifest.id)
    if (row?.state === 'expired') throw gone()
    if (row?.state === 'aborted') {
      await removeStaged(deps, row, now(), 'missing')
      continue
    }
    if (row) return { manifest: row.manifest, inserted: false }
    const createdAt = now()
    const key = deps.keys.staging(manifest.id, randomBytes(8).toString('hex'))
    if (!(await deps.uploads.insert(manifest, key, createdAt))) continue
    if (limits) await withinLimits(deps, manifest, limits, createdAt)
    return { manifest, inserted: true }
  }
  throw new ChunkBusy('The upload is being removed; retry shortly.')
}

/**
 * The limits are checked after the insert, against what the owner created up to this upload: a check
 * before it would let parallel first chunks on several hosts all pass. Over a limit, the row goes
 * again (through removeStaged, so that a request that already claimed a part of it cannot record it).
 */
async function withinLimits(deps: CreationDeps, manifest: UploadManifest, limits: OwnerLimits, createdAt: number): Promise<void> {
  if (limits.uploads === undefined && limits.bytes === undefined) return
  const usage = await deps.uploads.usageUpTo(manifest.owner, manifest.id, createdAt)
  const before = { uploads: usage.uploads - 1, bytes: usage.bytes - manifest.totalSize }
  let refusal: string | null = null
  if (limits.uploads !== undefined && usage.uploads > limits.uploads) {
    refusal = `You have ${before.uploads} unfinished uploads, the most allowed: save or cancel one, or wait until abandoned ones expire, then try again.`
  } else if (limits.bytes !== undefined && usage.bytes > limits.bytes) {
    refusal = `Your unfinished uploads already hold ${before.bytes} of the ${limits.bytes} bytes allowed; this file needs ${manifest.totalSize} more: save or cancel one, then try again.`
  }
  if (!refusal) return
  const row = await deps.uploads.find(manifest.id)
  if (row) await removeStaged(deps, row, createdAt, 'missing').catch(() => undefined)
  throw new TooManyUploads(refusal)
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
