import { manifestDifferences } from '../manifest.js'
import type { ChunkWrite, UploadManifest, WriteResult } from '../types.js'
import { readChunkDigest, writeChunkDigest } from './chunk-digests.js'
import { discard, writeExactly } from './chunk-write.js'
import { exists, isMissing, storageError, uploadChanged, uploadGone } from './fs-errors.js'
import type { MetadataIo } from './io.js'
import type { StagingLayout } from './layout.js'
import { acquireFileLock } from './lock.js'
import type { OpenUploads } from './open-uploads.js'
import { finishIfAllHeld, readMark } from './received-marks.js'

/** What a chunk write into an existing upload needs of the local staging store. */
export interface LockedWriteParts {
  readonly layout: StagingLayout
  readonly io: MetadataIo
  readonly openUploads: OpenUploads
  readonly lockStaleMs: number
}

/**
 * Writes one chunk into an upload that exists, under the chunk's lock file. Returns the result
 * with the manifest on disk, which the caller hands to the chunk's sink.
 */
export async function writeUnderLock(
  parts: LockedWriteParts, manifest: UploadManifest, chunk: ChunkWrite,
): Promise<{ result: WriteResult; manifest: UploadManifest }> {
  const { layout, io, openUploads } = parts
  const dir = layout.upload(manifest.id)
  // A manifest from memory may describe an upload that another process removed since: then the
  // retry goes through find() again, which restarts it or answers 410 as the disk says.
  const fromMemory = openUploads.peek(manifest.id) === manifest
  const gone = () => {
    if (!fromMemory) return uploadGone()
    openUploads.drop(manifest.id)
    return uploadChanged()
  }
  const release = await acquireFileLock(
    layout.chunkLock(manifest.id, chunk.chunkNumber),
    parts.lockStaleMs,
    `Chunk ${chunk.chunkNumber} is being received by another request; retry shortly.`,
    io,
  ).catch((error) => {
    if (isMissing(error)) throw gone()
    // A lock file that cannot be created or written (ENOSPC, EROFS...) is a retryable 507, not a 500.
    throw storageError(error, 'lock the chunk')
  })
  let upload
  try {
    upload = await openUploads.acquire(manifest.id, dir).catch((error) => {
      throw storageError(error, 'read the upload state')
    })
    if (!upload) throw gone()
    // The route may have checked a copy from memory: under the lock, the upload on disk decides.
    if (upload.manifest !== manifest && manifestDifferences(upload.manifest, manifest).length) {
      openUploads.drop(manifest.id)
      throw uploadChanged()
    }
    // Checked under the lock: once held, a chunk's bytes are never rewritten, so a duplicate
    // (a retry whose first answer was lost, a racing copy, a chunk after completion) cannot mix
    // its bytes in.
    const held = await readMark(io, upload.received, chunk.chunkNumber)
    if (held && !(await replaces(parts, manifest.id, chunk))) {
      await discard(chunk.body)
      return { result: { complete: await finishIfAllHeld(io, layout, manifest, upload.received), written: false }, manifest: upload.manifest }
    }
    const writer = await openUploads.openWriter(upload, dir).catch((error) => {
      if (isMissing(error)) throw uploadGone()
      throw storageError(error, 'open the upload')
    })
    try {
      const record = (mark: Buffer) => io.write(writer.received, mark, chunk.chunkNumber - 1).catch((error) => {
        throw storageError(error, 'record the chunk')
      })
      // Unmarked (and its digest forgotten) before its bytes change: a replacement that fails
      // leaves the chunk missing, never held with mixed bytes.
      if (held) {
        await record(ZERO)
        await keepDigest(parts, manifest.id, chunk.chunkNumber, NO_DIGEST)
      }
      await writeExactly(writer.data, chunk)
      if (chunk.sha256) await keepDigest(parts, manifest.id, chunk.chunkNumber, chunk.sha256)
      await record(ONE)
    } finally {
      await openUploads.closeWriter(upload)
    }
    const complete = await finishIfAllHeld(io, layout, manifest, upload.received)
    return { result: { complete, written: true, ...(held ? { replaced: true } : {}) }, manifest: upload.manifest }
  } finally {
    if (upload) openUploads.release(upload)
    await release()
  }
}

/**
 * A held chunk is replaced by one that carries another digest than the one it was kept under
 * (or none), while the upload is not complete.
 */
async function replaces(parts: LockedWriteParts, id: string, chunk: ChunkWrite): Promise<boolean> {
  if (!chunk.sha256 || (await exists(parts.layout.file(id, 'complete')))) return false
  return (await readChunkDigest(parts.io, parts.layout.file(id, 'digests'), chunk.chunkNumber)) !== chunk.sha256
}

export async function keepDigest(
  parts: Pick<LockedWriteParts, 'layout' | 'io'>, id: string, chunkNumber: number, sha256: string, mayBeGone = false,
): Promise<void> {
  try {
    await writeChunkDigest(parts.io, parts.layout.file(id, 'digests'), chunkNumber, sha256)
  } catch (error) {
    // Removed right after its creation: there is nothing left to describe.
    if (mayBeGone && isMissing(error)) return
    throw error
  }
}

const ONE = Buffer.from([1])
const ZERO = Buffer.from([0])
const NO_DIGEST = '0'.repeat(64)
