import type { SharedTables } from './models.js'

/** The token of a part row written from a client's report rather than claimed by a streaming host. */
export const REPORTED = 'reported'

/**
 * Part rows for direct uploads, where the browser PUTs each part to the bucket itself and then
 * reports the ETag the bucket gave it. No claim precedes such a part (no app host carries its
 * bytes), so a report goes straight to `held`; a later report of the same part (the client sent it
 * again) replaces the ETag, as the bucket keeps the last part written under that number. Reads go
 * through PartTable, which sees these rows like any other held part.
 */
export class ReportedParts {
  constructor(private readonly tables: SharedTables) {}

  async record(uploadId: string, partNumber: number, etag: string, size: number, now: number): Promise<void> {
    const { Part } = this.tables
    const { UniqueConstraintError } = this.tables.sequelize.constructor as unknown as typeof import('sequelize')
    const values = { state: 'held', token: REPORTED, claimed_at: now, etag, size }
    try {
      await Part.create({ upload_id: uploadId, part_number: partNumber, ...values })
    } catch (error) {
      if (!(error instanceof UniqueConstraintError)) throw error
      await Part.update(values, { where: { upload_id: uploadId, part_number: partNumber } })
    }
  }

  /** Forgets parts the bucket does not hold as recorded, so that the client sends them again. */
  async drop(uploadId: string, partNumbers: number[]): Promise<void> {
    if (partNumbers.length) await this.tables.Part.destroy({ where: { upload_id: uploadId, part_number: partNumbers } })
  }
}
