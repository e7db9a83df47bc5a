/**
 * Per-chunk SHA-256 through the real chunk route and Save (the example app in-process), on the local
 * store and on S3 (s3rver), each on SQLite and PostgreSQL: a damaged chunk is answered 460 (which
 * Resumable.js retries) and not stored, the upload completes when it is sent again, the saved
 * file's SHA-256 is the source's; a test GET answers "have it" only for the digest the chunk was kept
 * under, and the chunk sent again replaces the stored one. Clients without digests are unchanged.
 */
import { afterAll, beforeAll, describe, expect, jest, test } from '@jest/globals'
import { login, startTestApp, type Agent, type TestApp } from './support/app.js'
import { bytes, chunkBytes, chunkParams, countOf, ENDPOINT, postChunk, sha256, XHR, type FileSpec } from './support/resumable-client.js'
import { s3rverInstalled, startS3rver, type S3Server } from './support/s3rver.js'
import { freshPostgresDatabase, REQUIRED } from './support/services.js'

jest.setTimeout(120_000)

/** S3 parts are at least 5 MiB (but the last): the feature raises the chunk size to that on S3. */
let CHUNK = 64 * 1024
const DIGEST = 'resumableChunkSha256'
let files = 0

function spec(data: Buffer): FileSpec {
  return { identifier: `digest-${process.pid}-${files++}`, filename: 'digest.bin', data, chunkSize: CHUNK }
}

const digestOf = (file: FileSpec, n: number) => sha256(chunkBytes(file, n))

/** A chunk as the edit component sends it: the digest of the chunk's real bytes, `body` (default: those bytes). */
function signedPost(agent: Agent, file: FileSpec, n: number, body?: Buffer) {
  return postChunk(agent, file, n, { params: { [DIGEST]: digestOf(file, n) }, body })
}

function testWith(agent: Agent, file: FileSpec, n: number, digest?: string) {
  return agent.get(ENDPOINT).query({ ...chunkParams(file, n), ...(digest ? { [DIGEST]: digest } : {}) }).set(XHR)
}

async function saveNew(agent: Agent, title: string, reference: string): Promise<Record<string, unknown>> {
  const res = await agent.post('/admin/api/resources/Document/actions/new').field('title', title).field('file', reference)
  expect(res.status).toBe(200)
  expect(res.body.record?.errors ?? {}).toEqual({})
  return res.body.record.params as Record<string, unknown>
}

async function downloaded(agent: Agent, id: unknown): Promise<Buffer> {
  const res = await agent.get(`/admin/api/resumable/Document/file/download/${id}`).redirects(1).buffer(true)
    .parse((r, done) => {
      const pieces: Buffer[] = []
      r.on('data', (p: Buffer) => pieces.push(p))
      r.on('end', () => done(null, Buffer.concat(pieces)))
    })
  expect(res.status).toBe(200)
  return res.body as Buffer
}

let server: S3Server | null = null
afterAll(async () => {
  await server?.destroy()
})

const postgres = freshPostgresDatabase()
const cases = [
  ['local', 'sqlite'], ['local', 'postgres'], ['s3', 'sqlite'], ['s3', 'postgres'],
] as const

