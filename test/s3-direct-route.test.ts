/**
 * Direct uploads through the real AdminJS router (`storage.s3.upload: 'direct'`), over a real
 * s3rver behind a SigV4-verifying proxy (test/support/signing-proxy.ts; s3rver on its own accepts
 * any signature), on SQLite and PostgreSQL. A Node client speaks the wire protocol the edit
 * components speak (src/shared/direct-protocol.ts): sign a batch on the chunk route, PUT each
 * chunk straight to the S3 server under its signed URL, report the ETags. The route carries no
 * file bytes; what a signed URL allows is exactly its part; the same access checks and ownership
 * apply before anything is signed (limits, hooks, the content check: test/s3-direct-checks.test.ts).
 */
import { afterAll, beforeAll, expect, jest, test } from '@jest/globals'
import request from 'supertest'
import { login, startTestApp, type Agent, type TestApp } from './support/app.js'
import { directPath, directUpload, partDigest, putPart, report, sign, viaAgent, type DirectTransport } from './support/direct-client.js'
import { rawPut } from './support/raw-put.js'
import { chunkBytes, chunkParams, ENDPOINT, postChunk, sha256, testChunk, XHR } from './support/resumable-client.js'
import { downloaded, fileOf, saveDocument, directSuite, uploadRows, type DirectServers } from './support/direct-servers.js'

jest.setTimeout(120_000)

const { suite, postgresUrl, dialects, servers } = directSuite('Direct uploads through the router')
let d: DirectServers
beforeAll(() => {
  d = servers()
})

