import type { UploadManifest } from '../types.js'
import { int, type SharedTables, type UploadRowAttributes } from './models.js'

/**
 * - open: parts are being uploaded
 * - completing: one host won the right to run CompleteMultipartUpload (conditional update)
 * - complete: the object is assembled under `objectKey`
 * - aborted: being removed (cancel or after save); a crash half way is finished by the sweep
 * - expired: a tombstone, so that a client coming back gets 410 instead of a silent restart
 */
export type RowState = 'open' | 'completing' | 'complete' | 'aborted' | 'expired'

/** The only checksum algorithm the plugin creates multipart uploads with (the chunks' digests are SHA-256). */
export type PartChecksum = 'SHA256'

export interface UploadRow {
  id: string
  manifest: UploadManifest
  state: RowState
  objectKey: string
  s3UploadId: string | null
  /** 'SHA256' when the multipart upload was created with that checksum algorithm: every part must carry its digest. */
  partChecksum: PartChecksum | null
  createClaimedAt: number | null
  completingAt: number | null
  activeAt: number
}

function toRow(raw: UploadRowAttributes): UploadRow {
  return {
    id: raw.id,
    manifest: JSON.parse(raw.manifest) as UploadManifest,
    state: raw.state as RowState,
    objectKey: raw.object_key,
    s3UploadId: raw.s3_upload_id,
    partChecksum: raw.part_checksum === 'SHA256' ? 'SHA256' : null,
    createClaimedAt: raw.create_claimed_at === null ? null : int(raw.create_claimed_at),
    completingAt: raw.completing_at === null ? null : int(raw.completing_at),
    activeAt: int(raw.active_at),
  }
}

/**
 * The upload rows. Every change of who-does-what is one conditional UPDATE whose affected-row count
 * says whether this host won: no in-process lock, so it holds across processes and hosts.
 */
export class UploadTable {
  constructor(private readonly tables: SharedTables) {}

  private get Upload() {
    return this.tables.Upload
  }

  private get Op() {
    return (this.tables.sequelize.constructor as unknown as typeof import('sequelize')).Op
  }

  /** Inserts the upload; false when a row with this id already exists (the first writer won). */
  async insert(manifest: UploadManifest, objectKey: string, now: number): Promise<boolean> {
    const { UniqueConstraintError } = this.tables.sequelize.constructor as unknown as typeof import('sequelize')
    try {
      await this.Upload.create({
        id: manifest.id,
        owner: manifest.owner,
        resource_id: manifest.resourceId,
        property_path: manifest.propertyPath,
        total_size: manifest.totalSize,
        manifest: JSON.stringify(manifest),
        state: 'open',
        object_key: objectKey,
        s3_upload_id: null,
        part_checksum: null,
        create_claimed_at: null,
        completing_at: null,
        active_at: now,
        created_at: now,
      })
      return true
    } catch (error) {
      if (error instanceof UniqueConstraintError) return false
      throw error
    }
  }

  async find(id: string): Promise<UploadRow | null> {
    const raw = await this.Upload.findByPk(id, { raw: true })
    return raw ? toRow(raw as unknown as UploadRowAttributes) : null
  }

  private async update(id: string, values: Partial<UploadRowAttributes>, where: Record<string | symbol, unknown>): Promise<boolean> {
    const [affected] = await this.Upload.update(values, { where: { id, ...where } })
    return affected === 1
  }

  /**
   * The right to call CreateMultipartUpload for this upload: granted to one host, or again to
   * another once the holder's lease ran out without recording an UploadId (it died mid-call).
   */
  async claimCreate(id: string, now: number, leaseMs: number): Promise<boolean> {
    const Op = this.Op
    return this.update(id, { create_claimed_at: now }, {
      state: 'open',
      s3_upload_id: null,
      [Op.or]: [{ create_claimed_at: null }, { create_claimed_at: { [Op.lt]: now - leaseMs } }],
    })
  }

  async releaseCreate(id: string, claimedAt: number): Promise<void> {
    await this.update(id, { create_claimed_at: null }, { create_claimed_at: claimedAt, s3_upload_id: null })
  }

  /** Records the S3 UploadId (and its checksum algorithm) unless one is recorded already (then the caller's must be aborted). */
  async setMultipart(id: string, uploadId: string, partChecksum: PartChecksum | null = null): Promise<boolean> {
    return this.update(id, { s3_upload_id: uploadId, part_checksum: partChecksum }, { state: 'open', s3_upload_id: null })
  }

