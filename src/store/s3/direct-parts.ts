import { InvalidRequest } from '../../errors.js'
import { chunkLength } from '../../shared/arithmetic.js'
import type { PartTable } from '../shared-state/parts.js'
import type { ReportedParts } from '../shared-state/reported-parts.js'
import type { PartChecksum, UploadRow, UploadTable } from '../shared-state/uploads.js'
import type { OwnerLimits, UploadManifest } from '../types.js'
import { isNoSuchUpload, isNotFound, isUnsupported, storageError, type S3Clients, type S3Location } from './client.js'
import { objectStream } from './files.js'
import { checkUploadId } from './keys.js'
import type { MultipartTarget } from './part-signer.js'
import type { S3Staging } from './staging.js'
import { createUpload } from './staging-creation.js'
import { ensureMultipart, gone, live } from './staging-rows.js'
import { removeStaged } from './staging-cleanup.js'

export interface HeldPart {
  partNumber: number
  etag: string
  size: number
  /** The part's SHA-256 (hex), on an upload created with SHA256. */
  sha256?: string | null
}

/** The multipart upload parts are signed for, and whether each signed part must carry its SHA-256. */
export interface DirectTarget extends MultipartTarget {
  partChecksum: PartChecksum | null
}

/**
 * An upload named by its id, or by its row as the request already read it: a request reads the
 * row once and hands it to each call, instead of every call reading it again.
 */
export type DirectUploadRef = string | UploadRow

/** What a completion attempt came to: done, or the parts the client has to send (again). */
export type DirectCompletion = { complete: true } | { complete: false; resend: number[] }

/**
 * The store's side of direct uploads, where browsers PUT parts to presigned URLs: the app hosts
 * start the multipart upload, record the ETag each client reports, answer which parts are held,
 * and complete exactly once across hosts with the recorded ETags.
 */
export interface DirectPartStore {
  /**
   * The upload's row if it can still be used (one read, to hand to the calls below); null when there
   * is none or it is being removed; 410 (UploadExpired) when it expired.
   */
  find(id: string): Promise<UploadRow | null>
  /**
   * Creates the upload (within the owner's limits) unless it exists, and its multipart upload: what
   * parts are signed for. The request that creates the multipart upload names its `checksum`
   * ('SHA256' when its parts carry digests); the answer says what the upload actually has.
   * `known`: the upload's row as `find` gave it (live): nothing is created nor read again.
   */
  start(manifest: UploadManifest, limits?: OwnerLimits, checksum?: PartChecksum | null, known?: UploadRow | null): Promise<DirectTarget>
  /** Keeps the digests parts are signed with, for their reports and the completion (uploads created with SHA256). */
  rememberDigests(upload: DirectUploadRef, parts: Array<{ partNumber: number; sha256: string }>): Promise<void>
  /**
   * Records the ETag the bucket gave the client for a part; 410 (UploadExpired) when the upload is
   * gone. False when nothing was recorded: on an upload created with SHA256, a part never signed
   * with a digest (a late report of a part forgotten since) stays missing.
   */
  recordPart(upload: DirectUploadRef, partNumber: number, etag: string): Promise<boolean>
  /**
   * `recordPart` for several parts of one report at once; every part is checked before any is
   * recorded. Answers the part numbers recorded (or settled already).
   */
  recordParts(upload: DirectUploadRef, parts: Array<{ partNumber: number; etag: string }>): Promise<number[]>
  /**
   * The parts held, from the tables, confirmed (and corrected) by ListParts where the bucket has it;
   * with `confirm: false` from the tables only (no request to the bucket).
   */
  heldParts(upload: DirectUploadRef, options?: { confirm?: boolean }): Promise<HeldPart[]>
  /** CompleteMultipartUpload with the recorded ETags, once; parts the bucket refused are forgotten and named for resending. */
  complete(upload: DirectUploadRef): Promise<DirectCompletion>
  /** The first `length` bytes of the completed object (a ranged GET), for the content check. */
  head(id: string, length: number): Promise<Buffer>
}

/**
 * The parts S3 holds for a multipart upload, or null when the server does not list them (s3rver
 * answers 405; fauxqs has no ListParts and answers the request as a GET of the object).
 */
export async function listParts(s3: S3Clients, where: S3Location, key: string, uploadId: string): Promise<HeldPart[] | null> {
  const found: HeldPart[] = []
  let marker: string | undefined
  try {
    for (;;) {
      const out = await s3.client.send(new s3.sdk.ListPartsCommand({ Bucket: where.bucket, Key: key, UploadId: uploadId, PartNumberMarker: marker }))
      if (out.UploadId === undefined && out.Parts === undefined) return null
      for (const p of out.Parts ?? []) {
        if (!p.PartNumber || !p.ETag) continue
        const sha256 = p.ChecksumSHA256 ? Buffer.from(p.ChecksumSHA256, 'base64').toString('hex') : null
        found.push({ partNumber: p.PartNumber, etag: p.ETag, size: Number(p.Size ?? 0), sha256 })
      }
      if (!out.IsTruncated) return found
      marker = out.NextPartNumberMarker
    }
  } catch (error) {
    if (isNoSuchUpload(error)) throw error
    if (isUnsupported(error) || isNotFound(error)) return null
    throw storageError(error, 'listing the parts of a multipart upload')
  }
}