for (const dialect of dialects) {
  suite(`direct uploads through the router (${dialect})`, () => {
    let t: TestApp
    let admin: Agent
    let editor: Agent
    let viewer: Agent
    let send: DirectTransport

    beforeAll(async () => {
      t = await startTestApp({ databaseUrl: dialect === 'postgres' ? postgresUrl : null, env: d.env() })
      admin = await login(t.app, 'admin@example.com')
      editor = await login(t.app, 'editor@example.com')
      viewer = await login(t.app, 'viewer@example.com')
      send = viaAgent(admin)
    })
    afterAll(async () => {
      await t?.close()
    })

    test('the component is told the mode; a chunk POST to a direct property is refused (409) before its body is read', async () => {
      const custom = t.admin.findResource('Document').decorate().getPropertyByKey('file')?.options.custom as { upload: string }
      expect(custom.upload).toBe('direct')
      const file = fileOf(1)
      const refused = await postChunk(admin, file, 1)
      expect(refused.status).toBe(409)
      expect(refused.body).toMatchObject({ code: 'wrong_upload_mode', message: expect.stringContaining('direct/sign') })
      expect(await uploadRows(t)).toBe(0)
    })

    test('sign → PUT to the bucket → report completes the upload; Save stores it; the download is byte-identical; the checksum is the reported one', async () => {
      const file = fileOf(3)
      const run = await directUpload(send, file, { digests: true })
      expect(run.failure).toBeNull()
      expect(run.reference).toMatch(/^[0-9a-f]{40}$/)
      const saved = await saveDocument(admin, run.reference!)
      expect(saved.body.record.errors).toEqual({})
      const params = saved.body.record.params
      expect(Number(params.fileSize)).toBe(file.data.length)
      expect(params.fileChecksum).toBe(sha256(file.data))
      expect(params.fileMetadata).toContain('clean')
      expect(sha256(await downloaded(admin, params.id))).toBe(sha256(file.data))
    })

    test('without per-part digests too; a report without the file checksum leaves the checksum column empty', async () => {
      const file = fileOf(2)
      const signed = await sign(send, file, [1, 2], false, true)
      expect(signed.status).toBe(200)
      expect(signed.body.held).toEqual([])
      expect(signed.body.parts.map((p) => new URL(p.url).searchParams.get('X-Amz-SignedHeaders'))).toEqual(['content-length;host', 'content-length;host'])
      const etags: Array<{ partNumber: number; etag: string }> = []
      for (const part of signed.body.parts) etags.push({ partNumber: part.partNumber, etag: String((await putPart(file, part)).headers.etag) })
      const done = await report(send, file, etags)
      expect(done.body).toEqual({ status: 'complete', reference: expect.stringMatching(/^[0-9a-f]{40}$/) })
      const saved = await saveDocument(admin, done.body.status === 'complete' ? done.body.reference : '')
      expect(saved.body.record.params.fileChecksum ?? null).toBeNull()
      expect(sha256(await downloaded(admin, saved.body.record.params.id))).toBe(sha256(file.data))
    })

    test('the test GET answers from the recorded parts: 204 wanted, 200 held (with a digest only under that digest), the reference once complete', async () => {
      const file = fileOf(2)
      const digest = (n: number) => ({ resumableChunkSha256: partDigest(file, n) })
      const get = (n: number, extra: Record<string, string> = {}) => admin.get(ENDPOINT).query({ ...chunkParams(file, n), ...extra }).set(XHR)
      expect((await get(1)).status).toBe(204)
      const signed = await sign(send, file, [1, 2], true)
      expect(signed.status).toBe(200)
      const put = await putPart(file, signed.body.parts[0]!)
      expect((await get(1, digest(1))).status).toBe(204)
      const partial = await report(send, file, [{ partNumber: 1, etag: String(put.headers.etag) }])
      expect(partial.body).toEqual({ status: 'partial', held: [1] })
      // Any request of any host answers from the tables at once.
      expect((await get(1)).status).toBe(200)
      expect((await get(1, digest(1))).status).toBe(200)
      expect((await get(1, { resumableChunkSha256: '0'.repeat(64) })).status).toBe(204)
      expect((await get(2)).status).toBe(204)
      const put2 = await putPart(file, signed.body.parts[1]!)
      const done = await report(send, file, [{ partNumber: 2, etag: String(put2.headers.etag) }], sha256(file.data))
      expect(done.body.status).toBe('complete')
      const after = await get(2)
      expect(after.status).toBe(200)
      expect(after.body).toMatchObject({ status: 'held', complete: true, reference: (done.body as { reference: string }).reference })
    })

    test('a reported part no signed digest covers is not recorded but named for resending; signed and sent again, it completes the upload', async () => {
      const file = fileOf(2)
      const first = await sign(send, file, [1], true)
      const put1 = await putPart(file, first.body.parts[0]!)
      // Part 2 was never signed (as a part forgotten after the bucket refused it): its report records nothing.
      const answer = await report(send, file, [{ partNumber: 1, etag: String(put1.headers.etag) }, { partNumber: 2, etag: '"0123456789abcdef0123456789abcdef"' }])
      expect(answer.body).toEqual({ status: 'resend', parts: [2] })
      expect((await testChunk(admin, file, 1)).status).toBe(200)
      expect((await testChunk(admin, file, 2)).status).toBe(204)
      const second = await sign(send, file, [2], true)
      const put2 = await putPart(file, second.body.parts[0]!)
      const done = await report(send, file, [{ partNumber: 2, etag: String(put2.headers.etag) }], sha256(file.data))
      expect(done.body.status).toBe('complete')
      const saved = await saveDocument(admin, (done.body as { reference: string }).reference)
      expect(sha256(await downloaded(admin, saved.body.record.params.id))).toBe(sha256(file.data))
    })

    test('a completion the bucket could not run (503) leaves every part held; a report with no parts completes it later, with the checksum', async () => {
      const file = fileOf(2)
      const signed = await sign(send, file, [1, 2], true)
      const etags: Array<{ partNumber: number; etag: string }> = []
      for (const part of signed.body.parts) etags.push({ partNumber: part.partNumber, etag: String((await putPart(file, part)).headers.etag) })
      d.faults.refuse({ match: (req) => req.method === 'POST' && /[?&]uploadId=/.test(req.url ?? ''), status: 503, code: 'SlowDown', times: 3 })
      // (The SDK tries a CompleteMultipartUpload three times.)
      const failed = await report(send, file, etags, sha256(file.data))
      expect([failed.status, failed.body.code]).toEqual([503, 'storage_unavailable'])
      // After a reload the test GETs find every part held, but no reference yet.
      for (const n of [1, 2]) {
        const tested = await testChunk(admin, file, n)
        expect([tested.status, tested.body.complete]).toEqual([200, false])
      }
      const done = await report(send, file, [], sha256(file.data))
      expect(done.body.status).toBe('complete')
      const saved = await saveDocument(admin, (done.body as { reference: string }).reference)
      expect(saved.body.record.params.fileChecksum).toBe(sha256(file.data))
    })

    test('a signed URL allows exactly its part: another part number, length, digest, upload, or after its expiry → 403 from the verifying proxy', async () => {
      const file = fileOf(2)
      const other = fileOf(2)
      const [mine, theirs] = [await sign(send, file, [1, 2], true), await sign(send, other, [1], true)]
      const part1 = mine.body.parts[0]!
      const url = new URL(part1.url)
      const asPart2 = new URL(url)
      asPart2.searchParams.set('partNumber', '2')
      const forOther = new URL(url)
      forOther.searchParams.set('uploadId', new URL(theirs.body.parts[0]!.url).searchParams.get('uploadId')!)
      const body = chunkBytes(file, 1)
      const before = d.proxy.refused.length
      const refusals = [
        await rawPut(asPart2.href, body, part1.headers),
        await rawPut(url.href, Buffer.concat([body, Buffer.from('x')]), part1.headers),
        await rawPut(url.href, body, { 'x-amz-checksum-sha256': Buffer.from(partDigest(file, 2), 'hex').toString('base64') }),
        await rawPut(forOther.href, body, part1.headers),
      ]
      d.setClockAhead(16 * 60_000)
      try {
        refusals.push(await rawPut(url.href, body, part1.headers))
      } finally {
        d.setClockAhead(0)
      }
      expect(refusals.map((r) => r.status)).toEqual([403, 403, 403, 403, 403])
      expect(d.proxy.refused.slice(before).map((r) => r.reason)).toEqual([
        'presigned signature does not verify', 'presigned signature does not verify', 'presigned signature does not verify',
        'presigned signature does not verify', 'Request has expired',
      ])
      // The URL as signed still works, and a URL that expired is simply signed again.
      expect((await rawPut(url.href, body, part1.headers)).status).toBe(200)
      const again = await sign(send, file, [1], true)
      expect(again.body.parts[0]!.expiresAt).toBeGreaterThan(Date.now() + 14 * 60_000)
    })

    test("another admin's upload cannot be reported (404) nor reached by signing: the same identifier names the signer's own upload", async () => {
      const file = fileOf(1)
      const mine = await sign(send, file, [1])
      expect(mine.status).toBe(200)
      const foreign = await report(viaAgent(editor), file, [{ partNumber: 1, etag: '"0123456789abcdef0123456789abcdef"' }])
      expect(foreign.status).toBe(404)
      expect(foreign.body.code).toBe('not_found')
      const theirs = await sign(viaAgent(editor), file, [1])
      expect(theirs.status).toBe(200)
      const uploadIdOf = (answer: typeof mine) => new URL(answer.body.parts[0]!.url).searchParams.get('uploadId')
      expect(uploadIdOf(theirs)).not.toBe(uploadIdOf(mine))
      // The admin's upload is untouched by the editor's requests.
      expect((await testChunk(admin, file, 1)).status).toBe(204)
    })

    test('a viewer without edit rights gets 403, an anonymous caller 401, and nothing is created', async () => {
      const file = fileOf(1)
      const rows = await uploadRows(t)
      const refused = await sign(viaAgent(viewer), file, [1])
      expect(refused.status).toBe(403)
      expect(refused.body.code).toBe('forbidden')
      expect((await report(viaAgent(viewer), file, [])).status).toBe(403)
      const anonymous = await request(t.app).post(directPath(file, 'sign')).set(XHR).set('Content-Type', 'application/json').send('{"parts":[{"partNumber":1}]}')
      expect(anonymous.status).toBe(401)
      expect(await uploadRows(t)).toBe(rows)
    })

    test('the guards in front: a sign request from another site\'s page is refused (403 cross_site) before the session is read; the admin\'s own page gets through', async () => {
      const file = fileOf(1)
      const rows = await uploadRows(t)
      const post = (site: string) => admin.post(directPath(file, 'sign')).set(XHR).set('Sec-Fetch-Site', site).set('Content-Type', 'application/json').send('{"parts":[{"partNumber":1}]}')
      const foreign = await post('cross-site')
      expect([foreign.status, foreign.body.code]).toEqual([403, 'cross_site'])
      expect(await uploadRows(t)).toBe(rows)
      expect((await post('same-origin')).status).toBe(200)
    })

    test('bad bodies are refused with 400 (or 413 past the bound), each saying what is wrong, and nothing is signed', async () => {
      const file = fileOf(2)
      const rows = await uploadRows(t)
      const post = (body: string, type = 'application/json') => admin.post(directPath(file, 'sign')).set(XHR).set('Content-Type', type).send(body)
      const cases: Array<[string, RegExp, string?]> = [
        ['{"parts":[{"partNumber":1}]', /not valid JSON/],
        ['{"parts":[{"partNumber":1}]}', /application\/json/, 'text/plain'],
        ['[]', /JSON object/],
        ['{"parts":[]}', /1 to 32 parts/],
        ['{"parts":[{"partNumber":3}]}', /outside this file's parts 1\.\.2/],
        ['{"parts":[{"partNumber":1},{"partNumber":1}]}', /named twice/],
        [`{"parts":[{"partNumber":1,"sha256":"${'A'.repeat(64)}"}]}`, /64 lower-case hexadecimal/],
        [`{"parts":[{"partNumber":1,"sha256":"${'a'.repeat(64)}"},{"partNumber":2}]}`, /every part .* or none/],
        [JSON.stringify({ parts: Array.from({ length: 33 }, (_, i) => ({ partNumber: i + 1 })) }), /1 to 32 parts/],
      ]
      for (const [body, message, type] of cases) {
        const res = await post(body, type)
        expect([res.status, res.body.code, res.body.message]).toEqual([400, 'invalid_request', expect.stringMatching(message)])
      }
      const huge = await post(JSON.stringify({ parts: [{ partNumber: 1 }], padding: 'x'.repeat(20_000) }))
      expect(huge.status).toBe(413)
      const badEtag = await admin.post(directPath(file, 'parts')).set(XHR).set('Content-Type', 'application/json').send('{"parts":[{"partNumber":1,"etag":"a b"}]}')
      expect(badEtag.status).toBe(400)
      const badSum = await admin.post(directPath(file, 'parts')).set(XHR).set('Content-Type', 'application/json').send('{"parts":[],"fileSha256":"xyz"}')
      expect([badSum.status, badSum.body.message]).toEqual([400, expect.stringContaining('fileSha256')])
      expect((await admin.get(directPath(file, 'sign')).set(XHR)).status).toBe(405)
      expect(await uploadRows(t)).toBe(rows)
    })

    test('an upload started with per-part digests must sign every part with one, and one started without must not (400)', async () => {
      const withDigests = fileOf(2)
      expect((await sign(send, withDigests, [1], true)).status).toBe(200)
      const plain = await sign(send, withDigests, [2])
      expect([plain.status, plain.body.message]).toEqual([400, expect.stringContaining('with a SHA-256 per part')])
      const without = fileOf(2)
      expect((await sign(send, without, [1])).status).toBe(200)
      const digested = await sign(send, without, [2], true)
      expect([digested.status, digested.body.message]).toEqual([400, expect.stringContaining('without a SHA-256 per part')])
    })

    test('cancel removes the upload: its parts can no longer be reported (404), its test GET wants every part again', async () => {
      const file = fileOf(1)
      const signed = await sign(send, file, [1])
      const put = await putPart(file, signed.body.parts[0]!)
      const cancelled = await admin.delete(ENDPOINT).query(chunkParams(file, 1)).set(XHR)
      expect(cancelled.status).toBe(200)
      expect((await report(send, file, [{ partNumber: 1, etag: String(put.headers.etag) }])).status).toBe(404)
      expect((await testChunk(admin, file, 1)).status).toBe(204)
    })
  })
}