describe.each(cases)('chunk digests on %s storage, %s', (storage, database) => {
  const unavailable = database === 'postgres' && !postgres
    ? 'PostgreSQL'
    : storage === 's3' && !s3rverInstalled() ? 's3rver' : null
  if (unavailable) {
    test(`${unavailable} is unavailable: these tests did not run`, () => {
      console.warn(`\n!!! chunk digest tests on ${storage}/${database} did NOT run (no ${unavailable})\n`)
      if (REQUIRED) throw new Error(`${unavailable} is required under CI=true`)
    })
    return
  }

  let t: TestApp
  let admin: Agent

  beforeAll(async () => {
    CHUNK = storage === 's3' ? 5 * 1024 * 1024 : 64 * 1024
    const env: Record<string, string> = { CHUNK_SIZE: String(CHUNK), MAX_UPLOAD_SIZE: String(64 * 1024 * 1024) }
    if (storage === 's3') {
      server ??= await startS3rver()
      Object.assign(env, {
        S3_BUCKET: `digest-${process.pid}-${files++}`, S3_ENDPOINT: server!.endpoint, S3_REGION: 'us-east-1',
        S3_FORCE_PATH_STYLE: 'true', AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER',
      })
    }
    const databaseUrl = database === 'postgres' ? freshPostgresDatabase() : undefined
    t = await startTestApp({ databaseUrl, env })
    admin = await login(t.app, 'admin@example.com')
  })
  afterAll(async () => {
    await t?.close()
  })

  test('a damaged chunk is answered 460 and not stored; sent again, the upload completes and the saved SHA-256 is the source\'s', async () => {
    const data = bytes(3 * CHUNK + 500, 41)
    const file = spec(data)
    expect((await signedPost(admin, file, 1)).status).toBe(200)
    const damaged = Buffer.from(chunkBytes(file, 2))
    damaged[100] ^= 0x01
    const refused = await signedPost(admin, file, 2, damaged)
    expect(refused.status).toBe(460)
    expect(refused.body).toMatchObject({ status: 'error', code: 'chunk_digest_mismatch' })
    expect(refused.body.message).toMatch(/damaged/)
    // Not stored: the test GET (with or without a digest) says "send it".
    expect((await testWith(admin, file, 2)).status).toBe(204)
    expect((await testWith(admin, file, 2, sha256(damaged))).status).toBe(204)
    let reference = ''
    for (let n = 2; n <= countOf(file); n++) {
      const res = await signedPost(admin, file, n)
      expect(res.status).toBe(200)
      if (res.body.status === 'complete') reference = res.body.reference
    }
    expect(reference).toMatch(/^[a-f0-9]{40}$/)
    const record = await saveNew(admin, 'digest checked', reference)
    expect(record.fileChecksum).toBe(sha256(data))
    expect(sha256(await downloaded(admin, record.id))).toBe(sha256(data))
  })

  test('a test GET says "have it" for the right digest only; the chunk sent again replaces the stored one', async () => {
    const data = bytes(3 * CHUNK, 42)
    const file = spec(data)
    // Chunk 2 kept without a digest (a plain client) and with other bytes. It starts the upload: on
    // S3 an upload started with a digest refuses chunks without one (400).
    expect((await postChunk(admin, file, 2, { body: bytes(CHUNK, 99) })).status).toBe(200)
    expect((await signedPost(admin, file, 1)).status).toBe(200)
    expect((await testWith(admin, file, 1, digestOf(file, 1))).status).toBe(200)
    expect((await testWith(admin, file, 1, sha256('other bytes'))).status).toBe(204)
    expect((await testWith(admin, file, 2)).status).toBe(200)
    expect((await testWith(admin, file, 2, digestOf(file, 2))).status).toBe(204)
    expect((await signedPost(admin, file, 2)).status).toBe(200)
    expect((await testWith(admin, file, 2, digestOf(file, 2))).status).toBe(200)
    const last = await signedPost(admin, file, 3)
    expect(last.body.status).toBe('complete')
    const record = await saveNew(admin, 'replaced chunk', last.body.reference)
    expect(record.fileChecksum).toBe(sha256(data))
    expect((await downloaded(admin, record.id)).equals(data)).toBe(true)
  })

  test('a malformed digest is refused with 400 and stores nothing; a client without digests is unchanged', async () => {
    const data = bytes(2 * CHUNK, 43)
    const file = spec(data)
    for (const bad of ['ABC', digestOf(file, 1).toUpperCase(), `${digestOf(file, 1)}0`]) {
      const res = await postChunk(admin, file, 1, { params: { [DIGEST]: bad } })
      expect(res.status).toBe(400)
      expect(res.body.code).toBe('invalid_request')
      expect((await testWith(admin, file, 1, bad)).status).toBe(400)
    }
    expect((await testWith(admin, file, 1)).status).toBe(204)
    let reference = ''
    for (let n = 1; n <= countOf(file); n++) {
      const res = await postChunk(admin, file, n)
      expect(res.status).toBe(200)
      if (res.body.status === 'complete') reference = res.body.reference
    }
    expect((await saveNew(admin, 'no digests', reference)).fileChecksum).toBe(sha256(data))
  })
})
