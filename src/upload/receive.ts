import type { CurrentAdmin } from 'adminjs'
import { pipeline, type Readable } from 'node:stream'
import { InvalidRequest, NotFound, UploadConflict, UploadExpired } from '../errors.js'
import { checkedStream } from '../content/checked-stream.js'
import { checkContent } from '../content/sniff.js'
import { MAX_IDENTIFIER, type ChunkRequest } from '../protocol/chunk-request.js'
import { belongsTo, hashText, isUploadId, uploadId, type UploadScope } from '../protocol/scope.js'
import { chunkOffset } from '../shared/arithmetic.js'
import { PARAM } from '../shared/chunk-params.js'
import { limitsTypes } from '../shared/file-type.js'
import { manifestDifferences } from '../store/manifest.js'
import type { UploadManifest } from '../store/types.js'
import { checkUploadStart, settleCompletion } from './completion.js'
import type { RegisteredFeature } from './registry.js'

/** Who uploads to which feature's property: what every step of an upload before Save needs. */
export interface Uploader {
  feature: RegisteredFeature
  currentAdmin: CurrentAdmin
  scope: UploadScope
}

const NO_SUCH_UPLOAD = 'There is no such upload in progress.'

/**
 * `onUploadStart` verdicts of the uploads this process is creating: the first chunks of one upload
 * arrive several at once, and the hook is asked once for them all.
 */
const starting = new Map<string, Promise<void>>()

/** Asks `onUploadStart` (once for the first chunks arriving together); the answer ends the creation. */
async function startAllowed(uploader: Uploader, manifest: UploadManifest): Promise<() => void> {
  const pending = starting.get(manifest.id)
  if (pending) {
    await pending
    return () => undefined
  }
  const verdict = checkUploadStart(uploader.feature, uploader.currentAdmin, manifest)
  starting.set(manifest.id, verdict)
  const forget = () => { if (starting.get(manifest.id) === verdict) starting.delete(manifest.id) }
  try {
    await verdict
  } catch (error) {
    forget()
    throw error
  }
  return forget
}

export function newManifest(scope: UploadScope, chunk: ChunkRequest): UploadManifest {
  return {
    version: 1,
    id: uploadId(scope, chunk.identifier),
    owner: scope.owner,
    resourceId: scope.resourceId,
    propertyPath: scope.propertyPath,
    filename: chunk.filename,
    ...(chunk.relativePath ? { relativePath: chunk.relativePath } : {}),
    rawFilenameHash: hashText(chunk.rawFilename),
    type: chunk.type,
    totalSize: chunk.layout.totalSize,
    chunkSize: chunk.layout.chunkSize,
    forceChunkSize: chunk.layout.forceChunkSize,
    chunkCount: chunk.chunkCount,
    createdAt: new Date().toISOString(),
  }
}

/** One identifier is one file: a different size, chunking or name under it is refused. */
export function assertSameUpload(stored: UploadManifest, wanted: UploadManifest): void {
  const differs = manifestDifferences(stored, wanted)
  if (differs.length) {
    throw new UploadConflict(
      `This upload was started with another ${differs.includes('rawFilenameHash') ? 'file name' : 'size or chunking'}; `
      + 'the same identifier must always describe the same file.',
    )
  }
}

/**
 * Where the allowed types are limited, the first chunk's bytes are checked against them as they pass
 * to the store (see content/sniff.ts). The chunk is marked only once its body has ended, which waits
 * for the check, and the upload completes only when every chunk is marked: so no upload completes
 * before its first chunk was checked, whatever order the chunks arrive in.
 */
function bodyToStore(feature: RegisteredFeature, chunk: ChunkRequest, stream: Readable): Readable {
  const { rules } = feature
  if (chunk.chunkNumber !== 1 || !limitsTypes(rules.mimeTypes)) return stream
  const checked = checkedStream(async (sample) => {
    await checkContent(sample, chunk.type, chunk.filename, rules)
  })
  pipeline(stream, checked, () => undefined)
  return checked
}

export type ChunkStatus = { held: false } | { held: true; complete: boolean; reference?: string }

/**
 * The upload a test GET asks about, when the staging store holds the chunk it names (under the
 * chunk's digest, when one was sent); null when the chunk is wanted. Any host answers alike.
 */
export async function uploadHoldingChunk(uploader: Uploader, chunk: ChunkRequest): Promise<UploadManifest | null> {
  const wanted = newManifest(uploader.scope, chunk)
  const store = uploader.feature.storage.staging
  const held = await store.chunkState(wanted.id, chunk.chunkNumber, { sha256: chunk.sha256 })
  if (held === 'no-upload') {
    if ((await store.state(wanted.id)) === 'expired') {
      throw new UploadExpired('This upload expired on the server and was removed; start it again.')
    }
    return null
  }
  // The store keeps the manifests of the uploads it works on (the local one checks one inode).
  const stored = await store.get(wanted.id)
  // Removed in between: as good as never started.
  if (!stored) return null
  assertSameUpload(stored, wanted)
  return held === 'missing' ? null : stored
}