  async touch(id: string, now: number): Promise<void> {
    const Op = this.Op
    await this.Upload.update({ active_at: now }, { where: { id, active_at: { [Op.lt]: now } } })
  }

  /**
   * The right to run CompleteMultipartUpload: `open → completing`, or a `completing` whose host has
   * been silent for `staleMs` (it died: S3 completion is idempotent enough to run again, see the
   * staging store). Returns the `completing_at` stamp that identifies this host's claim.
   */
  async beginCompleting(id: string, now: number, staleMs: number): Promise<number | null> {
    const Op = this.Op
    const won = await this.update(id, { state: 'completing', completing_at: now }, {
      [Op.or]: [{ state: 'open' }, { state: 'completing', completing_at: { [Op.lt]: now - staleMs } }],
    })
    return won ? now : null
  }

  /** `completing → complete`, only for the claim that is still this host's. */
  async finishCompleting(id: string, stamp: number, now: number): Promise<boolean> {
    return this.update(id, { state: 'complete', active_at: now }, { state: 'completing', completing_at: stamp })
  }

  /** Gives the completion back (it failed retryably): the next chunk retry or finishIfReady tries again. */
  async abandonCompleting(id: string, stamp: number): Promise<void> {
    await this.update(id, { state: 'open', completing_at: null }, { state: 'completing', completing_at: stamp })
  }

  /** Moves the upload from one of `from` to `to`; false when it was in none of them (someone else moved it). */
  async transition(id: string, from: RowState[], to: RowState, now: number): Promise<boolean> {
    const Op = this.Op
    return this.update(id, { state: to, active_at: now }, { state: { [Op.in]: from } })
  }

  async delete(id: string, states: RowState[]): Promise<boolean> {
    const Op = this.Op
    return (await this.Upload.destroy({ where: { id, state: { [Op.in]: states } } })) === 1
  }

  /** Uploads in `states` last active before `before`, oldest first. */
  async idle(states: RowState[], before: number, limit = 500): Promise<UploadRow[]> {
    const Op = this.Op
    const raws = await this.Upload.findAll({
      where: { state: { [Op.in]: states }, active_at: { [Op.lt]: before } },
      order: [['active_at', 'ASC']],
      limit,
      raw: true,
    })
    return (raws as unknown as UploadRowAttributes[]).map(toRow)
  }

  /** Deletes the uploads in `states` last active before `before`; returns how many went. */
  async deleteIdle(states: RowState[], before: number): Promise<number> {
    const Op = this.Op
    return this.Upload.destroy({ where: { state: { [Op.in]: states }, active_at: { [Op.lt]: before } } })
  }

  async hasMultipart(s3UploadId: string): Promise<boolean> {
    return (await this.Upload.count({ where: { s3_upload_id: s3UploadId } })) > 0
  }

  /** One admin's staged uploads (not yet removed), oldest first. */
  async owned(owner: string): Promise<UploadRow[]> {
    const Op = this.Op
    const rows = await this.Upload.findAll({
      where: { owner, state: { [Op.in]: ['open', 'completing', 'complete'] } },
      order: [['created_at', 'ASC'], ['id', 'ASC']],
      raw: true,
    })
    return (rows as unknown as UploadRowAttributes[]).map(toRow)
  }

  /** False when the upload is not (or no longer) complete: nothing was written. */
  async setCompletion(id: string, completion: string): Promise<boolean> {
    return this.update(id, { completion }, { state: 'complete' })
  }

  async completion(id: string): Promise<string | null> {
    const raw = await this.Upload.findByPk(id, { attributes: ['completion', 'state'], raw: true }) as unknown as Pick<UploadRowAttributes, 'completion' | 'state'> | null
    return raw && raw.state === 'complete' ? raw.completion : null
  }

  /** What one admin has staged (uploads not yet removed), for quotas. */
  async usage(owner: string): Promise<{ uploads: number; bytes: number }> {
    const Op = this.Op
    const where = { owner, state: { [Op.in]: ['open', 'completing', 'complete'] } }
    const [uploads, bytes] = await Promise.all([this.Upload.count({ where }), this.Upload.sum('total_size', { where })])
    return { uploads, bytes: int(bytes ?? 0) || 0 }
  }
}
