/**
 * `storage: { s3 }` through the real AdminJS router (the example app in-process, on SQLite, over a
 * real s3rver): the chunk size the feature derives from S3's part limits is what the route enforces
 * and what the component gets; a file saved on S3 is downloaded as a 302 to a short-lived presigned
 * URL (`download: 'presigned'`, same access check, no caching) or streamed with Range
 * (`download: 'stream'`); and a bad S3 configuration stops at start-up with a ConfigurationError.
 */
import { afterAll, beforeAll, describe, expect, jest, test } from '@jest/globals'
import { ComponentLoader } from 'adminjs'
import request from 'supertest'
import { Sequelize } from 'sequelize'
import { ConfigurationError, resumableUploadFeature } from 'adminjs-resumable'
import { login, startTestApp, type Agent, type TestApp } from './support/app.js'
import { bytes, sha256, uploadAll, type FileSpec } from './support/resumable-client.js'
import { s3rverInstalled, startS3rver, type S3Server } from './support/s3rver.js'

jest.setTimeout(120_000)

const MiB = 1024 * 1024
const download = (id: unknown) => `/admin/api/resumable/Document/file/download/${id}`

const installed = s3rverInstalled()
const suite = installed ? describe : describe.skip

let server: S3Server
beforeAll(async () => {
  if (installed) server = (await startS3rver())!
})
afterAll(async () => {
  await server?.destroy()
})

let buckets = 0
function s3Env(extra: Record<string, string> = {}): Record<string, string> {
  return {
    CHUNK_SIZE: String(64 * 1024),
    MAX_UPLOAD_SIZE: String(1024 * MiB),
    S3_BUCKET: `route-${process.pid}-${buckets++}`,
    S3_ENDPOINT: server.endpoint,
    S3_REGION: 'us-east-1',
    S3_FORCE_PATH_STYLE: 'true',
    AWS_ACCESS_KEY_ID: 'S3RVER',
    AWS_SECRET_ACCESS_KEY: 'S3RVER',
    ...extra,
  }
}

function binary(res: request.Response, callback: (error: Error | null, body: Buffer) => void): void {
  const pieces: Buffer[] = []
  res.on('data', (piece: Buffer) => pieces.push(piece))
  res.on('end', () => callback(null, Buffer.concat(pieces)))
}

function get(agent: Agent | ReturnType<typeof request>, url: string, range?: string) {
  const req = (agent as Agent).get(url)
  if (range) req.set('Range', range)
  return req.buffer(true).parse(binary as never)
}

/** An ~11 MiB file: two parts of the derived 5 MiB chunk size, the last one absorbing the rest. */
const data = bytes(11 * MiB + 4321, 21)
const file: FileSpec = { identifier: `${data.length}-s3-route`, filename: 'Bericht März.bin', type: 'application/octet-stream', data, chunkSize: 5 * MiB }

async function saveOne(admin: Agent): Promise<string> {
  const reference = await uploadAll(admin, file)
  const saved = await admin.post('/admin/api/resources/Document/actions/new').field('title', 'on S3').field('file', reference)
  expect(saved.body.record.errors).toEqual({})
  expect(saved.body.record.params.filePath).toBe(`documents/${saved.body.record.params.id}/${file.filename}`)
  return saved.body.record.params.id
}