/** Whether the staging store already holds a chunk; a complete upload passes the completion gate first. */
export async function chunkStatus(uploader: Uploader, chunk: ChunkRequest): Promise<ChunkStatus> {
  const stored = await uploadHoldingChunk(uploader, chunk)
  if (!stored) return { held: false }
  const complete = await uploader.feature.storage.staging.finishIfReady(stored)
  if (!complete) return { held: true, complete }
  await settleCompletion(uploader.feature, uploader.currentAdmin, stored)
  return { held: true, complete, reference: stored.id }
}

/**
 * The upload a chunk or sign request names: the stored one (checked to be the same file), or a new
 * one `onUploadStart` allowed. Call `started` once the store has created it (or failed to), so that
 * the first requests arriving together share one verdict and no later one reuses it. `find` looks
 * the stored one up as the staging store's `find` does (a caller that keeps what it read passes its own).
 */
export async function uploadToWrite(
  uploader: Uploader,
  chunk: ChunkRequest,
  find: (wanted: UploadManifest) => Promise<UploadManifest | null> = (wanted) => uploader.feature.storage.staging.find(wanted),
): Promise<{ wanted: UploadManifest; stored: UploadManifest | null; started: () => void }> {
  const { feature } = uploader
  const wanted = newManifest(uploader.scope, chunk)
  const stored = await find(wanted)
  if (stored) {
    assertSameUpload(stored, wanted)
    return { wanted, stored, started: () => undefined }
  }
  const started = feature.policy.onUploadStart ? await startAllowed(uploader, wanted) : () => undefined
  return { wanted, stored: null, started }
}

export interface ReceivedChunk {
  /** The upload's reference; Save takes it once `complete`. */
  reference: string
  complete: boolean
}

/**
 * One chunk into the staging store: a chunk that starts an upload asks `onUploadStart` and counts
 * against the admin's limits; the chunk that completes it passes the completion gate.
 */
export async function receiveChunk(uploader: Uploader, chunk: ChunkRequest, body: Readable): Promise<ReceivedChunk> {
  const { feature } = uploader
  const store = feature.storage.staging
  const { wanted, stored, started } = await uploadToWrite(uploader, chunk)
  let written
  const sink = feature.hashes?.sink(store, stored ?? wanted, chunk.chunkNumber)
  try {
    written = await store.writeChunk(stored ?? wanted, {
      chunkNumber: chunk.chunkNumber,
      offset: chunkOffset(chunk.layout, chunk.chunkNumber),
      length: chunk.chunkLength,
      body: bodyToStore(feature, chunk, body),
      ...(chunk.sha256 ? { sha256: chunk.sha256 } : {}),
      sink,
    }, stored ? {} : { create: feature.limits })
  } finally {
    started()
  }
  const manifest = stored ?? (await store.get(wanted.id)) ?? wanted
  // The sink told the file hash about the chunk (held, or replaced behind the hashed prefix) before
  // the completion asks for the digest; only a chunk without a sink has to be announced.
  if (written.written && !sink) feature.hashes?.advance(store, manifest, written.replaced ? chunk.chunkNumber : undefined)
  if (written.complete) await settleCompletion(feature, uploader.currentAdmin, manifest)
  return { reference: wanted.id, complete: written.complete }
}

/**
 * Cancels an upload of this admin, by the Resumable.js identifier (which is scoped to the caller, so
 * nobody else's upload can even be named) or by its reference (checked against the owner: another
 * admin's reference is reported like one that names no upload).
 */
export async function cancelUpload(uploader: Uploader, by: { identifier?: unknown; reference?: unknown }): Promise<void> {
  const store = uploader.feature.storage.staging
  const { identifier, reference } = by
  let id: string
  if (typeof identifier === 'string' && identifier && identifier.length <= MAX_IDENTIFIER) {
    id = uploadId(uploader.scope, identifier)
  } else if (isUploadId(reference)) {
    id = reference
    const manifest = await store.get(id)
    // Someone else's upload is reported exactly like a missing one (as Save does): a reference
    // never reveals that an upload exists.
    if (manifest && !belongsTo(manifest, uploader.scope)) throw new NotFound(NO_SUCH_UPLOAD)
  } else {
    throw new InvalidRequest(`Send ${PARAM.identifier} (or reference) to cancel an upload.`)
  }
  const state = await store.state(id)
  if (state === 'missing') throw new NotFound(NO_SUCH_UPLOAD)
  if (state === 'expired') await store.clearExpired(id)
  else await store.remove(id)
}

/** The caller's uploads of this property still in staging (in progress, or complete and not saved). */
export async function stagedUploads(uploader: Uploader) {
  const staged = await uploader.feature.storage.staging.list(uploader.scope.owner)
  return staged.filter((upload) => belongsTo(upload.manifest, uploader.scope))
}
