import type { PartTable } from '../shared-state/parts.js'
import type { UploadRow, UploadTable } from '../shared-state/uploads.js'
import type { S3Clients, S3Location } from './client.js'
import { statObject } from './files.js'
import type { S3Keys } from './keys.js'
import { completeMultipart } from './multipart.js'
import { live, sleep } from './staging-rows.js'
import { removeStaged } from './staging-cleanup.js'

interface CompletionDeps {
  s3: S3Clients
  where: S3Location
  keys: S3Keys
  uploads: UploadTable
  parts: PartTable
}

interface CompletionTimings {
  completionStaleMs: number
  completionWaitMs: number
  pollMs: number
}

/**
 * Runs CompleteMultipartUpload if every part is held and this host wins `open → completing`;
 * a host that loses waits (bounded) for the winner's `complete`.
 */
export async function completeIfReady(deps: CompletionDeps, row: UploadRow, timings: CompletionTimings, now: () => number): Promise<boolean> {
  const { uploads, parts } = deps
  if ((await parts.heldCount(row.id)) < row.manifest.chunkCount) return false
  const stamp = await uploads.beginCompleting(row.id, now(), timings.completionStaleMs)
  if (stamp === null) return awaitComplete(deps, (await uploads.find(row.id)) ?? row, timings, now)
  const current = (await uploads.find(row.id)) ?? row
  try {
    await assemble(deps, current)
  } catch (error) {
    await uploads.abandonCompleting(row.id, stamp).catch(() => undefined)
    throw error
  }
  if (await uploads.finishCompleting(row.id, stamp, now())) return true
  // Removed (or expired) while completing: the assembled object belongs to nobody.
  const after = await uploads.find(row.id)
  if (!after || !live(after) || after.objectKey !== current.objectKey) {
    await removeStaged(deps, { ...current, state: 'complete' }, now(), null).catch(() => undefined)
    return false
  }
  return after.state === 'complete'
}

/** Waits (bounded) for another host's completion of the upload; true once it is `complete`. */
export async function awaitComplete(deps: CompletionDeps, row: UploadRow, timings: CompletionTimings, now: () => number): Promise<boolean> {
  const deadline = now() + timings.completionWaitMs
  for (let current: UploadRow | null = row; current && live(current); current = await deps.uploads.find(row.id)) {
    if (current.state === 'complete') return true
    if (current.state === 'open') return false
    // A completion left stale by a dead host is taken over here rather than waited on for ever.
    if (current.completingAt !== null && now() - current.completingAt > timings.completionStaleMs) {
      return completeIfReady(deps, { ...current, state: 'open' }, timings, now)
    }
    if (now() > deadline) return false
    await sleep(timings.pollMs)
  }
  return false
}

/**
 * CompleteMultipartUpload with the parts of the table. A host taking over a completion whose host
 * died may find the upload already completed: S3 answers a repeated Complete with success or
 * NoSuchUpload, s3rver with a 500; either way the object being there with the file's size settles it.
 */
async function assemble(deps: CompletionDeps, row: UploadRow): Promise<void> {
  const held = await deps.parts.held(row.id)
  try {
    if (!row.s3UploadId) throw new Error('no multipart upload recorded')
    // An upload created with SHA256 wants each part's checksum in the completion as well.
    const parts = row.partChecksum ? held : held.map(({ partNumber, etag }) => ({ partNumber, etag }))
    await completeMultipart(deps.s3, deps.where, row.objectKey, row.s3UploadId, parts)
  } catch (error) {
    const object = await statObject(deps.s3, deps.where, row.objectKey).catch(() => null)
    if (object?.size === row.manifest.totalSize) return
    throw error
  }
}
