/**
 * The StagingStore and FileStorage contracts (test/staging-contract.ts, test/file-storage-contract.ts)
 * against S3: a real s3rver process and the shared upload state in a real database, once on SQLite
 * and once on PostgreSQL.
 */
import { afterAll, test } from '@jest/globals'
import { describeFileStorage } from './file-storage-contract.js'
import { describeStagingStore, manifestFor, writeAll } from './staging-contract.js'
import { openSubject, type Dialect } from './support/s3-storage.js'
import { s3rverInstalled, startS3rver, type S3Server } from './support/s3rver.js'
import { freshPostgresDatabase } from './support/services.js'

let server: Promise<S3Server | null> | null = null
const s3 = () => (server ??= startS3rver())
afterAll(async () => {
  await (await server)?.destroy()
})

const postgres = freshPostgresDatabase()
const dialects: Dialect[] = postgres ? ['sqlite', 'postgres'] : ['sqlite']

if (s3rverInstalled()) {
  for (const dialect of dialects) {
    describeStagingStore(`S3Staging (s3rver) + shared state on ${dialect}`, async () => {
      const subject = await openSubject((await s3())!, dialect, postgres)
      return { store: subject.storage.staging, cleanup: subject.cleanup }
    })
    describeFileStorage(`S3Files (s3rver, finished uploads from S3Staging) + shared state on ${dialect}`, async () => {
      const subject = await openSubject((await s3())!, dialect, postgres)
      const { staging, files } = subject.storage
      return {
        files,
        async finishedUpload(data) {
          const m = manifestFor(data)
          await writeAll(staging, m, data)
          return (await staging.finished(m.id))!
        },
        cleanup: subject.cleanup,
      }
    })
  }
} else {
  // Reached only outside CI: s3rverInstalled() throws under CI=true.
  test.todo('S3 STORE CONTRACT TESTS DID NOT RUN: s3rver is not installed (npm install)')
}
