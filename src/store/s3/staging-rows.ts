import { ChunkBusy, UploadExpired } from '../../errors.js'
import type { PartChecksum, UploadRow, UploadTable } from '../shared-state/uploads.js'
import type { S3Clients, S3Location } from './client.js'
import { abortMultipart, createMultipart } from './multipart.js'

/** A row the upload can still use: not being removed, not a tombstone. */
export function live(row: UploadRow): boolean {
  return row.state === 'open' || row.state === 'completing' || row.state === 'complete'
}

export function gone(): UploadExpired {
  return new UploadExpired('This upload expired or was cancelled; start it again.')
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

/**
 * The upload's S3 UploadId, created by exactly one host: the one whose conditional update wins the
 * create claim. The others poll for the recorded id (bounded by the claim's lease), then answer
 * ChunkBusy so that the client retries rather than waiting on a host that may have died.
 * The creating host names `checksum` ('SHA256' when its chunk carries a digest); the answer says
 * which algorithm the upload actually has, whoever created it.
 */
export async function ensureMultipart(
  deps: { s3: S3Clients; where: S3Location; uploads: UploadTable },
  row: UploadRow,
  timings: { createLeaseMs: number; pollMs: number },
  now: () => number,
  checksum: PartChecksum | null = null,
): Promise<{ uploadId: string; partChecksum: PartChecksum | null }> {
  const { uploads } = deps
  const deadline = now() + timings.createLeaseMs
  for (let current: UploadRow | null = row; current && live(current); current = await uploads.find(row.id)) {
    if (current.s3UploadId) return { uploadId: current.s3UploadId, partChecksum: current.partChecksum }
    const stamp = now()
    if (await uploads.claimCreate(row.id, stamp, timings.createLeaseMs)) {
      let created: string
      try {
        created = await createMultipart(deps.s3, deps.where, row.objectKey, row.manifest.type, checksum)
      } catch (error) {
        await uploads.releaseCreate(row.id, stamp).catch(() => undefined)
        throw error
      }
      if (await uploads.setMultipart(row.id, created, checksum)) return { uploadId: created, partChecksum: checksum }
      // Another host recorded one first (it took over a claim it thought dead): ours is never used.
      await abortMultipart(deps.s3, deps.where, row.objectKey, created).catch(() => undefined)
      continue
    }
    if (now() > deadline) break
    await sleep(timings.pollMs)
  }
  const latest = await uploads.find(row.id)
  if (!latest || !live(latest)) throw gone()
  throw new ChunkBusy('The upload is being started by another request; retry shortly.')
}
