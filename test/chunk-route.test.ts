/**
 * The chunk route through the REAL stack: the example app (AdminJS 7, @adminjs/express, sessions in
 * the database via connect-session-sequelize) in-process, driven by supertest with exactly the
 * requests the npm resumablejs 1.1.0 client sends. Runs on SQLite and on PostgreSQL.
 *
 * Every refused request must answer JSON with a message, and must leave the staging folder
 * byte-for-byte as it was (checked on an upload that already holds some chunks).
 */
import { readdir, readFile, stat } from 'node:fs/promises'
import { join } from 'node:path'
import request from 'supertest'
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import { listTree } from './support/tree.js'
import { login, startTestApp, type Agent, type TestApp } from './support/app.js'
import {
  bytes, chunkBytes, chunkParams, countOf, ENDPOINT, postChunk, sha256, testChunk, uploadAll, XHR, type FileSpec,
} from './support/resumable-client.js'
import { freshPostgresDatabase, postgresTodo } from './support/services.js'

const KiB = 1024
const CHUNK = 64 * KiB
const MAX_UPLOAD = 1024 * KiB
const ENVELOPE = 64 * KiB
const ID40 = /^[a-f0-9]{40}$/

let seq = 0
function spec(data: Buffer, overrides: Partial<FileSpec> = {}): FileSpec {
  seq += 1
  return { identifier: `${data.length}-route-${process.pid}-${seq}`, filename: `file-${seq}.bin`, data, chunkSize: CHUNK, ...overrides }
}

/** Every path under `dir` with its kind, size and content hash (see support/tree.ts). */
const snapshot = (dir: string) => listTree(dir)

/** A multipart body built by hand, so that every byte (and Content-Length) is under the test's control. */
function multipart(fields: Record<string, string>, file?: { name?: string; data: Buffer }): { body: Buffer; type: string } {
  const boundary = `----resumabletest${seq}x${Date.now()}`
  const parts: Buffer[] = []
  for (const [name, value] of Object.entries(fields)) {
    parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`))
  }
  if (file) {
    parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${file.name ?? 'file'}"; filename="blob"\r\nContent-Type: application/octet-stream\r\n\r\n`))
    parts.push(file.data, Buffer.from('\r\n'))
  }
  parts.push(Buffer.from(`--${boundary}--\r\n`))
  return { body: Buffer.concat(parts), type: `multipart/form-data; boundary=${boundary}` }
}

function rawPost(agent: Agent | ReturnType<typeof request>, query: Record<string, string>, body: Buffer, type: string, headers: Record<string, string> = XHR) {
  const req = 'post' in agent ? (agent as Agent).post(ENDPOINT) : agent
  return (req as ReturnType<Agent['post']>).query(query).set(headers).set('Content-Type', type).send(body)
}

/** Asserts the JSON error shape every refusal must have. */
function expectError(res: request.Response, status: number, code?: string): void {
  expect({ status: res.status, type: res.headers['content-type'] }).toEqual({ status, type: expect.stringMatching(/^application\/json/) })
  expect(res.body.status).toBe('error')
  expect(typeof res.body.message).toBe('string')
  expect(res.body.message.length).toBeGreaterThan(5)
  if (code) expect(res.body.code).toBe(code)
}

/** Retries a chunk answered 503 (another request holds its lock), as Resumable.js does. */
async function postRetrying(agent: Agent, file: FileSpec, n: number): Promise<request.Response[]> {
  const answers: request.Response[] = []
  for (let attempt = 0; attempt < 200; attempt++) {
    const res = await postChunk(agent, file, n)
    answers.push(res)
    if (res.status !== 503) return answers
    expect(res.headers['retry-after']).toBe('1')
    await new Promise((resolve) => setTimeout(resolve, 2))
  }
  throw new Error(`chunk ${n} stayed busy`)
}

async function saveNew(agent: Agent, title: string, reference: string) {
  const res = await agent.post('/admin/api/resources/Document/actions/new').field('title', title).field('file', reference)
  expect(res.status).toBe(200)
  expect(res.body.record?.errors ?? {}).toEqual({})
  return res.body.record.params as Record<string, unknown>
}

const DATABASES = ['sqlite', 'postgres'] as const

