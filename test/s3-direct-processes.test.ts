/**
 * Direct uploads served by real app processes (the example app, `S3_UPLOAD=direct`, in child
 * processes) over a real s3rver:
 * - two processes on one database and one bucket share an upload: parts signed and reported on
 *   either, the completing report sent to both at once, CompleteMultipartUpload exactly once (read
 *   off a recording proxy, in front of the SigV4-verifying one), Save on one, download on the other;
 * - a bucket without the CORS rule stops the example app at start-up with the message;
 * - the app process carries no file bytes: what it reads (`rchar` of /proc/<pid>/io: sockets and
 *   files alike) during a 64 MiB direct upload stays under 1 % of the file, where the same upload
 *   through the app makes it read at least the whole file.
 * On PostgreSQL when it is there (the full suite), else on one SQLite file.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, jest, test } from '@jest/globals'
import { directUpload, putPart, report, sign, viaHttp } from './support/direct-client.js'
import { HttpClient, resumableUpload, saveDocument, savedRecord, startServer, stopAllServers, type ServerProcess } from './support/processes.js'
import { bytes, chunkParams, ENDPOINT, sha256, XHR, type FileSpec } from './support/resumable-client.js'
import { startFaultProxy, type FaultProxy } from './support/s3-fault-proxy.js'
import { startSigningProxy, type SigningProxy } from './support/signing-proxy.js'
import { s3rverInstalled, startS3rver, type S3Server } from './support/s3rver.js'
import { freshPostgresDatabase, REQUIRED } from './support/services.js'

jest.setTimeout(240_000)

const MiB = 1024 * 1024
const installed = s3rverInstalled()
const suite = installed ? describe : describe.skip

let server: S3Server
let signing: SigningProxy
let recording: FaultProxy
let work: string
beforeAll(async () => {
  if (!installed) return
  server = (await startS3rver())!
  signing = await startSigningProxy({ target: server.endpoint, credentials: { S3RVER: 'S3RVER' } })
  // The recording proxy keeps the Host header, so the signatures still verify behind it.
  recording = await startFaultProxy(signing.endpoint)
})
afterEach(async () => {
  await stopAllServers()
  if (work) rmSync(work, { recursive: true, force: true })
})
afterAll(async () => {
  await stopAllServers()
  await recording?.close()
  await signing?.close()
  await server?.destroy()
})

if (!installed) {
  test('s3rver is not installed: the direct upload process tests did not run', () => {
    if (REQUIRED) throw new Error('s3rver is required under CI=true')
  })
}

let buckets = 0
function appEnv(endpoint: string, extra: Record<string, string> = {}): Record<string, string> {
  work = mkdtempSync(join(tmpdir(), 'adminjs-resumable-direct-processes-'))
  const postgres = freshPostgresDatabase()
  return {
    UPLOAD_DIR: join(work, 'uploads'),
    ...(postgres ? { DATABASE_URL: postgres } : { DATABASE_FILE: join(work, 'shared.sqlite') }),
    CHUNK_SIZE: String(5 * MiB),
    MAX_UPLOAD_SIZE: String(1024 * MiB),
    S3_BUCKET: `direct-proc-${process.pid}-${buckets++}`,
    S3_ENDPOINT: endpoint,
    S3_REGION: 'us-east-1',
    S3_FORCE_PATH_STYLE: 'true',
    S3_UPLOAD: 'direct',
    S3_DOWNLOAD: 'stream',
    AWS_ACCESS_KEY_ID: 'S3RVER',
    AWS_SECRET_ACCESS_KEY: 'S3RVER',
    ...extra,
  }
}

function fileOf(size: number, seed: number): FileSpec {
  return { identifier: `${size}-direct-proc-${seed}`, filename: `direct-${seed}.bin`, data: bytes(size, seed), chunkSize: 5 * MiB }
}

/** What the process has read so far with read-like system calls (sockets, pipes and files). */
function readBytes(app: ServerProcess): number {
  const match = /^rchar: (\d+)$/m.exec(readFileSync(`/proc/${app.pid}/io`, 'utf8'))
  if (!match) throw new Error(`no rchar in /proc/${app.pid}/io`)
  return Number(match[1])
}

