/**
 * S3 storage over a real s3rver and a real database (SQLite file or a fresh PostgreSQL database),
 * on a prefix and tables of its own per test.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Sequelize } from 'sequelize'
import { openS3Storage, type S3Storage, type S3StorageOptions } from '../../src/store/s3/index.js'
import type { S3Server } from './s3rver.js'

export type Dialect = 'sqlite' | 'postgres'

export interface S3Subject {
  storage: S3Storage
  sequelize: Sequelize
  cleanup(): Promise<void>
}

/** A Sequelize on a new SQLite file, or on the PostgreSQL database `postgresUrl`. */
export function newSequelize(dialect: Dialect, postgresUrl: string | null): { sequelize: Sequelize; cleanup(): void } {
  if (dialect === 'postgres') return { sequelize: new Sequelize(postgresUrl!, { logging: false }), cleanup: () => undefined }
  const dir = mkdtempSync(join(tmpdir(), 'adminjs-resumable-s3db-'))
  const sequelize = new Sequelize({ dialect: 'sqlite', storage: join(dir, 'db.sqlite'), logging: false })
  return { sequelize, cleanup: () => rmSync(dir, { recursive: true, force: true }) }
}

let prefixCounter = 0

/** S3 storage on its own prefix and tables, so tests sharing a bucket or database never meet. */
export async function openSubject(server: S3Server, dialect: Dialect, postgresUrl: string | null, options: Partial<S3StorageOptions> = {}): Promise<S3Subject> {
  const { sequelize, cleanup } = newSequelize(dialect, postgresUrl)
  const n = prefixCounter++
  const storage = await openS3Storage({
    sequelize,
    bucket: server.bucket,
    client: server.config,
    prefix: `t${process.pid}-${n}/`,
    tablePrefix: `r${n}_`,
    ...options,
  })
  return {
    storage,
    sequelize,
    cleanup: async () => {
      storage.close()
      await sequelize.close()
      cleanup()
    },
  }
}

/**
 * `count` app hosts on one database and one bucket: each has its own SDK clients and staging store
 * (which keep nothing in memory), on SQLite one shared connection, on PostgreSQL one pool per host.
 */
export async function openHosts(server: S3Server, dialect: Dialect, postgresUrl: string | null, count: number, options: Partial<S3StorageOptions> = {}): Promise<{ hosts: S3Storage[]; cleanup(): Promise<void> }> {
  const first = newSequelize(dialect, postgresUrl)
  const n = prefixCounter++
  const shared = { bucket: server.bucket, client: server.config, prefix: `h${process.pid}-${n}/`, tablePrefix: `h${n}_`, ...options }
  const hosts: S3Storage[] = []
  const others: Sequelize[] = []
  for (let i = 0; i < count; i++) {
    const sequelize = i === 0 || dialect === 'sqlite' ? first.sequelize : new Sequelize(postgresUrl!, { logging: false })
    if (sequelize !== first.sequelize) others.push(sequelize)
    hosts.push(await openS3Storage({ sequelize, ...shared }))
  }
  return {
    hosts,
    cleanup: async () => {
      for (const host of hosts) host.close()
      for (const sequelize of [...others, first.sequelize]) await sequelize.close()
      first.cleanup()
    },
  }
}

/** Counts the SDK commands a host sends, by name (e.g. CompleteMultipartUploadCommand). */
export function countCommands(storage: S3Storage): Map<string, number> {
  const counts = new Map<string, number>()
  for (const client of [storage.clients.client, storage.clients.streaming]) {
    client.middlewareStack.add(
      (next, context) => async (args) => {
        counts.set(context.commandName ?? '?', (counts.get(context.commandName ?? '?') ?? 0) + 1)
        return next(args)
      },
      { step: 'initialize', name: `count-${Math.random()}` },
    )
  }
  return counts
}
