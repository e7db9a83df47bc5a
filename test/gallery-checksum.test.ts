/**
 * The Gallery (`multiple: true`) records the SHA-256 of every file, in the order of its images, as
 * the single-file Document does (the example app maps `checksum` for both unless CHECKSUMS=off).
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import { login, startTestApp, type Agent, type TestApp } from './support/app.js'
import { bytes, chunkBytes, chunkParams, countOf, sha256, XHR, type FileSpec } from './support/resumable-client.js'

const CHUNK = 64 * 1024
const ENDPOINT = '/admin/api/resumable/Gallery/images'
const PNG_HEAD = Buffer.from([
  0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52,
  0, 0, 0, 1, 0, 0, 0, 1, 8, 2, 0, 0, 0, 0x90, 0x77, 0x53, 0xde, 0, 0, 0xff, 0xff, 0x49, 0x44, 0x41, 0x54,
])

function png(name: string, size: number, seed: number): FileSpec {
  const data = Buffer.concat([PNG_HEAD, bytes(size - PNG_HEAD.length, seed)])
  return { identifier: `${size}-checksum-${process.pid}-${seed}`, filename: name, type: 'image/png', data, chunkSize: CHUNK }
}

async function upload(agent: Agent, file: FileSpec): Promise<string> {
  let reference = ''
  for (let n = 1; n <= countOf(file); n++) {
    const params = { ...chunkParams(file, n), resumableChunkSha256: sha256(chunkBytes(file, n)) }
    const req = agent.post(ENDPOINT).query(params).set(XHR)
    for (const [k, v] of Object.entries(params)) req.field(k, v)
    const res = await req.attach('file', chunkBytes(file, n), { filename: 'blob', contentType: 'application/octet-stream' })
    expect(res.status).toBe(200)
    if (res.body.status === 'complete') reference = res.body.reference
  }
  return reference
}

describe('Gallery checksums', () => {
  let t: TestApp & { Gallery: TestApp['Document'] }
  let admin: Agent

  beforeAll(async () => {
    t = await startTestApp() as typeof t
    admin = await login(t.app, 'admin@example.com')
  })
  afterAll(async () => {
    await t?.close()
  })

  test('a new Gallery with two images records each file\'s SHA-256, in order', async () => {
    const a = png('a.png', 2 * CHUNK + 77, 901)
    const b = png('b.png', CHUNK + 5, 902)
    const refs = [await upload(admin, a), await upload(admin, b)]
    const req = admin.post('/admin/api/resources/Gallery/actions/new').field('title', 'checksums')
    refs.forEach((ref, i) => req.field(`images.${i}`, ref))
    const res = await req
    expect(res.status).toBe(200)
    expect(res.body.record.errors).toEqual({})
    const row = (await t.Gallery.findByPk(Number(res.body.record.params.id), { raw: true })) as unknown as Record<string, unknown>
    const sums = typeof row.imageChecksums === 'string' ? JSON.parse(row.imageChecksums) : row.imageChecksums
    expect(sums).toEqual([sha256(a.data), sha256(b.data)])
  })
})
