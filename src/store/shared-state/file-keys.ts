import { int, type FileKeyRowAttributes, type SharedTables } from './models.js'

/** A key being copied into place for longer than this belongs to a host that died mid-copy. */
const PLACING_LEASE_MS = 3600_000

/**
 * Who owns each key of a saved file, across hosts. A Save inserts the row (state `placing`, a random
 * token) before the copy starts: the primary key lets exactly one Save write a key, whatever the
 * object store does with concurrent copies. The row turns `placed` once the object is there and is
 * deleted with the file, so a key whose file was deleted can be used again.
 */
export class FileKeyTable {
  constructor(private readonly tables: SharedTables) {}

  private get FileKey() {
    return this.tables.FileKey
  }

  private get S() {
    return this.tables.sequelize.constructor as unknown as typeof import('sequelize')
  }

  /**
   * The right to write `key`: true when this token now owns it. `objectExists` is asked only when the
   * key has an owner already: a `placed` row whose object is gone (deleted outside the plugin) and a
   * `placing` row whose host died are taken over, anything else is refused.
   */
  async claim(key: string, token: string, now: number, objectExists: () => Promise<boolean>): Promise<boolean> {
    try {
      await this.FileKey.create({ key, state: 'placing', token, claimed_at: now })
      return true
    } catch (error) {
      if (!(error instanceof this.S.UniqueConstraintError)) throw error
    }
    const existing = (await this.FileKey.findByPk(key, { raw: true })) as FileKeyRowAttributes | null
    if (!existing) return false
    const stale = existing.state === 'placing' && int(existing.claimed_at) < now - PLACING_LEASE_MS
    const orphan = existing.state === 'placed' && !(await objectExists())
    if (!stale && !orphan) return false
    const [taken] = await this.FileKey.update(
      { state: 'placing', token, claimed_at: now },
      { where: { key, token: existing.token, state: existing.state } },
    )
    return taken === 1
  }

  async placed(key: string, token: string): Promise<void> {
    await this.FileKey.update({ state: 'placed' }, { where: { key, token } })
  }

  /** Gives the key back after a failed copy (only this token's claim). */
  async release(key: string, token: string): Promise<void> {
    await this.FileKey.destroy({ where: { key, token } })
  }

  /** The file was deleted: the key is free again. */
  async forget(key: string): Promise<void> {
    await this.FileKey.destroy({ where: { key } })
  }
}
