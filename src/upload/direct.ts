import { ChunkBusy, InvalidRequest, NotFound, UploadExpired, WrongUploadMode } from '../errors.js'
import type { ChunkRequest } from '../protocol/chunk-request.js'
import { chunkLength } from '../shared/arithmetic.js'
import type { PartsAnswer, PartsReport, SignAnswer, SignRequest } from '../shared/direct-protocol.js'
import type { DirectPartStore } from '../store/s3/direct-parts.js'
import type { UploadRow } from '../store/shared-state/uploads.js'
import { settleCompletion } from './completion.js'
import type { DirectMode } from './direct-setup.js'
import { assertSameUpload, newManifest, uploadHoldingChunk, uploadToWrite, type ChunkStatus, type Uploader } from './receive.js'
import type { RegisteredFeature } from './registry.js'

/**
 * The upload lifecycle of direct uploads (`storage.s3.upload: 'direct'`), where the browser PUTs
 * each chunk to the bucket: sign URLs for exactly the parts asked (after the same checks a first
 * chunk passes), record the ETags reported, complete once across hosts, and answer the test GET
 * from the recorded parts. The completion gate is the through-app uploads' own (completion.ts).
 */

const NO_SUCH_UPLOAD = 'There is no such upload in progress: sign its parts first.'

function range(count: number): number[] {
  return Array.from({ length: count }, (_, i) => i + 1)
}

/** The feature's direct mode; WrongUploadMode (409) on a property whose chunks go through the app. */
export function requireDirect(feature: RegisteredFeature): DirectMode {
  if (!feature.direct) {
    throw new WrongUploadMode('This property takes its chunks through the app (storage.s3.upload is not \'direct\'): POST each chunk to the chunk route.')
  }
  return feature.direct
}

/** WrongUploadMode (409) for a chunk sent through the app to a property whose chunks go to the bucket. */
export function assertThroughApp(feature: RegisteredFeature): void {
  if (feature.direct) {
    throw new WrongUploadMode('This property takes its chunks straight to the bucket (storage.s3.upload: \'direct\'): sign each part with POST direct/sign and PUT it there.')
  }
}

/**
 * Signs an UploadPart URL per part asked, each for its exact length from the chunk arithmetic (and
 * its SHA-256 when given). The upload is created by the first request, within the admin's limits
 * and after `onUploadStart`, exactly as a first chunk creates it; nothing is signed before. The
 * upload's row is read once and handed down; the parts held are answered only when asked.
 */
export async function signParts(uploader: Uploader, chunk: ChunkRequest, request: SignRequest): Promise<SignAnswer> {
  const { feature } = uploader
  const direct = requireDirect(feature)
  await direct.corsChecked()
  const parts = await direct.uploads.parts()
  let known: UploadRow | null = null
  const { wanted, stored, started } = await uploadToWrite(uploader, chunk, async (w) => {
    known = await parts.find(w.id)
    return known?.manifest ?? null
  })
  const manifest = stored ?? wanted
  const digests = request.parts.every((part) => part.sha256)
  let target
  try {
    target = await parts.start(manifest, feature.limits, digests ? 'SHA256' : null, known)
  } finally {
    started()
  }
  // Created by this request (or by one racing it): read once, for its state and the calls below.
  const row = known ?? await parts.find(manifest.id)
  if (!row) throw new UploadExpired('This upload was cancelled while it started; start it again.')
  if (row.state === 'complete') return { status: 'signed', parts: [], held: range(manifest.chunkCount) }
  if (target.partChecksum && !digests) {
    throw new InvalidRequest('This upload started with a SHA-256 per part: sign every part with its sha256.')
  }
  if (!target.partChecksum && digests) {
    throw new InvalidRequest('This upload started without a SHA-256 per part: sign its parts without sha256, or cancel it and start again.')
  }
  if (target.partChecksum) {
    await parts.rememberDigests(row, request.parts.map((part) => ({ partNumber: part.partNumber, sha256: part.sha256! })))
  }
  const signed = await direct.uploads.sign(target, request.parts.map((part) => ({
    partNumber: part.partNumber,
    length: chunkLength(manifest, part.partNumber),
    ...(part.sha256 ? { sha256: part.sha256 } : {}),
  })))
  if (!request.held) return { status: 'signed', parts: signed }
  // An upload this request created holds nothing yet: no need to ask the tables or the bucket.
  const held = known ? (await parts.heldParts(row)).map((part) => part.partNumber) : []
  return { status: 'signed', parts: signed, held }
}

