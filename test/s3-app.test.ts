/**
 * The example app on S3 in REAL child processes (`node example-app/server.js` on the compiled lib/:
 * `npm run build` first), over a real s3rver process and a real database: two processes sharing one
 * upload, a process SIGKILLed mid-part, the object store restarted mid-upload, and the object store
 * refusing UploadPart with 500 and 503 through a fault proxy. Every case ends with the saved object's
 * bytes compared with the source, read back from the bucket and through the download route.
 */
import { afterAll, afterEach, beforeAll, describe, expect, jest, test } from '@jest/globals'
import http from 'node:http'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { S3Client, GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3'
import {
  HttpClient, postChunk, referenceOf, resumableUpload, saveDocument, savedRecord, startServer, stopAllServers, testChunk,
  type ServerProcess,
} from './support/processes.js'
import { bytes, countOf, sha256, type FileSpec } from './support/resumable-client.js'
import { startFaultProxy, type FaultProxy } from './support/s3-fault-proxy.js'
import { s3rverInstalled, startS3rver, type S3Server } from './support/s3rver.js'
import { freshPostgresDatabase } from './support/services.js'

jest.setTimeout(240_000)

const MiB = 1024 * 1024
/** S3's smallest part: the example app asks for less, the feature raises it to this. */
const CHUNK = 5 * MiB
const sleep = (ms: number) => new Promise<void>((done) => setTimeout(done, ms))

const installed = s3rverInstalled()
const suite = installed ? describe : describe.skip

let server: S3Server
let s3: S3Client
let work: string
let bucketCounter = 0

beforeAll(async () => {
  if (!installed) return
  server = (await startS3rver())!
  s3 = new S3Client(server.config)
})
afterEach(async () => {
  await stopAllServers()
  if (work) rmSync(work, { recursive: true, force: true })
})
afterAll(async () => {
  await stopAllServers()
  s3?.destroy()
  await server?.destroy()
})

/** The example app's environment for S3: a bucket of its own that the app creates, a fresh database. */
function s3Env(extra: Record<string, string> = {}, endpoint = server.endpoint): Record<string, string> {
  work = mkdtempSync(join(tmpdir(), 'adminjs-resumable-s3app-'))
  return {
    UPLOAD_DIR: join(work, 'uploads'),
    DATABASE_FILE: join(work, 'db.sqlite'),
    // The feature raises the chunk size to what S3's part limits need for MAX_UPLOAD_SIZE: 5 MiB here.
    CHUNK_SIZE: String(64 * 1024),
    MAX_UPLOAD_SIZE: String(1024 * MiB),
    S3_BUCKET: `app-${process.pid}-${bucketCounter++}`,
    S3_ENDPOINT: endpoint,
    S3_REGION: 'us-east-1',
    S3_FORCE_PATH_STYLE: 'true',
    AWS_ACCESS_KEY_ID: 'S3RVER',
    AWS_SECRET_ACCESS_KEY: 'S3RVER',
    ...extra,
  }
}

function fileSpec(name: string, size: number, seed: number): FileSpec {
  return { identifier: `${size}-${name.replace(/[^0-9A-Za-z_-]/g, '')}`, filename: name, data: bytes(size, seed), chunkSize: CHUNK }
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i)
}

async function objectBytes(bucket: string, key: string): Promise<Buffer> {
  const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))
  return Buffer.from(await out.Body!.transformToByteArray())
}

async function savedKeys(bucket: string): Promise<string[]> {
  const out = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'resumable/documents/' }))
  return (out.Contents ?? []).map((o) => o.Key!).sort()
}

/** GET without following redirects. */
function rawGet(url: string, cookie: string | null): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  return new Promise((done, fail) => {
    http.get(url, { headers: cookie ? { Cookie: cookie } : {}, agent: false }, (res) => {
      const parts: Buffer[] = []
      res.on('data', (d: Buffer) => parts.push(d))
      res.on('end', () => done({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts) }))
    }).on('error', fail)
  })
}

