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

  /** The digest a part was signed with (or is held under), or null. */
  async digest(uploadId: string, partNumber: number): Promise<string | null> {
    const row = (await this.tables.Part.findOne({ where: { upload_id: uploadId, part_number: partNumber }, raw: true })) as { sha256: string | null } | null
    return row?.sha256 ?? null
  }

  /** Forgets parts the bucket does not hold as recorded, so that the client sends them again. */
  async drop(uploadId: string, partNumbers: number[]): Promise<void> {
    if (partNumbers.length) await this.tables.Part.destroy({ where: { upload_id: uploadId, part_number: partNumbers } })
  }
}
