import { int, type PartRowAttributes, type SharedTables } from './models.js'

export type ClaimOutcome = 'claimed' | 'held' | 'busy'

/**
 * The part rows. A row is inserted as a claim (state `claimed`, a random token) before a single byte
 * of the part is sent, so the primary key (upload_id, part_number) lets exactly one request of any
 * host upload a given part at a time; the others get 'busy' (the route's retryable ChunkBusy).
 * The claim becomes `held` with the part's ETag only after S3 acknowledged every byte, and only if
 * the token is still the writer's: the ETag in the table is always that of the bytes the last
 * acknowledged UploadPart stored.
 *
 * A claim carries a lease, renewed while the part streams; a claim whose host died (lease ran out)
 * is taken over by the next request instead of blocking the part for ever.
 */
export class PartTable {
  constructor(private readonly tables: SharedTables) {}

  private get Part() {
    return this.tables.Part
  }

  private get S() {
    return this.tables.sequelize.constructor as unknown as typeof import('sequelize')
  }

  /**
   * With `sha256`, a part held under another digest (or none) is claimed again, to be replaced by
   * the new bytes: until they are held, the part counts as missing.
   */
  async claim(uploadId: string, partNumber: number, token: string, now: number, leaseMs: number, sha256?: string): Promise<ClaimOutcome> {
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        await this.Part.create({ upload_id: uploadId, part_number: partNumber, state: 'claimed', token, claimed_at: now, etag: null, size: null, sha256: null })
        return 'claimed'
      } catch (error) {
        if (!(error instanceof this.S.UniqueConstraintError)) throw error
      }
      const existing = (await this.Part.findOne({ where: { upload_id: uploadId, part_number: partNumber }, raw: true })) as PartRowAttributes | null
      if (!existing) continue // released in between: try the insert again
      if (existing.state === 'held') {
        if (!sha256 || existing.sha256 === sha256) return 'held'
        const [taken] = await this.Part.update(
          { state: 'claimed', token, claimed_at: now, etag: null, size: null, sha256: null },
          { where: { upload_id: uploadId, part_number: partNumber, state: 'held', token: existing.token } },
        )
        if (taken === 1) return 'claimed'
        continue
      }
      if (int(existing.claimed_at) >= now - leaseMs) return 'busy'
      const [taken] = await this.Part.update(
        { token, claimed_at: now },
        { where: { upload_id: uploadId, part_number: partNumber, state: 'claimed', token: existing.token } },
      )
      return taken === 1 ? 'claimed' : 'busy'
    }
    return 'busy'
  }

  /** Extends the lease while the part is still streaming; false when the claim is no longer ours. */
  async renew(uploadId: string, partNumber: number, token: string, now: number): Promise<boolean> {
    const [affected] = await this.Part.update({ claimed_at: now }, { where: { upload_id: uploadId, part_number: partNumber, state: 'claimed', token } })
    return affected === 1
  }

  /** Marks the part held with S3's ETag; false when the claim was lost (taken over, or the upload removed). */
  async markHeld(uploadId: string, partNumber: number, token: string, etag: string, size: number, sha256: string | null = null): Promise<boolean> {
    const [affected] = await this.Part.update(
      { state: 'held', etag, size, sha256 },
      { where: { upload_id: uploadId, part_number: partNumber, state: 'claimed', token } },
    )
    return affected === 1
  }

  /** Drops the claim after a failed upload, so that the retry can claim the part at once. */
  async release(uploadId: string, partNumber: number, token: string): Promise<void> {
    await this.Part.destroy({ where: { upload_id: uploadId, part_number: partNumber, state: 'claimed', token } })
  }

  /** With `sha256`, held counts only under that digest. */
  async isHeld(uploadId: string, partNumber: number, sha256?: string): Promise<boolean> {
    const where = { upload_id: uploadId, part_number: partNumber, state: 'held', ...(sha256 ? { sha256 } : {}) }
    return (await this.Part.count({ where })) === 1
  }

  async heldCount(uploadId: string): Promise<number> {
    return this.Part.count({ where: { upload_id: uploadId, state: 'held' } })
  }

  /** The bytes of the held parts. */
  async heldBytes(uploadId: string): Promise<number> {
    return int((await this.Part.sum('size', { where: { upload_id: uploadId, state: 'held' } })) ?? 0) || 0
  }

  /** The held parts in order, as CompleteMultipartUpload lists them. */
  async held(uploadId: string): Promise<Array<{ partNumber: number; etag: string; size: number; sha256: string | null }>> {
    const rows = (await this.Part.findAll({ where: { upload_id: uploadId, state: 'held' }, order: [['part_number', 'ASC']], raw: true })) as unknown as PartRowAttributes[]
    return rows.map((r) => ({ partNumber: int(r.part_number), etag: r.etag ?? '', size: int(r.size), sha256: r.sha256 }))
  }

  /** Parts held or being written: none means an upload no request has put anything into. */
  async count(uploadId: string): Promise<number> {
    return this.Part.count({ where: { upload_id: uploadId } })
  }

  async deleteAll(uploadId: string): Promise<void> {
    await this.Part.destroy({ where: { upload_id: uploadId } })
  }
}