/** The download route answers 302 to a presigned URL (no caching); following it gives the file. */
async function downloaded(client: HttpClient, id: string | number): Promise<Buffer> {
  const answer = await rawGet(new URL(`/admin/api/resumable/Document/file/download/${id}`, client.base).href, client.cookie)
  expect(answer.status).toBe(302)
  expect(answer.headers['cache-control']).toMatch(/no-store/)
  const object = await rawGet(String(answer.headers.location), null)
  expect(object.status).toBe(200)
  return object.body
}

/** Saves, then checks the record, the one object in the bucket, and the download. */
async function saveAndVerify(env: Record<string, string>, client: HttpClient, reference: string, file: FileSpec) {
  const params = savedRecord(await saveDocument(client, `saved ${file.filename}`, reference))
  expect(params.filePath).toBe(`documents/${params.id}/${file.filename}`)
  expect(Number(params.fileSize)).toBe(file.data.length)
  expect(sha256(await objectBytes(env.S3_BUCKET, `resumable/${params.filePath}`))).toBe(sha256(file.data))
  expect(sha256(await downloaded(client, params.id))).toBe(sha256(file.data))
  return params
}

function expectNoInternalErrors(process: ServerProcess): void {
  expect(process.output()).not.toMatch(/unexpected error/)
}

