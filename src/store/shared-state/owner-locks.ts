import { createHash } from 'node:crypto'
import type { SharedTables } from './models.js'

/**
 * One host at a time counts an owner's uploads and creates one: the row's primary key makes the
 * lock exclusive across hosts, and the holder's insert is committed before it lets go, so the next
 * holder counts it. Ranking concurrent creations by their timestamps instead would trust every
 * host's clock, and a row inserted late but stamped early would be invisible to the rows ranked
 * after it. A lock whose holder died is taken over once its lease ran out.
 */
export class OwnerLockTable {
  constructor(private readonly tables: SharedTables) {}

  private get OwnerLock() {
    return this.tables.OwnerLock
  }

  private get S() {
    return this.tables.sequelize.constructor as unknown as typeof import('sequelize')
  }

  /** True when `token` now holds `owner`'s lock. */
  async acquire(owner: string, token: string, now: number, leaseMs: number): Promise<boolean> {
    const owner_hash = hashOf(owner)
    try {
      await this.OwnerLock.create({ owner_hash, token, claimed_at: now })
      return true
    } catch (error) {
      if (!(error instanceof this.S.UniqueConstraintError)) throw error
    }
    const [taken] = await this.OwnerLock.update(
      { token, claimed_at: now },
      { where: { owner_hash, claimed_at: { [this.S.Op.lt]: now - leaseMs } } },
    )
    return taken === 1
  }

  async release(owner: string, token: string): Promise<void> {
    await this.OwnerLock.destroy({ where: { owner_hash: hashOf(owner), token } })
  }
}

function hashOf(owner: string): string {
  return createHash('sha256').update(owner).digest('hex')
}
