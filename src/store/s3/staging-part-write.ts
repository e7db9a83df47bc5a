import { randomBytes } from 'node:crypto'
import { ChunkBusy, InvalidRequest } from '../../errors.js'
import { manifestDifferences } from '../manifest.js'
import type { UploadRow } from '../shared-state/uploads.js'
import type { ChunkWrite, OwnerLimits, UploadManifest, WriteResult } from '../types.js'
import { isNoSuchUpload } from './client.js'
import { discardBody } from './exact-body.js'
import { checkUploadId } from './keys.js'
import { uploadPart } from './multipart.js'
import { awaitComplete, completeIfReady } from './staging-completion.js'
import { createUpload, dropIfEmpty, type CreationDeps } from './staging-creation.js'
import { ensureMultipart, gone, live } from './staging-rows.js'
import { removeStaged } from './staging-cleanup.js'
import type { S3StagingTimings } from './staging-timings.js'

type PartWriteDeps = CreationDeps

type PartWriteTimings = S3StagingTimings

/**
 * Streams the chunk to S3 as part `chunkNumber`. The part is claimed in the shared table first (a
 * second request for it, on any host, gets ChunkBusy), and marked held only once S3 returned its
 * ETag. A failure of the body or of the object store releases the claim, marks nothing.
 * With `create`, a chunk of an upload that does not exist creates it (within the owner's limits);
 * if that chunk then fails and nothing else went into the upload, the upload is taken away again.
 */
export async function writeChunk(
  deps: PartWriteDeps, manifest: UploadManifest, chunk: ChunkWrite, options: { create?: OwnerLimits },
  timings: PartWriteTimings, now: () => number,
): Promise<WriteResult> {
  const existing = await deps.uploads.find(checkUploadId(manifest.id))
  let created = false
  if (!existing || existing.state === 'aborted') {
    // An `aborted` row is a removal under way (a cancel, an expiry, a failed first chunk taken away):
    // retry shortly, and the answer then follows from what the removal left (410 or a new upload).
    if (!options.create) throw existing ? new ChunkBusy('This upload is being removed; retry shortly.') : gone()
    created = (await createUpload(deps, manifest, options.create, now, timings.ownerLockLeaseMs)).inserted
  }
  try {
    return await writePart(deps, manifest, chunk, timings, now)
  } catch (error) {
    if (created) await dropIfEmpty(deps, manifest.id, now()).catch(() => undefined)
    throw error
  }
}

async function writePart(
  deps: PartWriteDeps, manifest: UploadManifest, chunk: ChunkWrite, timings: PartWriteTimings, now: () => number,
): Promise<WriteResult> {
  const { uploads, parts } = deps
  const before = await liveRow(deps, manifest)
  if (before.state !== 'open') {
    await discardBody(chunk.body)
    return { complete: await awaitComplete(deps, before, timings, now), written: false }
  }
  const token = randomBytes(12).toString('hex')
  const claim = await parts.claim(manifest.id, chunk.chunkNumber, token, now(), timings.partLeaseMs, chunk.sha256)
  if (claim === 'busy') throw new ChunkBusy(`Chunk ${chunk.chunkNumber} is being written by another request; retry shortly.`)
  if (claim === 'held') {
    await discardBody(chunk.body)
    return { complete: await completeIfReady(deps, before, timings, now), written: false }
  }
  let etag: string
  let row: UploadRow | null = null
  // A writer that lost its claim (it stalled past the lease and another request took the part over)
  // stops sending at once, so that its late bytes do not replace the new writer's part in S3.
  const renewal = setInterval(() => {
    parts.renew(manifest.id, chunk.chunkNumber, token, now()).then(
      (ours) => ours || chunk.body.destroy(new ChunkBusy(`Chunk ${chunk.chunkNumber} was taken over by another request; retry shortly.`)),
      () => undefined,
    )
  }, Math.max(1000, timings.partLeaseMs / 3))
  try {
    // Read after the claim: if the upload is removed (and maybe started afresh) from here on, the
    // claim is deleted with it and markHeld below refuses, so a part is never recorded against
    // another multipart upload than the one it went to.
    row = await liveRow(deps, manifest)
    const multipart = await ensureMultipart(deps, row, timings, now, chunk.sha256 ? 'SHA256' : null)
    // The bucket would refuse the part (and later the completion) without its checksum: say so
    // now, naming what the client left out, before any byte is sent.
    if (multipart.partChecksum && !chunk.sha256) {
      throw new InvalidRequest(
        `This upload started with per-chunk SHA-256 digests: chunk ${chunk.chunkNumber} must carry resumableChunkSha256 too.`,
      )
    }
    etag = await uploadPart(deps.s3, deps.where, row.objectKey, multipart.uploadId, {
      partNumber: chunk.chunkNumber,
      length: chunk.length,
      body: chunk.body,
      sha256: chunk.sha256,
      sink: chunk.sink,
      checksummed: multipart.partChecksum !== null,
    })
  } catch (error) {
    chunk.sink?.failed()
    await parts.release(manifest.id, chunk.chunkNumber, token).catch(() => undefined)
    // The multipart upload vanished from the object store (a lifecycle rule aborted it): no part
    // can ever complete it, so the upload expires and the client starts again instead of retrying for ever.
    if (row && isNoSuchUpload(error)) {
      await removeStaged(deps, row, now(), 'expired').catch(() => undefined)
      throw gone()
    }
    throw error
  } finally {
    clearInterval(renewal)
  }
  if (!(await parts.markHeld(manifest.id, chunk.chunkNumber, token, etag, chunk.length, chunk.sha256 ?? null))) {
    chunk.sink?.failed()
    const latest = await uploads.find(manifest.id)
    if (!latest || !live(latest)) throw gone()
    throw new ChunkBusy(`Chunk ${chunk.chunkNumber} was taken over by another request; retry shortly.`)
  }
  chunk.sink?.held(row.manifest)
  await uploads.touch(manifest.id, now())
  return { complete: await completeIfReady(deps, row, timings, now), written: true }
}

/** The upload's row, refusing one that is gone (410) or was started afresh with another file (503: retry re-reads). */
async function liveRow(deps: PartWriteDeps, manifest: UploadManifest): Promise<UploadRow> {
  const row = await deps.uploads.find(checkUploadId(manifest.id))
  if (!row || !live(row)) throw gone()
  if (manifestDifferences(row.manifest, manifest).length) throw new ChunkBusy('The upload was started again with another file; retry.')
  return row
}