/**
 * Records the ETags the bucket gave the browser. The report that makes the upload whole completes
 * it (CompleteMultipartUpload with the recorded ETags, once across hosts), then the completion gate
 * runs (content check, checksum, `onUploadComplete`); parts the bucket refused, and reported parts
 * that no signed digest covers, are named for resending.
 */
export async function reportParts(uploader: Uploader, chunk: ChunkRequest, report: PartsReport): Promise<PartsAnswer> {
  const { feature } = uploader
  const direct = requireDirect(feature)
  const parts = await direct.uploads.parts()
  const row = await existing(uploader, parts, chunk)
  const recorded = new Set(await parts.recordParts(row, report.parts.map(({ partNumber, etag }) => ({ partNumber, etag }))))
  // A part with no digest signed for it (forgotten since the bucket refused it) cannot be recorded:
  // said so, it is signed and sent again instead of the page reporting it in a loop.
  const unrecorded = [...new Set(report.parts.map((part) => part.partNumber))].filter((n) => !recorded.has(n))
  if (unrecorded.length) return { status: 'resend', parts: unrecorded.sort((a, b) => a - b) }
  return completeIfWhole(uploader, parts, row, report.fileSha256)
}

async function completeIfWhole(uploader: Uploader, parts: DirectPartStore, row: UploadRow, fileSha256?: string): Promise<PartsAnswer> {
  const { manifest } = row
  const held = (await parts.heldParts(row, { confirm: false })).map((part) => part.partNumber)
  if (held.length < manifest.chunkCount) return { status: 'partial', held }
  const done = await parts.complete(row)
  if (!done.complete) {
    // Every part held, yet not complete: another host's completion is still running.
    if (!done.resend.length) throw new ChunkBusy('The upload is being completed by another request; report again shortly.')
    return { status: 'resend', parts: done.resend }
  }
  await settleCompletion(uploader.feature, uploader.currentAdmin, manifest, fileSha256 ? { sha256: fileSha256 } : {})
  return { status: 'complete', reference: manifest.id }
}

/** The stored upload this request names: 404 when there is none (another admin's never is), 410 when it expired. */
async function existing(uploader: Uploader, parts: DirectPartStore, chunk: ChunkRequest): Promise<UploadRow> {
  const wanted = newManifest(uploader.scope, chunk)
  const row = await parts.find(wanted.id)
  if (!row) throw new NotFound(NO_SUCH_UPLOAD)
  assertSameUpload(row.manifest, wanted)
  return row
}

/**
 * The test GET of a direct upload, from the recorded parts (any host answers alike): held or
 * wanted; with a digest, held only under that digest. It never completes the upload nor runs the
 * completion gate: the report that does carries the file's checksum. Once that report has passed
 * the gate, the test GET hands out the reference; until then the client, finding every part held,
 * reports (with no parts) to complete it.
 */
export async function directChunkStatus(uploader: Uploader, chunk: ChunkRequest): Promise<ChunkStatus> {
  const stored = await uploadHoldingChunk(uploader, chunk)
  if (!stored) return { held: false }
  const store = uploader.feature.storage.staging
  // Complete only once the completing report has passed the gate: a test GET settling it first
  // (a reload racing the report) would record it without the file's checksum.
  if ((await store.state(stored.id)) !== 'complete' || !(await store.completion(stored.id))) return { held: true, complete: false }
  return { held: true, complete: true, reference: stored.id }
}
