import type { SharedTables } from './models.js'

/** The token of a part row written from a client's report rather than claimed by a streaming host. */
export const REPORTED = 'reported'

/**
 * Part rows for direct uploads, where the browser PUTs each part to the bucket itself and then
 * reports the ETag the bucket gave it. No claim precedes such a part (no app host carries its
 * bytes), so a report goes straight to `held`; a later report of the same part (the client sent it
 * again) replaces the ETag, as the bucket keeps the last part written under that number. Reads go
 * through PartTable, which sees these rows like any other held part.
 *
 * On an upload created with SHA256 a part's digest is signed into its URL, and the completion must
 * name it again: signing writes it into a row in state `signed` (not held, so nothing counts it),
 * and the report keeps it. The digest is the one the app signed, never the client's word.
 */
export class ReportedParts {
  constructor(private readonly tables: SharedTables) {}

  private get S() {
    return this.tables.sequelize.constructor as unknown as typeof import('sequelize')
  }

  async record(uploadId: string, partNumber: number, etag: string, size: number, now: number, sha256: string | null = null): Promise<void> {
    const { Part } = this.tables
    const values = { state: 'held', token: REPORTED, claimed_at: now, etag, size }
    try {
      await Part.create({ upload_id: uploadId, part_number: partNumber, ...values, sha256 })
    } catch (error) {
      if (!(error instanceof this.S.UniqueConstraintError)) throw error
      await Part.update({ ...values, ...(sha256 ? { sha256 } : {}) }, { where: { upload_id: uploadId, part_number: partNumber } })
    }
  }

  /**
   * Records several reported parts of one upload in one statement (an insert that updates the rows
   * already there), as `record` does one by one. `keepDigest`: the rows carry no digest, so a
   * digest already in a row stays.
   */
  async recordMany(uploadId: string, parts: Array<{ partNumber: number; etag: string; size: number; sha256: string | null }>, now: number, keepDigest: boolean): Promise<void> {
    if (!parts.length) return
    const rows = parts.map((p) => ({
      upload_id: uploadId, part_number: p.partNumber, state: 'held', token: REPORTED, claimed_at: now, etag: p.etag, size: p.size, sha256: p.sha256,
    }))
    const updated: Array<'state' | 'token' | 'claimed_at' | 'etag' | 'size' | 'sha256'> = ['state', 'token', 'claimed_at', 'etag', 'size']
    if (!keepDigest) updated.push('sha256')
    await this.tables.Part.bulkCreate(rows, { updateOnDuplicate: updated })
  }

  /**
   * Remembers the digest a part was signed with. A part held under another digest goes back to
   * `signed` (its new bytes are on their way, as a chunk sent again with another digest replaces
   * the held one); a part held under this very digest stays held.
   */
  async signed(uploadId: string, partNumber: number, sha256: string, now: number): Promise<void> {
    const { Part } = this.tables
    const { Op } = this.S
    const values = { state: 'signed', token: REPORTED, claimed_at: now, etag: null, size: null, sha256 }
    try {
      await Part.create({ upload_id: uploadId, part_number: partNumber, ...values })
    } catch (error) {
      if (!(error instanceof this.S.UniqueConstraintError)) throw error
      await Part.update(values, {
        where: { upload_id: uploadId, part_number: partNumber, [Op.or]: [{ state: { [Op.ne]: 'held' } }, { sha256: { [Op.ne]: sha256 } }, { sha256: null }] },
      })
    }
  }

  /**
   * `signed` for several parts: parts signed for the first time (the usual case) in one insert; when
   * any of them has a row already (signed again, or after a reload), the new ones in one insert and
   * the others one by one.
   */
  async signedMany(uploadId: string, parts: Array<{ partNumber: number; sha256: string }>, now: number): Promise<void> {
    const { Part } = this.tables
    const insert = (fresh: Array<{ partNumber: number; sha256: string }>) => Part.bulkCreate(fresh.map((p) => ({
      upload_id: uploadId, part_number: p.partNumber, state: 'signed', token: REPORTED, claimed_at: now, etag: null, size: null, sha256: p.sha256,
    })))
    try {
      if (parts.length) await insert(parts)
      return
    } catch (error) {
      // One statement: a conflict inserted none of them.
      if (!(error instanceof this.S.UniqueConstraintError)) throw error
    }
    const existing = new Set(((await Part.findAll({
      where: { upload_id: uploadId, part_number: parts.map((p) => p.partNumber) }, attributes: ['part_number'], raw: true,
    })) as unknown as Array<{ part_number: number }>).map((r) => Number(r.part_number)))
    const fresh = parts.filter((p) => !existing.has(p.partNumber))
    let later = parts.filter((p) => existing.has(p.partNumber))
    try {
      if (fresh.length) await insert(fresh)
    } catch (error) {
      if (!(error instanceof this.S.UniqueConstraintError)) throw error
      later = parts
    }
    for (const p of later) await this.signed(uploadId, p.partNumber, p.sha256, now)
  }

  /** The digest a part was signed with (or is held under), or null. */
  async digest(uploadId: string, partNumber: number): Promise<string | null> {
    const row = (await this.tables.Part.findOne({ where: { upload_id: uploadId, part_number: partNumber }, raw: true })) as { sha256: string | null } | null
    return row?.sha256 ?? null
  }

  /** The digests these parts were signed with (or are held under), in one query; a part without one is absent. */
  async digests(uploadId: string, partNumbers: number[]): Promise<Map<number, string>> {
    const rows = (await this.tables.Part.findAll({
      where: { upload_id: uploadId, part_number: partNumbers }, attributes: ['part_number', 'sha256'], raw: true,
    })) as unknown as Array<{ part_number: number; sha256: string | null }>
    return new Map(rows.filter((r) => r.sha256).map((r) => [Number(r.part_number), r.sha256!]))
  }

  /** Forgets parts the bucket does not hold as recorded, so that the client sends them again. */
  async drop(uploadId: string, partNumbers: number[]): Promise<void> {
    if (partNumbers.length) await this.tables.Part.destroy({ where: { upload_id: uploadId, part_number: partNumbers } })
  }
}
