/**
 * Direct uploads through the router on fauxqs (test/support/fauxqs.ts), which checks the ETags of
 * CompleteMultipartUpload where s3rver does not: a wrong ETag reported makes the completing report
 * answer `resend` (fauxqs has no ListParts, so every part is forgotten and named), and the parts
 * sent again complete the upload. fauxqs has no bucket CORS API either: the start-up check cannot
 * read a rule, warns with the policy to apply, and the app starts.
 */
import { afterAll, beforeAll, describe, expect, jest, test } from '@jest/globals'
import { login, startTestApp, type Agent, type TestApp } from './support/app.js'
import { putPart, report, sign, viaAgent } from './support/direct-client.js'
import { fauxqsMissing, startFauxqs } from './support/fauxqs.js'
import { bytes, chunkParams, ENDPOINT, sha256, type FileSpec } from './support/resumable-client.js'
import type { S3Server } from './support/s3rver.js'

jest.setTimeout(600_000)

const MiB = 1024 * 1024
const missing = fauxqsMissing()
const suite = missing ? describe.skip : describe

let server: S3Server
let t: TestApp
let admin: Agent
const warnings: string[] = []
beforeAll(async () => {
  if (missing) return
  server = (await startFauxqs())!
  const warn = jest.spyOn(console, 'warn').mockImplementation((message: unknown) => {
    warnings.push(String(message))
  })
  try {
    t = await startTestApp({
      env: {
        CHUNK_SIZE: String(5 * MiB),
        MAX_UPLOAD_SIZE: String(1024 * MiB),
        S3_BUCKET: server.bucket,
        S3_ENDPOINT: server.config.endpoint as string,
        S3_REGION: 'us-east-1',
        S3_FORCE_PATH_STYLE: 'true',
        S3_UPLOAD: 'direct',
        S3_CORS: 'none',
        S3_DOWNLOAD: 'stream',
        AWS_ACCESS_KEY_ID: (server.config.credentials as { accessKeyId: string }).accessKeyId,
        AWS_SECRET_ACCESS_KEY: (server.config.credentials as { secretAccessKey: string }).secretAccessKey,
      },
    })
  } finally {
    warn.mockRestore()
  }
  admin = await login(t.app, 'admin@example.com')
}, 600_000)
afterAll(async () => {
  await t?.close()
  await server?.destroy()
})

suite('direct uploads on fauxqs', () => {
  test('without a bucket CORS API the app starts, warning once per feature with the policy to apply', () => {
    const cors = warnings.filter((w) => w.includes('cannot be read from this server'))
    expect(cors.length).toBeGreaterThanOrEqual(1)
    expect(cors[0]).toContain('"ExposeHeaders": [')
    expect(cors[0]).toContain('"PUT"')
  })

  test('a wrong ETag reported: the completing report answers resend, the parts sent again complete the upload; Save and download byte-identical', async () => {
    const data = bytes(2 * 5 * MiB + 321, 71)
    const file: FileSpec = { identifier: `${data.length}-fauxqs-direct`, filename: 'resend.bin', data, chunkSize: 5 * MiB }
    const send = viaAgent(admin)
    const signed = await sign(send, file, [1, 2])
    expect(signed.status).toBe(200)
    const etags: Array<{ partNumber: number; etag: string }> = []
    for (const part of signed.body.parts) etags.push({ partNumber: part.partNumber, etag: String((await putPart(file, part)).headers.etag) })
    const wrong = [{ partNumber: 1, etag: '"00000000000000000000000000000000"' }, etags[1]!]
    const refused = await report(send, file, wrong, sha256(data))
    expect(refused.body).toEqual({ status: 'resend', parts: [1, 2] })
    // The parts are wanted again on every host's test GET.
    expect((await admin.get(ENDPOINT).query(chunkParams(file, 2)).set('X-Requested-With', 'XMLHttpRequest')).status).toBe(204)

    const again = await sign(send, file, refused.body.status === 'resend' ? refused.body.parts : [])
    const fresh: Array<{ partNumber: number; etag: string }> = []
    for (const part of again.body.parts) fresh.push({ partNumber: part.partNumber, etag: String((await putPart(file, part)).headers.etag) })
    const done = await report(send, file, fresh, sha256(data))
    expect(done.body).toEqual({ status: 'complete', reference: expect.stringMatching(/^[0-9a-f]{40}$/) })

    const saved = await admin.post('/admin/api/resources/Document/actions/new').field('title', 'resent').field('file', (done.body as { reference: string }).reference)
    expect(saved.body.record.errors).toEqual({})
    expect(saved.body.record.params.fileChecksum).toBe(sha256(data))
    const res = await admin.get(`${ENDPOINT}/download/${saved.body.record.params.id}`).buffer(true).parse((stream, callback) => {
      const pieces: Buffer[] = []
      stream.on('data', (piece: Buffer) => pieces.push(piece))
      stream.on('end', () => callback(null, Buffer.concat(pieces)))
    })
    expect(res.status).toBe(200)
    expect(sha256(res.body as Buffer)).toBe(sha256(data))
  })

  test('cancel aborts the multipart upload for real: a part URL signed before is refused by the bucket afterwards', async () => {
    const data = bytes(2 * 5 * MiB + 5, 72)
    const file: FileSpec = { identifier: `${data.length}-fauxqs-cancel`, filename: 'cancel.bin', data, chunkSize: 5 * MiB }
    const signed = await sign(viaAgent(admin), file, [1, 2])
    expect((await putPart(file, signed.body.parts[0]!)).status).toBe(200)
    const cancelled = await admin.delete(ENDPOINT).query(chunkParams(file, 1)).set('X-Requested-With', 'XMLHttpRequest')
    expect(cancelled.status).toBe(200)
    const late = await putPart(file, signed.body.parts[1]!)
    expect(late.status).toBe(404)
    expect(late.body).toContain('NoSuchUpload')
  })
})