suite('S3 storage through the router', () => {
  describe("download: 'presigned' (the default)", () => {
    let t: TestApp
    let admin: Agent
    let viewer: Agent
    let id: string

    beforeAll(async () => {
      t = await startTestApp({ env: s3Env() })
      admin = await login(t.app, 'admin@example.com')
      viewer = await login(t.app, 'viewer@example.com')
      id = await saveOne(admin)
    })
    afterAll(async () => {
      await t?.close()
    })

    test('the component gets the derived chunk size, and the route enforces it', async () => {
      const custom = t.admin.findResource('Document').decorate().getPropertyByKey('file')?.options.custom as { chunkSize: number; forceChunkSize: boolean }
      expect(custom.chunkSize).toBe(5 * MiB)
      const wrong = { ...file, identifier: `${data.length}-wrong`, chunkSize: 64 * 1024 }
      const refused = await uploadAll(admin, wrong).then(() => null, (error: unknown) => String(error))
      expect(refused).toMatch(/^Error: chunk 1: 400 .*Chunk size must be 5242880/)
    })

    test('302 to a presigned URL, never cached; following it gives the exact bytes under the real name', async () => {
      const res = await admin.get(download(id)).redirects(0)
      expect(res.status).toBe(302)
      expect(res.headers['cache-control']).toMatch(/no-store/)
      const location = String(res.headers.location)
      expect(location.startsWith(`${server.endpoint}/`)).toBe(true)
      expect(location).toContain('X-Amz-Expires=60')
      const object = await fetch(location)
      expect(object.status).toBe(200)
      expect(object.headers.get('content-disposition')).toBe(`attachment; filename="Bericht M_rz.bin"; filename*=UTF-8''Bericht%20M%C3%A4rz.bin`)
      expect(sha256(Buffer.from(await object.arrayBuffer()))).toBe(sha256(data))
    })

    test('the same access check as a streamed download: a viewer may, anonymous gets 401 JSON and no URL', async () => {
      expect((await viewer.get(download(id)).redirects(0)).status).toBe(302)
      const anonymous = await request(t.app).get(download(id)).redirects(0)
      expect(anonymous.status).toBe(401)
      expect(anonymous.headers.location).toBeUndefined()
      const missing = await admin.get(download(999999)).redirects(0)
      expect(missing.status).toBe(404)
    })
  })

  describe("download: 'stream'", () => {
    let t: TestApp
    let admin: Agent
    let id: string

    beforeAll(async () => {
      t = await startTestApp({ env: s3Env({ S3_DOWNLOAD: 'stream' }) })
      admin = await login(t.app, 'admin@example.com')
      id = await saveOne(admin)
    })
    afterAll(async () => {
      await t?.close()
    })

    test('200 with the exact bytes through the app, attachment name, no caching', async () => {
      const res = await get(admin, download(id))
      expect(res.status).toBe(200)
      expect(res.headers['content-length']).toBe(String(data.length))
      expect(res.headers['cache-control']).toMatch(/no-store/)
      expect(sha256(res.body as Buffer)).toBe(sha256(data))
    })

    test('Range: 206 with exactly the bytes asked for, across the part boundary and at the end', async () => {
      for (const [start, end] of [[0, 0], [5 * MiB - 10, 5 * MiB + 10], [data.length - 1, data.length - 1]]) {
        const res = await get(admin, download(id), `bytes=${start}-${end}`)
        expect(res.status).toBe(206)
        expect(res.headers['content-range']).toBe(`bytes ${start}-${end}/${data.length}`)
        expect((res.body as Buffer).equals(data.subarray(start, end + 1))).toBe(true)
      }
    })
  })
})

describe('S3 configuration errors at start-up', () => {
  const componentLoader = new ComponentLoader()
  const sequelize = new Sequelize({ dialect: 'sqlite', storage: ':memory:', logging: false })
  afterAll(async () => {
    await sequelize.close()
  })
  const base = { componentLoader, properties: { key: 'filePath' } }
  const refused = (options: object): ConfigurationError => {
    try {
      resumableUploadFeature({ ...base, ...options } as never)
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigurationError)
      return error as ConfigurationError
    }
    throw new Error('accepted')
  }

  test.each([
    ['storage.s3.bucket', { storage: { s3: { sequelize } } }],
    ['storage.s3.sequelize', { storage: { s3: { bucket: 'b' } } }],
    ['storage.s3.download', { storage: { s3: { bucket: 'b', sequelize, download: 'public' } } }],
    ['storage.s3.expiresIn', { storage: { s3: { bucket: 'b', sequelize, expiresIn: 8 * 86400 } } }],
    ['validation.maxSize', { storage: { s3: { bucket: 'b', sequelize } }, validation: { maxSize: Infinity } }],
    ['chunkSize', { storage: { s3: { bucket: 'b', sequelize } }, chunkSize: 6 * 1024 ** 3 }],
  ])('%s', (option, options) => {
    expect(refused(options).option).toBe(option)
  })

  test('a correct S3 set-up is accepted', () => {
    expect(() => resumableUploadFeature({ ...base, storage: { s3: { bucket: 'b', sequelize } } })).not.toThrow()
  })
})
