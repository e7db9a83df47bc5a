/**
 * The S3 operations s3rver only refuses, run for real on fauxqs (test/support/fauxqs.ts):
 * AbortMultipartUpload on cancel and on expiry, the multipart copy (UploadPartCopy) that places
 * files above the CopyObject limit, and CompleteMultipartUpload refusing a wrong ETag (the direct
 * part store's resend path). What fauxqs lacks too is shown as such: the orphan sweep needs
 * ListMultipartUploads, which neither server has.
 *
 * The copy is shown with the multipart threshold lowered to 1 byte and 5 MiB parts: the code path
 * is the one a file over 5 GiB takes (copy.ts's `multipartFrom` exists for this), but an object of
 * 5 GiB is beyond fauxqs, which holds every object in memory and joins a multipart upload's parts
 * into one buffer.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from '@jest/globals'
import { checkBucketCors } from '../src/store/s3/cors-check.js'
import { abortMultipart, createMultipart, listMultipart } from '../src/store/s3/multipart.js'
import { MiB } from '../src/store/s3-part-limits.js'
import type { S3StorageOptions } from '../src/store/s3/index.js'
import { describeDirectPartStore } from './direct-part-store-contract.js'
import { CREATE, chunkOf, manifestFor, readAll, writeAll } from './staging-contract.js'
import { fauxqsMissing, startFauxqs } from './support/fauxqs.js'
import { bytes, sha256 } from './support/resumable-client.js'
import { countCommands, openSubject, type Dialect, type S3Subject } from './support/s3-storage.js'
import type { S3Server } from './support/s3rver.js'
import { freshPostgresDatabase } from './support/services.js'

const missing = fauxqsMissing()
const postgres = missing ? null : freshPostgresDatabase()
const dialects: Dialect[] = postgres ? ['sqlite', 'postgres'] : ['sqlite']
const suite = missing ? describe.skip : describe

let server: S3Server
beforeAll(async () => {
  if (!missing) server = (await startFauxqs())!
}, 600_000)
afterAll(async () => {
  await server?.destroy()
})

const data = bytes(3 * 5 * MiB + 4321, 21)

/** The multipart upload is gone from the server: another part for it is refused with NoSuchUpload. */
async function uploadGone(subject: S3Subject, key: string, uploadId: string): Promise<string> {
  const { client, sdk } = subject.storage.clients
  const error = await client.send(new sdk.UploadPartCommand({ Bucket: server.bucket, Key: key, UploadId: uploadId, PartNumber: 2, Body: Buffer.from('late') }))
    .then(() => null, (e: unknown) => e as { name?: string })
  return error?.name ?? 'accepted'
}

suite('fauxqs: what s3rver cannot show', () => {
  let subject: S3Subject | null = null
  afterEach(async () => {
    await subject?.cleanup()
    subject = null
  })
  async function open(dialect: Dialect, options: Partial<S3StorageOptions> = {}): Promise<S3Subject> {
    subject = await openSubject(server, dialect, postgres, options)
    return subject
  }

  for (const dialect of dialects) {
    test(`cancel aborts the multipart upload for real (${dialect})`, async () => {
      const s = await open(dialect)
      const calls = countCommands(s.storage)
      const m = manifestFor(data, {}, 5 * MiB)
      await s.storage.staging.writeChunk(m, chunkOf(m, data, 1), CREATE)
      const row = (await s.storage.staging.deps.uploads.find(m.id))!
      expect(await uploadGone(s, row.objectKey, row.s3UploadId!)).toBe('accepted')
      await s.storage.staging.remove(m.id)
      expect(calls.get('AbortMultipartUploadCommand')).toBe(1)
      expect(await uploadGone(s, row.objectKey, row.s3UploadId!)).toBe('NoSuchUpload')
      expect(await s.storage.staging.state(m.id)).toBe('missing')
    })

    test(`expiry aborts the multipart upload for real (${dialect})`, async () => {
      const s = await open(dialect)
      const m = manifestFor(data, {}, 5 * MiB)
      await s.storage.staging.writeChunk(m, chunkOf(m, data, 2), CREATE)
      const row = (await s.storage.staging.deps.uploads.find(m.id))!
      const swept = await s.storage.staging.sweep(1_000, Date.now() + 60_000)
      expect(swept.expired).toEqual([m.id])
      expect(await uploadGone(s, row.objectKey, row.s3UploadId!)).toBe('NoSuchUpload')
      expect(await s.storage.staging.state(m.id)).toBe('expired')
      // Aborting again finds nothing: 'gone', not a failure.
      expect(await abortMultipart(s.storage.clients, s.storage.staging.deps.where, row.objectKey, row.s3UploadId!)).toBe('gone')
    })
  }

  test('the orphan sweep needs ListMultipartUploads: fauxqs has none, and the listing says so (null) instead of an empty list', async () => {
    const s = await open('sqlite')
    const { where, keys } = s.storage.staging.deps
    const orphanKey = `${keys.stagingPrefix}${'f'.repeat(40)}/orphan`
    const orphan = await createMultipart(s.storage.clients, where, orphanKey, 'application/octet-stream')
    expect(await listMultipart(s.storage.clients, where, keys.stagingPrefix)).toBeNull()
    await s.storage.staging.sweep(1_000, Date.now() + 60_000)
    // Not found, so not aborted: a bucket lifecycle rule is what reclaims it on such a server.
    expect(await uploadGone(s, orphanKey, orphan)).toBe('accepted')
  })

  test('no bucket CORS API (fauxqs answers GetBucketCors with a bucket listing): the CORS check says unverifiable, not verified', async () => {
    const s = await open('sqlite')
    expect(await checkBucketCors(s.storage.clients, server.bucket, 'https://admin.example.com')).toBe('unverifiable')
  })

  test('a file placed by multipart copy (UploadPartCopy by 5 MiB ranges) is byte-identical; below the threshold one CopyObject', async () => {
    const s = await open('sqlite', { copy: { multipartFrom: 1, partSize: 5 * MiB } })
    const calls = countCommands(s.storage)
    const m = manifestFor(data, {}, 5 * MiB)
    await writeAll(s.storage.staging, m, data)
    const finished = (await s.storage.staging.finished(m.id))!
    expect(await s.storage.files.place(finished, 'copies/big.bin')).toBe(true)
    expect(calls.get('UploadPartCopyCommand')).toBe(4)
    expect(calls.get('CopyObjectCommand') ?? 0).toBe(0)
    expect(sha256(await readAll(s.storage.files.read('copies/big.bin')))).toBe(sha256(data))
    // The key is taken now: a second placement is refused, not written over.
    expect(await s.storage.files.place(finished, 'copies/big.bin')).toBe(false)
  })

  test('below the multipart threshold the same placement is one CopyObject', async () => {
    const s = await open('sqlite')
    const calls = countCommands(s.storage)
    const small = bytes(3000, 5)
    const m = manifestFor(small, {}, 5 * MiB)
    await writeAll(s.storage.staging, m, small)
    expect(await s.storage.files.place((await s.storage.staging.finished(m.id))!, 'copies/small.bin')).toBe(true)
    expect(calls.get('CopyObjectCommand')).toBeGreaterThanOrEqual(1)
    expect(calls.get('UploadPartCopyCommand') ?? 0).toBe(0)
    expect(sha256(await readAll(s.storage.files.read('copies/small.bin')))).toBe(sha256(small))
  })
})

if (!missing) describeDirectPartStore({ name: 'fauxqs', server: () => server, checksEtags: true }, dialects, postgres)
