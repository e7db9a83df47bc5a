/**
 * Direct uploads (`storage.s3.upload: 'direct'`) through the real AdminJS router, over s3rver
 * behind the SigV4-verifying proxy: what is refused before anything is signed (limits,
 * `onUploadStart`, `maxSize`), the content check on the completed object, requests of the other
 * upload mode, wrong options, and a bucket whose CORS stops start-up. The uploads themselves:
 * test/s3-direct-route.test.ts.
 */
import { afterAll, beforeAll, expect, jest, test } from '@jest/globals'
import { ComponentLoader } from 'adminjs'
import { Sequelize } from 'sequelize'
import { ConfigurationError, resumableUploadFeature } from 'adminjs-resumable'
import { login, startTestApp, type Agent, type TestApp } from './support/app.js'
import { directUpload, sign, viaAgent } from './support/direct-client.js'
import { fileOf, MiB, directSuite, uploadRows, type DirectServers } from './support/direct-servers.js'
import { pngFile } from './support/samples.js'
import { chunkParams, ENDPOINT, XHR } from './support/resumable-client.js'
import { freshPostgresDatabase } from './support/services.js'

jest.setTimeout(120_000)

const { suite, dialects, servers } = directSuite('Direct upload limits')
let d: DirectServers
beforeAll(() => {
  d = servers()
})

for (const dialect of dialects) {
  suite(`direct uploads: limits and onUploadStart refuse before anything is signed (${dialect})`, () => {
    let t: TestApp
    let admin: Agent
    let starts: string[]

    beforeAll(async () => {
      starts = []
      t = await startTestApp({
        databaseUrl: dialect === 'postgres' ? freshPostgresDatabase() : null,
        env: d.env({ UPLOADS_PER_ADMIN: '1', UPLOAD_BYTES_PER_ADMIN: String(40 * MiB) }),
        feature: {
          onUploadStart: ({ filename }) => {
            starts.push(filename)
            return filename.startsWith('refused') ? { refuse: 'No files named refused here.' } : undefined
          },
        },
      })
      admin = await login(t.app, 'admin@example.com')
    })
    afterAll(async () => {
      await t?.close()
    })

    test('onUploadStart is asked once, on the first sign; its refusal is a 422 and no upload exists', async () => {
      const refused = await sign(viaAgent(admin), fileOf(1, 5, 'application/octet-stream', 'refused.bin'), [1])
      expect([refused.status, refused.body.code, refused.body.message]).toEqual([422, 'upload_refused', 'No files named refused here.'])
      expect(await uploadRows(t)).toBe(0)
      const file = fileOf(2)
      expect((await sign(viaAgent(admin), file, [1])).status).toBe(200)
      expect((await sign(viaAgent(admin), file, [2])).status).toBe(200)
      expect(starts.filter((name) => name === file.filename)).toHaveLength(1)
    })

    test('past uploadsPerAdmin or bytesPerAdmin the sign is refused with 429 and nothing is created; maxSize with 413', async () => {
      const rows = await uploadRows(t)
      const second = await sign(viaAgent(admin), fileOf(1), [1])
      expect([second.status, second.body.code]).toEqual([429, 'too_many_uploads'])
      expect(await uploadRows(t)).toBe(rows)
      const params = { ...chunkParams(fileOf(1, 0), 1), resumableTotalSize: String(2048 * MiB) }
      const res = await admin.post(`${ENDPOINT}/direct/sign?${new URLSearchParams(params)}`).set(XHR).set('Content-Type', 'application/json').send('{"parts":[{"partNumber":1}]}')
      expect([res.status, res.body.code]).toEqual([413, 'too_large'])
      expect(await uploadRows(t)).toBe(rows)
    })
  })
}

suite('direct uploads: the content check and the mode', () => {
  test('a direct upload whose first bytes are not of an allowed type is refused (415) on its completing report, and its object deleted', async () => {
    const t = await startTestApp({ env: d.env({ ALLOWED_TYPES: 'image/png' }) })
    try {
      const admin = await login(t.app, 'admin@example.com')
      const file = fileOf(1, 10, 'image/png', 'picture.png')
      const run = await directUpload(viaAgent(admin), file)
      expect(run.failure).toMatchObject({ status: 415, body: { code: 'type_not_allowed' } })
      expect(await uploadRows(t)).toBe(0)
      // A real PNG goes through.
      const png = pngFile(5 * MiB + 99)
      const good = await directUpload(viaAgent(admin), { identifier: `${png.length}-png`, filename: 'ok.png', type: 'image/png', data: png, chunkSize: 5 * MiB })
      expect(good.failure).toBeNull()
      expect(good.reference).toMatch(/^[0-9a-f]{40}$/)
    } finally {
      await t.close()
    }
  })

  test('a wrong direct option stops the feature at once with a ConfigurationError naming it', () => {
    const base = { bucket: 'b', sequelize: new Sequelize('sqlite::memory:', { logging: false }) }
    const build = (s3: Record<string, unknown>) => () => resumableUploadFeature({ componentLoader: new ComponentLoader(), properties: { key: 'k' }, storage: { s3: { ...base, ...s3 } as never } })
    expect(build({ upload: 'sideways' })).toThrow(/`storage.s3.upload` must be 'through-app' or 'direct'/)
    expect(build({ upload: 'direct', partUrlSeconds: 0 })).toThrow(/`storage.s3.partUrlSeconds` must be whole seconds/)
    expect(build({ upload: 'direct', origin: 'https://admin.example.com/admin' })).toThrow(/`storage.s3.origin` must be an origin/)
    expect(build({ upload: 'direct', origin: 'https://admin.example.com' })).not.toThrow()
  })

  test('direct requests to a property whose chunks go through the app are refused (409) and sign nothing', async () => {
    const t = await startTestApp({ env: d.env({ S3_UPLOAD: 'through-app' }) })
    try {
      const admin = await login(t.app, 'admin@example.com')
      const refused = await sign(viaAgent(admin), fileOf(1), [1])
      expect([refused.status, refused.body.code]).toEqual([409, 'wrong_upload_mode'])
      expect(await uploadRows(t)).toBe(0)
    } finally {
      await t.close()
    }
  })

  test('a bucket whose CORS does not let direct uploads through stops start-up with a ConfigurationError naming what is missing and the JSON', async () => {
    const started = startTestApp({ env: d.env({ S3_CORS: 'none', ADMIN_ORIGIN: 'https://admin.example.org' }) })
    await expect(started).rejects.toBeInstanceOf(ConfigurationError)
    const error = await started.catch((e: Error) => e)
    expect((error as Error).message).toContain('`storage.s3.upload` is \'direct\', but browsers at https://admin.example.org cannot send parts')
    expect((error as Error).message).toContain('it has no CORS rules')
    expect((error as Error).message).toContain('"AllowedOrigins": [\n        "https://admin.example.org"')
    expect((error as Error).message).toContain('"ExposeHeaders": [\n        "ETag"')
  })
})
