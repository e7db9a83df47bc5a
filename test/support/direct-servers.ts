/**
 * The S3 side of the direct-upload route tests: a real s3rver behind a SigV4-verifying proxy
 * (s3rver on its own accepts any signature), with a fault proxy between the two that can refuse
 * chosen requests which passed verification; and the test app's environment for direct uploads
 * through them.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import type { Agent, TestApp } from './app.js'
import { bytes, ENDPOINT, type FileSpec } from './resumable-client.js'
import { startFaultProxy, type FaultProxy } from './s3-fault-proxy.js'
import { startSigningProxy, type SigningProxy } from './signing-proxy.js'
import { s3rverInstalled, startS3rver, type S3Server } from './s3rver.js'
import { freshPostgresDatabase, postgresTodo, REQUIRED } from './services.js'

export const MiB = 1024 * 1024

export interface DirectServers {
  server: S3Server
  proxy: SigningProxy
  faults: FaultProxy
  /** Runs the verifying proxy's clock this far ahead: a signed URL's expiry without waiting for it. */
  setClockAhead(ms: number): void
  /** The test app's environment: direct uploads, 5 MiB parts, everything through the proxies. */
  env(extra?: Record<string, string>): Record<string, string>
  close(): Promise<void>
}

let buckets = 0

export async function startDirectServers(): Promise<DirectServers> {
  const server = (await startS3rver())!
  let ahead = 0
  const faults = await startFaultProxy(server.endpoint)
  const proxy = await startSigningProxy({ target: faults.endpoint, credentials: { S3RVER: 'S3RVER' }, now: () => Date.now() + ahead })
  return {
    server,
    proxy,
    faults,
    setClockAhead: (ms) => {
      ahead = ms
    },
    env: (extra = {}) => ({
      CHUNK_SIZE: String(5 * MiB),
      MAX_UPLOAD_SIZE: String(1024 * MiB),
      S3_BUCKET: `direct-${process.pid}-${buckets++}`,
      S3_ENDPOINT: proxy.endpoint,
      S3_REGION: 'us-east-1',
      S3_FORCE_PATH_STYLE: 'true',
      S3_UPLOAD: 'direct',
      S3_DOWNLOAD: 'stream',
      AWS_ACCESS_KEY_ID: 'S3RVER',
      AWS_SECRET_ACCESS_KEY: 'S3RVER',
      ...extra,
    }),
    close: async () => {
      await proxy.close()
      await faults.close()
      await server.destroy()
    },
  }
}

let files = 0
/** A file of `parts` parts of 5 MiB (the last one absorbing `extra` bytes). */
export function fileOf(parts: number, extra = 1234, type = 'application/octet-stream', name = 'Bericht März.bin'): FileSpec {
  const data = bytes(parts * 5 * MiB + extra, 40 + files)
  return { identifier: `${data.length}-direct-${files++}`, filename: name, type, data, chunkSize: 5 * MiB }
}

/** The upload rows of the app's shared tables (the default prefix), whoever owns them. */
export async function uploadRows(t: TestApp): Promise<number> {
  const [rows] = await t.sequelize.query('SELECT COUNT(*) AS n FROM resumable_uploads')
  return Number((rows as Array<{ n: number | string }>)[0]!.n)
}

export async function saveDocument(agent: Agent, reference: string) {
  return agent.post('/admin/api/resources/Document/actions/new').field('title', 'direct').field('file', reference)
}

export async function downloaded(agent: Agent, id: string): Promise<Buffer> {
  const res = await agent.get(`${ENDPOINT}/download/${id}`).buffer(true).parse((stream, done) => {
    const pieces: Buffer[] = []
    stream.on('data', (piece: Buffer) => pieces.push(piece))
    stream.on('end', () => done(null, Buffer.concat(pieces)))
  })
  expect(res.status).toBe(200)
  return res.body as Buffer
}

export interface DirectSuite {
  /** `describe`, or `describe.skip` when s3rver is missing (outside CI; under CI that fails). */
  suite: typeof describe | typeof describe.skip
  postgresUrl: string | null
  dialects: readonly ('sqlite' | 'postgres')[]
  /** The servers, started in a `beforeAll` this registers (so only inside tests and hooks). */
  servers(): DirectServers
}

/**
 * What every direct-upload test file starts with: s3rver behind the verifying proxy for the whole
 * file, PostgreSQL when there is one, and a loud test or todo for what cannot run.
 */
export function directSuite(what: string): DirectSuite {
  const installed = s3rverInstalled()
  const postgresUrl = installed ? freshPostgresDatabase() : null
  let servers: DirectServers | undefined
  beforeAll(async () => {
    if (installed) servers = await startDirectServers()
  })
  afterAll(async () => {
    await servers?.close()
  })
  if (!installed) {
    test('s3rver is not installed: the direct upload tests did not run', () => {
      if (REQUIRED) throw new Error('s3rver is required under CI=true')
    })
  }
  if (installed && !postgresUrl) test.todo(postgresTodo(what))
  return {
    suite: installed ? describe : describe.skip,
    postgresUrl,
    dialects: postgresUrl ? ['sqlite', 'postgres'] : ['sqlite'],
    servers: () => servers!,
  }
}
