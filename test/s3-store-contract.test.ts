/**
 * The UploadStore contract (test/store-contract.ts) against S3: a real s3rver process and the shared
 * upload state in a real database, once on SQLite and once on PostgreSQL.
 */
import { afterAll, describe, test } from '@jest/globals'
import { describeUploadStore } from './store-contract.js'
import { asUploadStore, openSubject, type Dialect } from './support/s3-storage.js'
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
    describeUploadStore(`S3 (s3rver) + shared state on ${dialect}`, async () => {
      const subject = await openSubject((await s3())!, dialect, postgres)
      return { store: asUploadStore(subject.storage), cleanup: subject.cleanup }
    })
  }
} else {
  describe('S3 store contract', () => {
    test.skip('s3rver is not installed (see the warning above)', () => undefined)
  })
}