describe.each(DATABASES)('chunk route on %s', (kind) => {
  const databaseUrl = kind === 'postgres' ? freshPostgresDatabase() : undefined
  if (databaseUrl === null) {
    test.todo(postgresTodo('chunk-route tests'))
    return
  }

  let t: TestApp
  let admin: Agent
  let viewer: Agent
  let staging: string

  beforeAll(async () => {
    t = await startTestApp({
      databaseUrl,
      env: { MAX_UPLOAD_SIZE: String(MAX_UPLOAD), ALLOWED_TYPES: 'application/octet-stream,application/pdf,text/plain' },
    })
    admin = await login(t.app, 'admin@example.com')
    viewer = await login(t.app, 'viewer@example.com')
    staging = join(t.uploadDir, '.staging')
  })
  afterAll(async () => {
    await t?.close()
  })

  test('the example app really runs on the database under test', async () => {
    expect(t.sequelize.getDialect()).toBe(kind)
  })

  describe('refusals: status, JSON body, and no stored chunk changed', () => {
    // An upload that already holds chunks 1 and 3 of 5; the refusals below aim at it.
    const data = bytes(5 * CHUNK + 1000, 11)
    let file: FileSpec
    let before: Record<string, string>

    beforeAll(async () => {
      file = spec(data)
      for (const n of [1, 3]) expect((await postChunk(admin, file, n)).status).toBe(200)
      before = await snapshot(staging)
      // The fixture is what the checks compare against: it must hold the two chunks' bytes.
      const ids = (await readdir(staging)).filter((n) => ID40.test(n))
      expect(ids).toHaveLength(1)
      expect([...(await readFile(join(staging, ids[0], 'received')))]).toEqual([1, 0, 1, 0, 0])
    })

    async function unchanged(): Promise<void> {
      expect(await snapshot(staging)).toEqual(before)
    }

    test('401 without a session, with a forged cookie, with a tampered signature, after logout', async () => {
      const anonymous = [
        await request(t.app).get(ENDPOINT).query(chunkParams(file, 2)).set(XHR),
        await postChunk(request.agent(t.app), file, 2),
        await request(t.app).delete(ENDPOINT).query({ resumableIdentifier: file.identifier }).set(XHR),
        await request(t.app).get(ENDPOINT).query(chunkParams(file, 2)).set(XHR).set('Cookie', 'adminjs=s%3Aforged-session-id.forgedsignature'),
      ]
      // A real session cookie, then the same session id with its signature altered.
      const loggedIn = await request(t.app).post('/admin/login').type('form').send({ email: 'admin@example.com', password: 'password' })
      const cookie = String(loggedIn.headers['set-cookie']?.[0] ?? '').split(';')[0]
      expect(cookie).toMatch(/^adminjs=s%3A.+\..+/)
      const real = await request(t.app).get(ENDPOINT).query(chunkParams(file, 1)).set(XHR).set('Cookie', cookie)
      expect(real.status).toBe(200)
      const tampered = cookie.slice(0, -2) + (cookie.endsWith('AA') ? 'BB' : 'AA')
      anonymous.push(await request(t.app).get(ENDPOINT).query(chunkParams(file, 1)).set(XHR).set('Cookie', tampered))
      // Logged out: the same agent that was allowed a moment ago.
      const leaving = await login(t.app, 'admin@example.com')
      expect((await testChunk(leaving, file, 1)).status).toBe(200)
      await leaving.get('/admin/logout')
      anonymous.push(await testChunk(leaving, file, 1))
      anonymous.push(await postChunk(leaving, file, 2))
      for (const res of anonymous) {
        expectError(res, 401, 'not_authenticated')
        expect(res.headers.location).toBeUndefined()
      }
      await unchanged()
    })

    test('403 without X-Requested-With, and for the viewer (list/show only)', async () => {
      const noHeader = [
        await admin.get(ENDPOINT).query(chunkParams(file, 2)),
        await (() => {
          const params = chunkParams(file, 2)
          const req = admin.post(ENDPOINT).query(params)
          for (const [k, v] of Object.entries(params)) req.field(k, v)
          return req.attach('file', chunkBytes(file, 2), { filename: 'blob', contentType: 'application/octet-stream' })
        })(),
        await admin.delete(ENDPOINT).query({ resumableIdentifier: file.identifier }),
        await admin.get(ENDPOINT).query(chunkParams(file, 2)).set('X-Requested-With', 'fetch'),
      ]
      for (const res of noHeader) expectError(res, 403, 'forbidden')
      const byViewer = [
        await testChunk(viewer, file, 1),
        await postChunk(viewer, file, 2),
        await viewer.delete(ENDPOINT).query({ resumableIdentifier: file.identifier }).set(XHR),
      ]
      for (const res of byViewer) expectError(res, 403, 'forbidden')
      await unchanged()
    })

    test('404 for an unknown resource, a property without the feature, an unknown property, an unknown route', async () => {
      const params = chunkParams(file, 2)
      const answers = [
        await admin.get('/admin/api/resumable/Nope/file').query(params).set(XHR),
        await admin.get('/admin/api/resumable/Document/title').query(params).set(XHR),
        await admin.get('/admin/api/resumable/Document/filePath').query(params).set(XHR),
        await admin.get('/admin/api/resumable/Document/nope').query(params).set(XHR),
        await (() => {
          const req = admin.post('/admin/api/resumable/Nope/file').query(params).set(XHR)
          for (const [k, v] of Object.entries(params)) req.field(k, v)
          return req.attach('file', chunkBytes(file, 2), { filename: 'blob' })
        })(),
        await admin.get('/admin/api/resumable/Document/file/extra/path').set(XHR),
      ]
      for (const res of answers) expectError(res, 404, 'not_found')
      await unchanged()
    })

    test('400 for malformed parameters, on the test GET and on the POST', async () => {
      const bad: Array<[string, Record<string, string | undefined>]> = [
        ['chunk number not a number', { resumableChunkNumber: 'abc' }],
        ['chunk number 0', { resumableChunkNumber: '0' }],
        ['negative chunk number', { resumableChunkNumber: '-1' }],
        ['chunk number beyond the count', { resumableChunkNumber: '6', resumableCurrentChunkSize: String(CHUNK) }],
        ['declared chunk size mismatch', { resumableCurrentChunkSize: String(CHUNK - 1) }],
        ['other chunk size than the server\'s', { resumableChunkSize: String(CHUNK * 2) }],
        ['total size zero', { resumableTotalSize: '0' }],
        ['missing identifier', { resumableIdentifier: undefined }],
        ['missing file name', { resumableFilename: undefined }],
        ['control characters in the identifier', { resumableIdentifier: `${file.identifier}\u0001` }],
        ['total chunks not a number', { resumableTotalChunks: 'x' }],
      ]
      for (const [label, override] of bad) {
        const params: Record<string, string> = { ...chunkParams(file, 2) }
        for (const [k, v] of Object.entries(override)) {
          if (v === undefined) delete params[k]
          else params[k] = v
        }
        const get = await admin.get(ENDPOINT).query(params).set(XHR)
        expect([label, get.status]).toEqual([label, 400])
        expectError(get, 400, 'invalid_request')
        const post = await rawPost(admin, params, multipart(params, { data: chunkBytes(file, 2) }).body, multipart(params, { data: chunkBytes(file, 2) }).type)
        expect([label, post.status]).toEqual([label, 400])
        expectError(post, 400, 'invalid_request')
      }
      // A parameter twice in the query string.
      const twice = await admin.get(`${ENDPOINT}?resumableChunkNumber=1&resumableChunkNumber=2`).query(
        Object.fromEntries(Object.entries(chunkParams(file, 1)).filter(([k]) => k !== 'resumableChunkNumber')),
      ).set(XHR)
      expectError(twice, 400, 'invalid_request')
      await unchanged()
    })

    test('400 for a body shorter or longer than declared, in multipart and in octet mode', async () => {
      for (const n of [2, 5]) {
        const params = chunkParams(file, n)
        const exact = chunkBytes(file, n)
        const bodies = [exact.subarray(1), exact.subarray(0, 10), Buffer.alloc(0), Buffer.concat([exact, Buffer.from('x')]), Buffer.concat([exact, Buffer.alloc(CHUNK - 2000, 7)])]
        for (const body of bodies) {
          const form = multipart(params, { data: body })
          expectError(await rawPost(admin, params, form.body, form.type), 400, 'invalid_request')
          expectError(await rawPost(admin, params, body, 'application/octet-stream'), 400, 'invalid_request')
        }
      }
      await unchanged()
    })

    test('400 for a body that is not multipart, a missing file part, a second file part, and URL/body disagreement', async () => {
      const params = chunkParams(file, 2)
      const bytes2 = chunkBytes(file, 2)
      expectError(await rawPost(admin, params, bytes2, 'text/plain'), 400, 'invalid_request')
      expectError(await rawPost(admin, params, Buffer.from(JSON.stringify(params)), 'application/json'), 400, 'invalid_request')
      expectError(await rawPost(admin, params, bytes2, 'multipart/form-data'), 400, 'invalid_request')
      const noFile = multipart(params)
      expectError(await rawPost(admin, params, noFile.body, noFile.type), 400, 'invalid_request')
      const otherName = multipart(params, { name: 'chunk', data: bytes2 })
      expectError(await rawPost(admin, params, otherName.body, otherName.type), 400, 'invalid_request')
      // Two file parts: the first one complete and correct, then a second "file".
      const two = multipart(params, { data: bytes2 })
      const boundary = two.type.split('boundary=')[1]
      const closing = Buffer.from(`--${boundary}--\r\n`)
      const doubled = Buffer.concat([
        two.body.subarray(0, two.body.length - closing.length),
        Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="blob"\r\nContent-Type: application/octet-stream\r\n\r\n`),
        bytes2, Buffer.from('\r\n'), closing,
      ])
      expectError(await rawPost(admin, params, doubled, two.type), 400, 'invalid_request')
      const disagree = multipart({ ...params, resumableTotalSize: String(data.length + 1) }, { data: bytes2 })
      expectError(await rawPost(admin, params, disagree.body, disagree.type), 400, 'invalid_request')
      const truncated = multipart(params, { data: bytes2 })
      expectError(await rawPost(admin, params, truncated.body.subarray(0, truncated.body.length - 20), truncated.type), 400, 'invalid_request')
      await unchanged()
    })

    test('409 for the same identifier with another total size or another file name', async () => {
      const otherSize = { ...file, data: bytes(data.length + CHUNK, 12) }
      const otherName = { ...file, filename: 'renamed.bin' }
      for (const other of [otherSize, otherName]) {
        expectError(await testChunk(admin, other, 1), 409, 'conflict')
        expectError(await testChunk(admin, other, 2), 409, 'conflict')
        expectError(await postChunk(admin, other, 2), 409, 'conflict')
      }
      await unchanged()
    })

    test('413 for a file over MAX_UPLOAD_SIZE and for a request body over 2 × chunk + 64 KiB', async () => {
      const huge = spec(bytes(MAX_UPLOAD + 1, 13))
      expectError(await testChunk(admin, huge, 1), 413, 'too_large')
      expectError(await postChunk(admin, huge, 1), 413, 'too_large')
      // Content-Length over the bound, aimed at a chunk of the existing upload.
      const params = chunkParams(file, 2)
      const oversized = Buffer.alloc(2 * CHUNK + ENVELOPE + 1, 1)
      expectError(await rawPost(admin, params, oversized, 'application/octet-stream'), 413, 'too_large')
      const form = multipart(params, { data: Buffer.alloc(2 * CHUNK + ENVELOPE, 1) })
      expect(form.body.length).toBeGreaterThan(2 * CHUNK + ENVELOPE)
      expectError(await rawPost(admin, params, form.body, form.type), 413, 'too_large')
      expect((await readdir(staging)).filter((n) => ID40.test(n))).toHaveLength(1)
      await unchanged()
    })

    test('415 for a type outside ALLOWED_TYPES (declared, or guessed from the extension)', async () => {
      const png = spec(bytes(2 * CHUNK, 14), { type: 'image/png', filename: 'picture.png' })
      const guessed = spec(bytes(2 * CHUNK, 15), { type: '', filename: 'movie.mp4' })
      for (const f of [png, guessed]) {
        expectError(await testChunk(admin, f, 1), 415, 'type_not_allowed')
        expectError(await postChunk(admin, f, 1), 415, 'type_not_allowed')
      }
      expect((await readdir(staging)).filter((n) => ID40.test(n))).toHaveLength(1)
      await unchanged()
    })

    test('405 with Allow for other methods on the chunk URL', async () => {
      for (const res of [
        await admin.put(ENDPOINT).query(chunkParams(file, 2)).set(XHR).send(chunkBytes(file, 2)),
        await admin.patch(ENDPOINT).query(chunkParams(file, 2)).set(XHR).send(chunkBytes(file, 2)),
      ]) {
        expectError(res, 405, 'method_not_allowed')
        expect(res.headers.allow).toBe('GET, POST, DELETE')
      }
      await unchanged()
    })

    test('200/204 for test GETs: held chunks 200 JSON, missing ones 204 with no body', async () => {
      for (const n of [1, 3]) {
        const res = await testChunk(admin, file, n)
        expect(res.status).toBe(200)
        expect(res.body).toEqual({ status: 'held', complete: false })
      }
      for (const n of [2, 4, 5]) {
        const res = await testChunk(admin, file, n)
        expect(res.status).toBe(204)
        expect(res.text ?? '').toBe('')
      }
      const unknown = spec(bytes(2 * CHUNK, 16))
      expect((await testChunk(admin, unknown, 1)).status).toBe(204)
      await unchanged()
    })

    afterAll(async () => {
      // After all the refusals the upload still finishes with the right bytes.
      let reference = ''
      for (const n of [2, 4, 5]) {
        const res = await postChunk(admin, file, n)
        expect(res.status).toBe(200)
        if (res.body.status === 'complete') reference = res.body.reference
      }
      expect(reference).toMatch(ID40)
      expect(sha256(await readFile(join(staging, reference, 'complete')))).toBe(sha256(data))
    })
  })

  test('multi-chunk upload with chunks out of order and duplicated completes with the right bytes', async () => {
    const data = bytes(7 * CHUNK + 4321, 21)
    const file = spec(data)
    expect(countOf(file)).toBe(7)
    const order = [4, 1, 7, 4, 2, 1, 6, 3, 7]
    let reference = ''
    for (const n of order) {
      const res = await postChunk(admin, file, n)
      expect(res.status).toBe(200)
      expect(res.body).toEqual({ status: 'partial' })
    }
    const last = await postChunk(admin, file, 5)
    expect(last.status).toBe(200)
    expect(last.body).toEqual({ status: 'complete', reference: expect.stringMatching(ID40) })
    reference = last.body.reference
    // Late duplicates and test GETs all carry the same reference.
    for (const n of [1, 5, 7]) {
      expect((await postChunk(admin, file, n)).body).toEqual({ status: 'complete', reference })
      expect((await testChunk(admin, file, n)).body).toEqual({ status: 'held', complete: true, reference })
    }
    const params = await saveNew(admin, 'out of order', reference)
    expect(params.filePath).toBe(`documents/${params.id}/${file.filename}`)
    expect(sha256(await readFile(join(t.uploadDir, String(params.filePath))))).toBe(sha256(data))
    await expect(stat(join(staging, reference))).rejects.toThrow()
  })

  test('concurrent last chunks, several times, with retries: one complete upload, one reference, exact bytes', async () => {
    for (let round = 0; round < 4; round++) {
      const data = bytes(8 * CHUNK + 999, 30 + round)
      const file = spec(data)
      for (let n = 1; n <= 5; n++) expect((await postChunk(admin, file, n)).status).toBe(200)
      const uploadsBefore = (await readdir(staging)).filter((n) => ID40.test(n))
      // The last three chunks at once, each sent twice (a retry racing its original).
      const answers = (await Promise.all([6, 7, 8, 8, 7, 6].map((n) => postRetrying(admin, file, n)))).flat()
      const final = answers.filter((r) => r.status !== 503)
      for (const res of final) expect(res.status).toBe(200)
      const completing = final.filter((r) => r.body.status === 'complete')
      expect(completing.length).toBeGreaterThanOrEqual(1)
      const references = new Set(completing.map((r) => r.body.reference))
      expect(references.size).toBe(1)
      const [reference] = [...references]
      expect(reference).toMatch(ID40)
      // Exactly one upload for this file, and it is in the complete state.
      const uploadsAfter = (await readdir(staging)).filter((n) => ID40.test(n))
      expect(uploadsAfter.filter((n) => !uploadsBefore.includes(n))).toEqual([])
      expect(uploadsAfter).toContain(reference)
      expect((await readdir(join(staging, reference))).sort()).toEqual(['complete', 'completion.json', 'manifest.json', 'received'])
      expect([...(await readFile(join(staging, reference, 'received')))]).toEqual(Array(8).fill(1))
      // Retries after completion: same reference.
      expect((await postChunk(admin, file, 8)).body).toEqual({ status: 'complete', reference })
      const params = await saveNew(admin, `race ${round}`, reference)
      expect(sha256(await readFile(join(t.uploadDir, String(params.filePath))))).toBe(sha256(data))
    }
  })

  test('after a "reload" (a new session of the same admin) the test GETs skip the chunks already held', async () => {
    const data = bytes(5 * CHUNK + 10, 41)
    const file = spec(data)
    for (const n of [1, 2, 4]) expect((await postChunk(admin, file, n)).status).toBe(200)
    const reloaded = await login(t.app, 'admin@example.com')
    const sent: number[] = []
    let reference = ''
    for (let n = 1; n <= countOf(file); n++) {
      const probe = await testChunk(reloaded, file, n)
      expect([200, 204]).toContain(probe.status)
      if (probe.status === 200) continue
      sent.push(n)
      const res = await postChunk(reloaded, file, n)
      expect(res.status).toBe(200)
      if (res.body.status === 'complete') reference = res.body.reference
    }
    expect(sent).toEqual([3, 5])
    expect(reference).toMatch(ID40)
    // The other admin's session sees none of it (uploads are scoped to their owner).
    const editor = await login(t.app, 'editor@example.com')
    for (let n = 1; n <= countOf(file); n++) expect((await testChunk(editor, file, n)).status).toBe(204)
    const params = await saveNew(reloaded, 'resumed', reference)
    expect(sha256(await readFile(join(t.uploadDir, String(params.filePath))))).toBe(sha256(data))
  })

  test('octet mode (Resumable.js `method: "octet"`) uploads too', async () => {
    const data = bytes(3 * CHUNK + 5, 51)
    const file = spec(data)
    let reference = ''
    for (let n = countOf(file); n >= 1; n--) {
      const res = await rawPost(admin, chunkParams(file, n), chunkBytes(file, n), 'application/octet-stream')
      expect(res.status).toBe(200)
      if (res.body.status === 'complete') reference = res.body.reference
    }
    expect(sha256(await readFile(join(staging, reference, 'complete')))).toBe(sha256(data))
  })

  test('DELETE cancels by identifier or reference; a second cancel is 404; without either it is 400', async () => {
    const a = spec(bytes(3 * CHUNK, 61))
    const b = spec(bytes(3 * CHUNK, 62))
    expect((await postChunk(admin, a, 1)).status).toBe(200)
    const bRef = await uploadAll(admin, b)
    const cancelA = await admin.delete(ENDPOINT).query({ resumableIdentifier: a.identifier }).set(XHR)
    expect(cancelA.status).toBe(200)
    expect(cancelA.body).toEqual({ status: 'cancelled' })
    expect((await testChunk(admin, a, 1)).status).toBe(204)
    expectError(await admin.delete(ENDPOINT).query({ resumableIdentifier: a.identifier }).set(XHR), 404, 'not_found')
    expect((await admin.delete(ENDPOINT).query({ reference: bRef }).set(XHR)).status).toBe(200)
    await expect(stat(join(staging, bRef))).rejects.toThrow()
    expectError(await admin.delete(ENDPOINT).query({ reference: bRef }).set(XHR), 404, 'not_found')
    expectError(await admin.delete(ENDPOINT).set(XHR), 400, 'invalid_request')
    expectError(await admin.delete(ENDPOINT).query({ reference: '../../etc/passwd' }).set(XHR), 400, 'invalid_request')
    // A cancelled upload starts afresh.
    const again = await uploadAll(admin, a)
    expect(sha256(await readFile(join(staging, again, 'complete')))).toBe(sha256(a.data))
  })
})

describe('limits per admin: unfinished uploads by count and by declared bytes', () => {
  let t: TestApp
  let admin: Agent
  let editor: Agent
  let staging: string
  const LIMIT = 3
  const BYTES = 12 * CHUNK

  beforeAll(async () => {
    t = await startTestApp({ env: { UPLOADS_PER_ADMIN: String(LIMIT), UPLOAD_BYTES_PER_ADMIN: String(BYTES) } })
    admin = await login(t.app, 'admin@example.com')
    editor = await login(t.app, 'editor@example.com')
    staging = join(t.uploadDir, '.staging')
  })
  afterAll(async () => {
    await t?.close()
  })

  const uploads = async () => (await readdir(staging)).filter((name) => ID40.test(name)).sort()
  const cancel = (agent: Agent, file: FileSpec) => agent.delete(ENDPOINT).query({ resumableIdentifier: file.identifier }).set(XHR)

  test('past the count, a new upload gets 429 JSON and creates nothing; the started ones go on, other admins are not affected, a cancel makes room', async () => {
    const started = [1, 2, 3].map((i) => spec(bytes(2 * CHUNK, 100 + i)))
    for (const file of started) expect((await postChunk(admin, file, 1)).body).toEqual({ status: 'partial' })
    // One of them finished but not saved still counts: it holds its bytes in staging.
    expect((await postChunk(admin, started[2], 2)).body.status).toBe('complete')
    const before = await snapshot(staging)

    const extra = spec(bytes(2 * CHUNK, 104))
    const refused = await postChunk(admin, extra, 1)
    expectError(refused, 429, 'too_many_uploads')
    expect(refused.body.message).toMatch(/unfinished uploads/)
    expect(await snapshot(staging)).toEqual(before)
    // A test GET of the refused upload asks for the chunk again (nothing is held), and a retry is refused again.
    expect((await testChunk(admin, extra, 1)).status).toBe(204)
    expectError(await postChunk(admin, extra, 2), 429, 'too_many_uploads')

    // Existing uploads are never refused for the limit.
    expect((await postChunk(admin, started[0], 2)).body.status).toBe('complete')
    expect((await postChunk(admin, started[1], 1)).body).toEqual({ status: 'partial' })
    // The limit is per admin.
    const editors = spec(bytes(2 * CHUNK, 105))
    expect((await postChunk(editor, editors, 1)).status).toBe(200)

    expect((await cancel(admin, started[1])).status).toBe(200)
    expect((await postChunk(admin, extra, 1)).body).toEqual({ status: 'partial' })
    for (const file of [started[0], started[2], extra]) expect((await cancel(admin, file)).status).toBe(200)
    expect((await cancel(editor, editors)).status).toBe(200)
    expect(await uploads()).toEqual([])
  })

  test('past the declared bytes, a new upload gets 429; a smaller one still fits', async () => {
    const big = spec(bytes(8 * CHUNK, 110))
    expect((await postChunk(admin, big, 1)).status).toBe(200)
    const tooBig = spec(bytes(5 * CHUNK, 111))
    const refused = await postChunk(admin, tooBig, 1)
    expectError(refused, 429, 'too_many_uploads')
    expect(refused.body.message).toMatch(/bytes/)
    expect(await uploads()).toHaveLength(1)
    const fits = spec(bytes(4 * CHUNK, 112))
    expect((await postChunk(admin, fits, 1)).status).toBe(200)
    for (const file of [big, fits]) expect((await cancel(admin, file)).status).toBe(200)
  })

  test('a refused first chunk (short body) leaves no upload behind, and does not count', async () => {
    const files = [1, 2, 3, 4].map((i) => spec(bytes(2 * CHUNK, 120 + i)))
    for (const file of files) {
      const res = await rawPost(admin, chunkParams(file, 1), chunkBytes(file, 1).subarray(1), 'application/octet-stream')
      expectError(res, 400, 'invalid_request')
    }
    expect(await uploads()).toEqual([])
    expect(await readdir(staging)).toEqual([])
    for (const file of files.slice(0, LIMIT)) expect((await postChunk(admin, file, 1)).status).toBe(200)
    for (const file of files.slice(0, LIMIT)) expect((await cancel(admin, file)).status).toBe(200)
  })
})
