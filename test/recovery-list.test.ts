/**
 * The list of unfinished uploads the edit component shows after a closed tab or a crashed browser
 * (GET <endpoint>/<resource>/<property>/uploads), through the real example app and its router.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import { login, startTestApp, type Agent, type TestApp } from './support/app.js'
import { bytes, countOf, ENDPOINT, postChunk, XHR, type FileSpec } from './support/resumable-client.js'

const CHUNK = 64 * 1024
const LIST = `${ENDPOINT}/uploads`

interface Listed {
  reference: string
  filename: string
  size: number
  receivedBytes: number
  percent: number
  complete: boolean
  createdAt: string
  updatedAt: string
}

let seq = 0
function spec(size: number, name: string): FileSpec {
  seq += 1
  return { identifier: `${size}-list-${seq}`, filename: name, data: bytes(size, seq), chunkSize: CHUNK }
}

describe('GET <resource>/<property>/uploads', () => {
  let t: TestApp
  let admin: Agent
  let editor: Agent
  let viewer: Agent

  beforeAll(async () => {
    t = await startTestApp({ env: { CHUNK_SIZE: String(CHUNK) } })
    admin = await login(t.app, 'admin@example.com')
    editor = await login(t.app, 'editor@example.com')
    viewer = await login(t.app, 'viewer@example.com')
  })
  afterAll(async () => {
    await t?.close()
  })

  async function list(agent: Agent): Promise<Listed[]> {
    const res = await agent.get(LIST).set(XHR)
    expect(res.status).toBe(200)
    expect(res.body.status).toBe('ok')
    return res.body.uploads as Listed[]
  }

  test('lists only the caller\'s uploads of this property, with the bytes held, the percent and the times', async () => {
    expect(await list(admin)).toEqual([])
    // 10 chunks of 64 KiB: 4 held is 40 %.
    const partial = spec(10 * CHUNK, 'video.mp4')
    for (const n of [1, 2, 5, 7]) expect((await postChunk(admin, partial, n)).status).toBe(200)
    // Complete and not saved yet: listed as complete, at 100 %.
    const finished = spec(3 * CHUNK + 10, 'report.pdf')
    let reference = ''
    for (let n = 1; n <= countOf(finished); n++) {
      const res = await postChunk(admin, finished, n)
      if (res.body.reference) reference = res.body.reference
    }
    expect(reference).toMatch(/^[a-f0-9]{40}$/)
    // Another admin's upload of the same property never shows up in the admin's list.
    const foreign = spec(4 * CHUNK, 'video.mp4')
    expect((await postChunk(editor, foreign, 1)).status).toBe(200)

    const before = Date.now()
    const uploads = await list(admin)
    expect(uploads.map((u) => u.filename).sort()).toEqual(['report.pdf', 'video.mp4'])
    const video = uploads.find((u) => u.filename === 'video.mp4')!
    expect(video).toMatchObject({ size: 10 * CHUNK, receivedBytes: 4 * CHUNK, percent: 40, complete: false })
    expect(video.reference).toMatch(/^[a-f0-9]{40}$/)
    expect(Date.parse(video.createdAt)).toBeLessThanOrEqual(before)
    expect(Date.parse(video.updatedAt)).toBeGreaterThanOrEqual(Date.parse(video.createdAt) - 1000)
    const report = uploads.find((u) => u.filename === 'report.pdf')!
    expect(report).toMatchObject({ reference, size: 3 * CHUNK + 10, receivedBytes: 3 * CHUNK + 10, percent: 100, complete: true })

    const editors = await list(editor)
    expect(editors).toHaveLength(1)
    expect(editors[0]).toMatchObject({ filename: 'video.mp4', size: 4 * CHUNK, percent: 25 })
    expect(editors[0].reference).not.toBe(video.reference)

    // The last chunk of a file larger than a chunk absorbs the remainder: 9 of 10 chunks held, 9 / 10.
    for (const n of [3, 4, 6, 8, 9]) expect((await postChunk(admin, partial, n)).status).toBe(200)
    expect((await list(admin)).find((u) => u.filename === 'video.mp4')).toMatchObject({ receivedBytes: 9 * CHUNK, percent: 90 })

    // Discard (DELETE by reference) removes it from the list; another admin's reference is a 404.
    expect((await editor.delete(ENDPOINT).query({ reference: video.reference }).set(XHR)).status).toBe(404)
    expect((await admin.delete(ENDPOINT).query({ reference: video.reference }).set(XHR)).status).toBe(200)
    expect((await list(admin)).map((u) => u.filename)).toEqual(['report.pdf'])

    // Saved: no longer unfinished.
    const saved = await admin.post('/admin/api/resources/Document/actions/new').field('title', 'listed').field('file', reference)
    expect(saved.body.record?.errors ?? {}).toEqual({})
    expect(await list(admin)).toEqual([])
  })

  test('needs a session, the XHR header and the right to upload; another property or resource is a 404', async () => {
    const anonymous = await (await import('supertest')).default(t.app).get(LIST).set(XHR)
    expect([anonymous.status, anonymous.body.code]).toEqual([401, 'not_authenticated'])
    const noHeader = await admin.get(LIST)
    expect([noHeader.status, noHeader.body.code]).toEqual([403, 'forbidden'])
    const byViewer = await viewer.get(LIST).set(XHR)
    expect([byViewer.status, byViewer.body.code]).toEqual([403, 'forbidden'])
    const otherProperty = await admin.get('/admin/api/resumable/Document/title/uploads').set(XHR)
    expect([otherProperty.status, otherProperty.body.code]).toEqual([404, 'not_found'])
    const post = await admin.post(LIST).set(XHR)
    expect(post.status).toBe(404)
  })
})