suite('example app on S3 (s3rver child process)', () => {
  test('two app processes on one database and one bucket: chunks alternate, the last ones reach both at once: one object, byte-identical, one record', async () => {
    const url = freshPostgresDatabase()
    const env = s3Env(url ? { DATABASE_URL: url } : {})
    if (url) delete env.DATABASE_FILE
    else console.warn('\n!!! two-process S3 test falls back to one shared SQLite file (PostgreSQL missing)\n')
    const a = await startServer(env)
    const b = await startServer(env)
    // One login, at A: the session lives in the shared database, so B knows the cookie too.
    const atA = await HttpClient.login(a.url, 'admin@example.com')
    const atB = new HttpClient(b.url)
    atB.cookie = atA.cookie

    const file = fileSpec('shared.bin', 4 * CHUNK + 99, 71)
    const count = countOf(file)
    expect(count).toBe(4)
    const run = await resumableUpload(atA, file, { chunks: range(1, count - 2), route: (n) => (n % 2 ? atA : atB) })
    expect(run.done).toBe(true)
    const burst = [count - 1, count].flatMap((n) => [atA, atB].map((c) => (async () => {
      for (let attempt = 0; ; attempt++) {
        const answer = await postChunk(c, file, n)
        if (answer.status !== 503 || attempt > 100) return answer
        await sleep(100)
      }
    })()))
    const answers = await Promise.all(burst)
    expect(answers.map((x) => x.status)).toEqual([200, 200, 200, 200])
    const completing = new Set(answers.filter((x) => x.body.status === 'complete').map((x) => x.body.reference))
    expect(completing.size).toBe(1)
    const reference = [...completing][0]

    const params = await saveAndVerify(env, atB, reference, file)
    expect(await savedKeys(env.S3_BUCKET)).toEqual([`resumable/${params.filePath}`])
    // The reference is consumed: saving it again at the other process creates nothing.
    const again = await saveDocument(atA, 'again', reference)
    expect(() => savedRecord(again)).toThrow()
    expect(await savedKeys(env.S3_BUCKET)).toEqual([`resumable/${params.filePath}`])
    const list = await atA.request('GET', '/admin/api/resources/Document/actions/list?perPage=500')
    expect(list.body.meta.total).toBe(1)
    expectNoInternalErrors(a)
    expectNoInternalErrors(b)
  })

  test('an app process SIGKILLed while a part streams: restarted, the upload resumes and completes byte-identical', async () => {
    const env = s3Env()
    const first = await startServer(env)
    const client = await HttpClient.login(first.url, 'admin@example.com')
    const file = fileSpec('killed.bin', 3 * CHUNK + 12345, 81)
    const before = await resumableUpload(client, file, { chunks: [1] })
    expect(before.done).toBe(true)
    // Chunk 2 is sent slowly; the process dies while the part streams to the object store.
    const slow = postChunk(client, file, 2, { slowBody: { pieces: 40, delayMs: 50 } })
    await sleep(600)
    first.child.kill('SIGKILL')
    expect((await first.exited).signal).toBe('SIGKILL')
    expect((await slow).status).toBe(0)

    const second = await startServer(env)
    client.base = second.url
    expect((await testChunk(client, file, 1)).status).toBe(200)
    expect((await testChunk(client, file, 2)).status).not.toBe(200)
    // The dead process's claim on part 2 lasts until its lease runs out (ChunkBusy, 503): retried.
    const after = await resumableUpload(client, file, { maxRetries: 200, retryIntervalMs: 250 })
    expect(after.failure).toBeNull()
    await saveAndVerify(env, client, referenceOf(after), file)
    expectNoInternalErrors(second)
  })

  test('the S3 server restarted mid-upload: chunks get 503 while it is down, nothing is marked, then the upload resumes byte-identical', async () => {
    const env = s3Env()
    const app = await startServer(env)
    const client = await HttpClient.login(app.url, 'admin@example.com')
    const file = fileSpec('restart.bin', 3 * CHUNK + 7, 82)
    expect((await resumableUpload(client, file, { chunks: [1] })).done).toBe(true)
    await server.stop()
    try {
      const down = await postChunk(client, file, 2)
      expect(down.status).toBe(503)
      expect(down.headers['retry-after']).toBe('2') // seconds: StorageUnavailable's wait for the store
      expect(down.body.code).toBe('storage_unavailable')
      expect((await testChunk(client, file, 2)).status).not.toBe(200)
    } finally {
      await server.start()
    }
    const run = await resumableUpload(client, file, { maxRetries: 50, retryIntervalMs: 200 })
    expect(run.failure).toBeNull()
    await saveAndVerify(env, client, referenceOf(run), file)
    expectNoInternalErrors(app)
  })

  describe('the S3 server refusing UploadPart', () => {
    let proxy: FaultProxy
    beforeAll(async () => {
      if (installed) proxy = await startFaultProxy(server.endpoint)
    })
    afterAll(async () => {
      await proxy?.close()
    })

    test('with 500 and 503: the route answers 503 + Retry-After (never 500, which Resumable.js treats as permanent), marks nothing, and the retries complete the upload', async () => {
      const env = s3Env({}, proxy.endpoint)
      const app = await startServer(env)
      const client = await HttpClient.login(app.url, 'admin@example.com')
      const file = fileSpec('refused.bin', 2 * CHUNK + 5, 83)
      const isUploadPart = (req: http.IncomingMessage) => req.method === 'PUT' && /[?&]partNumber=/.test(req.url ?? '')
      proxy.refuse({ match: isUploadPart, status: 500, code: 'InternalError', times: 1 })
      const refused = await postChunk(client, file, 1)
      expect(refused.status).toBe(503)
      expect(refused.headers['retry-after']).toBe('2')
      expect(refused.body.code).toBe('storage_unavailable')
      expect((await testChunk(client, file, 1)).status).not.toBe(200)

      proxy.refuse({ match: isUploadPart, status: 503, code: 'SlowDown', times: 2 })
      proxy.refuse({ match: isUploadPart, status: 500, code: 'InternalError', times: 2 })
      // Resumable.js's own rules: 500 would be permanent; the upload must still finish.
      const run = await resumableUpload(client, file, { retryIntervalMs: 100 })
      expect(run.failure).toBeNull()
      const statuses = [...run.posted.values()].flat()
      expect(statuses).not.toContain(500)
      expect(statuses.filter((s) => s === 503).length).toBeGreaterThanOrEqual(1)
      expect(proxy.refused()).toBe(5)
      await saveAndVerify(env, client, referenceOf(run), file)
      expectNoInternalErrors(app)
    })
  })
})
