/**
 * An app upgrading keeps its S3 shared tables: a parts table created by an earlier version (without
 * the `sha256` column) gets the column when the plugin starts, and its rows stay.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { expect, test } from '@jest/globals'
import { Sequelize } from 'sequelize'
import { defineSharedTables } from '../src/store/shared-state/models.js'

test('a parts table without the sha256 column gets it, and keeps its rows', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'adminjs-resumable-upgrade-'))
  const sequelize = new Sequelize({ dialect: 'sqlite', storage: join(dir, 'db.sqlite'), logging: false })
  try {
    await sequelize.query(`CREATE TABLE resumable_upload_parts (upload_id VARCHAR(64) NOT NULL, part_number INTEGER NOT NULL,
      state VARCHAR(8) NOT NULL, token VARCHAR(32) NOT NULL, claimed_at BIGINT NOT NULL, etag VARCHAR(128), size BIGINT,
      PRIMARY KEY (upload_id, part_number))`)
    await sequelize.query(`INSERT INTO resumable_upload_parts VALUES ('${'a'.repeat(40)}', 1, 'held', 't', 1, '"e"', 5)`)
    const tables = await defineSharedTables(sequelize)
    expect(Object.keys(await sequelize.getQueryInterface().describeTable('resumable_upload_parts'))).toContain('sha256')
    const rows = await tables.Part.findAll({ raw: true })
    expect(rows).toEqual([expect.objectContaining({ part_number: 1, state: 'held', sha256: null })])
    // Starting again (another host, a restart) finds the column there.
    await expect(defineSharedTables(sequelize)).resolves.toBeDefined()
  } finally {
    await sequelize.close()
    rmSync(dir, { recursive: true, force: true })
  }
})