/** An inclusive byte range of an object, read whole: for the few bytes a content check looks at. */
export async function readRange(s3: S3Clients, where: S3Location, key: string, start: number, end: number): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const chunk of objectStream(s3, where, key, { start, end })) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks)
}

/** How old an upload's activity mark may get before a request renews it; far below any expiry. */
const TOUCH_AFTER_MS = 1000

const sameEtag = (a: string, b: string) => a.replaceAll('"', '') === b.replaceAll('"', '')

function nameOf(error: unknown): string {
  const cause = (error as { cause?: unknown } | null)?.cause ?? error
  return (cause as { name?: string; Code?: string } | null)?.name ?? (cause as { Code?: string } | null)?.Code ?? ''
}

export interface S3DirectPartsDeps {
  staging: S3Staging
  uploads: UploadTable
  parts: PartTable
  reported: ReportedParts
  now?: () => number
}

/**
 * DirectPartStore on the shared tables and the staging store: creation, completion and removal are
 * the staging store's own (one CreateMultipartUpload and one CompleteMultipartUpload across hosts,
 * the owner's limits under the owner's lock); only how a part becomes held differs.
 */
export class S3DirectParts implements DirectPartStore {
  private readonly now: () => number

  constructor(private readonly deps: S3DirectPartsDeps) {
    this.now = deps.now ?? Date.now
  }

  private get s3() {
    return this.deps.staging.deps
  }

  async find(id: string): Promise<UploadRow | null> {
    const row = await this.deps.uploads.find(checkUploadId(id))
    if (row?.state === 'expired') throw gone()
    return row && live(row) ? row : null
  }

  async start(manifest: UploadManifest, limits?: OwnerLimits, checksum: PartChecksum | null = null, known: UploadRow | null = null): Promise<DirectTarget> {
    checkUploadId(manifest.id)
    if (known && known.id !== manifest.id) throw new RangeError('The row given is not this upload\'s.')
    if (!known) await createUpload(this.s3, manifest, limits ?? null, this.now, this.deps.staging.timings.ownerLockLeaseMs)
    const row = await this.liveRow(known ?? manifest.id)
    // With SHA256 every part is signed with its digest and the completion names each again (the
    // digest kept at signing); without, AWS refuses a part checksum ("Checksum Type mismatch").
    const { uploadId, partChecksum } = await ensureMultipart(this.s3, row, this.deps.staging.timings, this.now, checksum)
    return { key: row.objectKey, uploadId, partChecksum }
  }

  async rememberDigests(upload: DirectUploadRef, parts: Array<{ partNumber: number; sha256: string }>): Promise<void> {
    const row = await this.liveRow(upload)
    const { id } = row
    if (row.state !== 'open') return
    await this.deps.reported.signedMany(id, parts, this.now())
    await this.touch(row)
  }

  async recordPart(upload: DirectUploadRef, partNumber: number, etag: string): Promise<boolean> {
    return (await this.recordParts(upload, [{ partNumber, etag }])).includes(partNumber)
  }

  async recordParts(upload: DirectUploadRef, parts: Array<{ partNumber: number; etag: string }>): Promise<number[]> {
    const row = await this.liveRow(upload)
    const { id, manifest } = row
    // Every part is checked before any is written: a bad one in a report records none of it.
    for (const { partNumber, etag } of parts) {
      if (!Number.isInteger(partNumber) || partNumber < 1 || partNumber > manifest.chunkCount) {
        throw new InvalidRequest(`Part ${partNumber} is outside 1..${manifest.chunkCount}.`)
      }
      if (typeof etag !== 'string' || !/^"?[!#-~]{1,126}"?$/.test(etag)) throw new InvalidRequest('A part ETag must be the ETag header the bucket answered.')
    }
    const numbers = parts.map((p) => p.partNumber)
    // Once completing or complete, the parts are settled: a late report (a retried request) changes nothing.
    if (row.state !== 'open' || !parts.length) return numbers
    const digests = row.partChecksum ? await this.deps.reported.digests(id, numbers) : null
    // The last report of a part number wins, as the bucket keeps the last part written under it.
    const latest = new Map(parts.map((p) => [p.partNumber, p.etag]))
    const rows = [...latest].filter(([n]) => !digests || digests.has(n)).map(([partNumber, etag]) => ({
      // The size is the upload's arithmetic, never the client's word: the bucket refuses a PUT of
      // another length under the signed URL, so the two agree.
      partNumber, etag, size: chunkLength(manifest, partNumber), sha256: digests?.get(partNumber) ?? null,
    }))
    if (!rows.length) return []
    await this.deps.reported.recordMany(id, rows, this.now(), !digests)
    await this.touch(row)
    return rows.map((r) => r.partNumber)
  }

