import type { PartTable } from '../shared-state/parts.js'
import type { UploadRow, UploadTable } from '../shared-state/uploads.js'
import { tombstoneLifetime } from '../tombstones.js'
import type { SweepResult } from '../types.js'
import type { S3Clients, S3Location } from './client.js'
import { deleteObject } from './files.js'
import type { S3Keys } from './keys.js'
import { abortMultipart, listMultipart } from './multipart.js'

interface CleanupDeps {
  s3: S3Clients
  where: S3Location
  keys: S3Keys
  uploads: UploadTable
  parts: PartTable
}

/** `aborted` rows older than this are a removal that crashed half way; younger ones may be in progress. */
const ABORTED_GRACE_MS = 60_000

/**
 * Removes a staged upload: first the row goes to `aborted` (so no host completes or writes it any
 * more, and a crash from here on is finished by the sweep), then the multipart upload is aborted and
 * any assembled staging object deleted, then the parts are forgotten, and the row becomes a tombstone
 * (`expired`) or disappears (`missing`). `null` only cleans the object store, for an object that no
 * row owns any more. An object-store failure leaves the row `aborted` for the sweep to finish.
 */
export async function removeStaged(deps: CleanupDeps, row: UploadRow, now: number, outcome: 'expired' | 'missing' | null): Promise<void> {
  const { uploads, parts } = deps
  if (outcome !== null && row.state !== 'aborted') {
    if (!(await uploads.transition(row.id, ['open', 'completing', 'complete'], 'aborted', now))) {
      const current = await uploads.find(row.id)
      if (!current || current.state === 'expired') return
      if (current.state !== 'aborted') return removeStaged(deps, current, now, outcome)
    }
  }
  if (row.s3UploadId) await abortMultipart(deps.s3, deps.where, row.objectKey, row.s3UploadId)
  // Also for an `open` row: a completion may have assembled the object just before the abort mark.
  await deleteObject(deps.s3, deps.where, row.objectKey)
  if (outcome === null) return
  await parts.deleteAll(row.id)
  if (outcome === 'expired') await uploads.transition(row.id, ['aborted'], 'expired', now)
  else await uploads.delete(row.id, ['aborted'])
}

/**
 * Expires uploads idle for longer than `ttlMs` (a tombstone each, so the client gets 410), deletes
 * tombstones older than their lifetime (the local store's rule), finishes removals a crash
 * interrupted, and — where the server lists multipart uploads (s3rver does not) —
 * aborts multipart uploads under the staging prefix that no row knows, which a crash between
 * CreateMultipartUpload and recording its UploadId leaves behind.
 */
export async function sweepStaged(deps: CleanupDeps, ttlMs: number, now: number): Promise<SweepResult> {
  const expired: string[] = []
  let removedLeftovers = 0
  for (const row of await deps.uploads.idle(['open', 'completing', 'complete'], now - ttlMs)) {
    try {
      await removeStaged(deps, row, now, 'expired')
      expired.push(row.id)
    } catch {
      // Left `aborted`: the next sweep finishes it.
    }
  }
  // A tombstone's activity is the moment it expired: those written just above are kept.
  removedLeftovers += await deps.uploads.deleteIdle(['expired'], now - tombstoneLifetime(ttlMs))
  for (const row of await deps.uploads.idle(['aborted'], now - Math.min(ttlMs, ABORTED_GRACE_MS))) {
    try {
      await removeStaged(deps, row, now, 'missing')
      removedLeftovers++
    } catch {
      // Still unreachable: next time.
    }
  }
  const open = await listMultipart(deps.s3, deps.where, deps.keys.stagingPrefix).catch(() => null)
  for (const upload of open ?? []) {
    const old = upload.initiated === null || upload.initiated.getTime() < now - ttlMs
    if (old && !(await deps.uploads.hasMultipart(upload.uploadId))) {
      const outcome = await abortMultipart(deps.s3, deps.where, upload.key, upload.uploadId).catch(() => 'failed')
      if (outcome === 'aborted') removedLeftovers++
    }
  }
  return { expired, removedLeftovers }
}