suite('direct uploads served by real app processes', () => {
  test('two processes on one database and bucket share an upload; it completes exactly once; Save on one, download on the other', async () => {
    const env = appEnv(recording.endpoint)
    const a = await startServer(env)
    const b = await startServer(env)
    const [onA, onB] = [await HttpClient.login(a.url, 'admin@example.com'), await HttpClient.login(b.url, 'admin@example.com')]
    const file = fileOf(4 * 5 * MiB + 777, 61)
    const from = recording.sent().length

    const signed = await sign(viaHttp(onA), file, [1, 2, 3, 4], true)
    expect(signed.status).toBe(200)
    const etags: Array<{ partNumber: number; etag: string }> = []
    for (const part of signed.body.parts) etags.push({ partNumber: part.partNumber, etag: String((await putPart(file, part)).headers.etag) })
    expect((await report(viaHttp(onA), file, [etags[0]!])).body).toEqual({ status: 'partial', held: [1] })
    expect((await report(viaHttp(onB), file, [etags[1]!, etags[2]!])).body).toEqual({ status: 'partial', held: [1, 2, 3] })
    // Held on B as soon as A recorded it: B's test GET says so.
    expect((await onB.request('GET', `${ENDPOINT}?${new URLSearchParams(chunkParams(file, 1))}`, { headers: XHR })).status).toBe(200)
    const both = await Promise.all([
      report(viaHttp(onA), file, [etags[3]!], sha256(file.data)),
      report(viaHttp(onB), file, [etags[3]!], sha256(file.data)),
    ])
    expect(both.map((answer) => answer.status)).toEqual([200, 200])
    const references = both.map((answer) => (answer.body as { reference?: string }).reference)
    expect(references[0]).toMatch(/^[0-9a-f]{40}$/)
    expect(references[1]).toBe(references[0])
    const completions = recording.sent().slice(from).filter((r) => r.method === 'POST' && /[?&]uploadId=/.test(r.url))
    expect(completions).toHaveLength(1)
    // No part went through an app process: every PUT of a part came from the client, under its signed URL.
    const puts = recording.sent().slice(from).filter((r) => r.method === 'PUT' && /[?&]partNumber=/.test(r.url))
    expect(puts.every((r) => /X-Amz-Signature=/.test(r.url))).toBe(true)
    expect(signing.refused).toEqual([])

    const saved = savedRecord(await saveDocument(onB, 'shared across processes', references[0]!))
    expect(saved.fileChecksum).toBe(sha256(file.data))
    const download = await fetch(`${a.url}${ENDPOINT}/download/${saved.id}`, { headers: { cookie: onA.cookie! } })
    expect(download.status).toBe(200)
    expect(sha256(Buffer.from(await download.arrayBuffer()))).toBe(sha256(file.data))
  })

  test('the app process reads under 1 % of a 64 MiB direct upload from its sockets; through the app it reads the whole file', async () => {
    if (!existsSync('/proc/self/io')) throw new Error('/proc/<pid>/io is not available on this system')
    const size = 64 * MiB
    const file = fileOf(size, 62)

    const direct = await startServer(appEnv(server.endpoint))
    const client = await HttpClient.login(direct.url, 'admin@example.com')
    const before = readBytes(direct)
    const run = await directUpload(viaHttp(client), file, { digests: true })
    const read = readBytes(direct) - before
    expect(run.failure).toBeNull()
    expect(run.reference).toMatch(/^[0-9a-f]{40}$/)
    expect(read).toBeLessThan(size / 100)
    await direct.stop()

    const through = await startServer(appEnv(server.endpoint, { S3_UPLOAD: 'through-app' }))
    const viaApp = await HttpClient.login(through.url, 'admin@example.com')
    const start = readBytes(through)
    const uploaded = await resumableUpload(viaApp, file, { testChunks: false })
    expect(uploaded.done).toBe(true)
    expect(readBytes(through) - start).toBeGreaterThan(size)
    console.log(`app process reads during a 64 MiB upload: direct ${read} bytes, through the app ${readBytes(through) - start} bytes`)
  })

  test('the example app does not start on a bucket whose CORS lacks the rule: it exits naming what is missing, with the JSON', async () => {
    const env = appEnv(server.endpoint, { ADMIN_ORIGIN: 'https://admin.example.net' })
    const { S3Client, CreateBucketCommand } = await import('@aws-sdk/client-s3')
    const client = new S3Client(server.config)
    try {
      // Created beforehand without CORS: the app leaves an existing bucket as it is.
      await client.send(new CreateBucketCommand({ Bucket: env.S3_BUCKET }))
    } finally {
      client.destroy()
    }
    const failure = await startServer(env).then(() => null, (error: Error) => error.message)
    expect(failure).toContain('server exited (1) before listening')
    expect(failure).toContain('ConfigurationError')
    expect(failure).toContain("`storage.s3.upload` is 'direct', but browsers at https://admin.example.net cannot send parts")
    expect(failure).toContain('"ExposeHeaders"')
  })
})