  async heldParts(upload: DirectUploadRef, options: { confirm?: boolean } = {}): Promise<HeldPart[]> {
    const row = await this.liveRow(upload)
    const { id } = row
    if (row.state === 'complete' || options.confirm === false) return this.held(id)
    const recorded = await this.held(id)
    const listed = row.s3UploadId ? await this.listed(row) : null
    if (!listed) return recorded
    const byNumber = new Map(listed.map((p) => [p.partNumber, p]))
    const wrong = recorded.filter((p) => !byNumber.has(p.partNumber) || !sameEtag(byNumber.get(p.partNumber)!.etag, p.etag))
    await this.deps.reported.drop(id, wrong.map((p) => p.partNumber))
    // A part the bucket holds whose report never arrived (the tab closed right after the PUT) is
    // adopted, if it has the length the upload needs there (and, with SHA256, the bucket names its digest).
    const known = new Set(recorded.map((p) => p.partNumber))
    for (const part of listed) {
      const inRange = part.partNumber >= 1 && part.partNumber <= row.manifest.chunkCount
      if (row.partChecksum && !part.sha256) continue
      if (inRange && !known.has(part.partNumber) && part.size === chunkLength(row.manifest, part.partNumber)) {
        await this.deps.reported.record(id, part.partNumber, part.etag, part.size, this.now(), part.sha256 ?? null)
      }
    }
    return this.held(id)
  }

  private async held(id: string): Promise<HeldPart[]> {
    return (await this.deps.parts.held(id)).map(({ partNumber, etag, size, sha256 }) => ({ partNumber, etag, size, ...(sha256 ? { sha256 } : {}) }))
  }

  async complete(upload: DirectUploadRef): Promise<DirectCompletion> {
    const row = await this.liveRow(upload)
    const { id } = row
    try {
      if (await this.deps.staging.finishIfReady(row.manifest)) return { complete: true }
    } catch (error) {
      const name = nameOf(error)
      if (name === 'InvalidPart' || name === 'InvalidPartOrder') return { complete: false, resend: await this.forgetRefused(row) }
      if (isNoSuchUpload((error as { cause?: unknown }).cause ?? error)) {
        // The multipart upload is gone from the bucket (the staging store has already checked that
        // it did not just complete): no part can be sent to it any more, so the upload expires.
        await removeStaged(this.s3, row, this.now(), 'expired').catch(() => undefined)
        throw gone()
      }
      throw error
    }
    const held = new Set((await this.deps.parts.held(id)).map((p) => p.partNumber))
    const resend: number[] = []
    for (let n = 1; n <= row.manifest.chunkCount; n++) if (!held.has(n)) resend.push(n)
    return { complete: false, resend }
  }

  async head(id: string, length: number): Promise<Buffer> {
    if (!Number.isSafeInteger(length) || length < 1) throw new RangeError(`A content check reads at least one byte (got ${length}).`)
    const row = await this.liveRow(id)
    if (row.state !== 'complete') throw new InvalidRequest('The upload is not complete.')
    return readRange(this.s3.s3, this.s3.where, row.objectKey, 0, Math.min(length, row.manifest.totalSize) - 1)
  }

  /**
   * The bucket refused a recorded ETag without saying which. With ListParts the wrong ones are
   * found and only they are forgotten; without it every part is, since any of them may be the
   * culprit and the client sending all again is the only way that surely completes.
   */
  private async forgetRefused(row: UploadRow): Promise<number[]> {
    const before = (await this.deps.parts.held(row.id)).map((p) => p.partNumber)
    const listed = row.s3UploadId ? await this.listed(row) : null
    if (listed) await this.heldParts(row.id)
    else await this.deps.reported.drop(row.id, before)
    const after = new Set((await this.deps.parts.held(row.id)).map((p) => p.partNumber))
    const resend: number[] = []
    for (let n = 1; n <= row.manifest.chunkCount; n++) if (!after.has(n)) resend.push(n)
    return resend
  }

  private async listed(row: UploadRow): Promise<HeldPart[] | null> {
    try {
      return await listParts(this.s3.s3, this.s3.where, row.objectKey, row.s3UploadId!)
    } catch (error) {
      if (!isNoSuchUpload(error)) throw error
      await removeStaged(this.s3, row, this.now(), 'expired').catch(() => undefined)
      throw gone()
    }
  }

  /**
   * Marks the upload active (the sweep expires idle ones). A row marked within the last second is
   * left as it is: an upload reporting several times a second is no more alive for each report.
   */
  private async touch(row: UploadRow): Promise<void> {
    const now = this.now()
    if (now - row.activeAt < TOUCH_AFTER_MS) return
    await this.deps.uploads.touch(row.id, now)
  }

  /** The upload's row, read unless the caller read it already. */
  private async liveRow(upload: DirectUploadRef): Promise<UploadRow> {
    const row = typeof upload === 'string' ? await this.deps.uploads.find(checkUploadId(upload)) : upload
    if (!row || !live(row)) throw gone()
    return row
  }
}
