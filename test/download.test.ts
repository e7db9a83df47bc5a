/**
 * The download route (`/admin/api/resumable/Document/file/download/<recordId>`) through the example
 * app: whole file, byte ranges (206), suffix ranges, unsatisfiable ranges (416 with
 * `Content-Range: bytes *\/size`), HEAD, and who may download (anyone allowed to `show`).
 */
import request from 'supertest'
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import { login, startTestApp, type Agent, type TestApp } from './support/app.js'
import { bytes, sha256, uploadAll, type FileSpec } from './support/resumable-client.js'

const CHUNK = 64 * 1024
const download = (id: unknown) => `/admin/api/resumable/Document/file/download/${id}`

/** Collects a binary body whatever its Content-Type. */
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

describe('download', () => {
  let t: TestApp
  let admin: Agent
  let viewer: Agent
  const data = bytes(3 * CHUNK + 12345, 7)
  let id: unknown
  let emptyId: unknown

  beforeAll(async () => {
    t = await startTestApp()
    admin = await login(t.app, 'admin@example.com')
    viewer = await login(t.app, 'viewer@example.com')
    const file: FileSpec = { identifier: `${data.length}-download`, filename: 'Résumé "final".pdf', type: 'application/pdf', data, chunkSize: CHUNK }
    const reference = await uploadAll(admin, file)
    const saved = await admin.post('/admin/api/resources/Document/actions/new').field('title', 'with file').field('file', reference)
    expect(saved.body.record.errors).toEqual({})
    id = saved.body.record.params.id
    const empty = await admin.post('/admin/api/resources/Document/actions/new').field('title', 'no file')
    expect(empty.body.record.errors).toEqual({})
    emptyId = empty.body.record.params.id
  })
  afterAll(async () => {
    await t?.close()
  })

  test('the whole file: 200, exact bytes, length, type, attachment name, no caching', async () => {
    const res = await get(admin, download(id))
    expect(res.status).toBe(200)
    expect(sha256(res.body as Buffer)).toBe(sha256(data))
    expect(res.headers['content-length']).toBe(String(data.length))
    expect(res.headers['content-type']).toMatch(/^application\/pdf/)
    expect(res.headers['accept-ranges']).toBe('bytes')
    expect(res.headers['x-content-type-options']).toBe('nosniff')
    expect(res.headers['cache-control']).toMatch(/no-store/)
    const disposition = String(res.headers['content-disposition'])
    expect(disposition).toMatch(/^attachment;/)
    // The stored (sanitised) name: the quotes the client sent are gone, the accents kept.
    const { fileName } = (await t.Document.findByPk(Number(id), { raw: true })) as unknown as { fileName: string }
    expect(fileName).toBe('Résumé final.pdf')
    expect(disposition).toContain(`filename*=UTF-8''${encodeURIComponent(fileName)}`)
    expect(disposition).toContain('filename="R_sum_ final.pdf"')
  })

  test.each([
    ['bytes=0-0', 0, 0],
    ['bytes=100-199', 100, 199],
    ['bytes=65530-65545', 65530, 65545],
    [`bytes=${3 * CHUNK}-`, 3 * CHUNK, 3 * CHUNK + 12344],
    ['bytes=10-99999999', 10, 3 * CHUNK + 12344],
  ])('range %s: 206 with the exact bytes and Content-Range', async (range, start, end) => {
    const res = await get(admin, download(id), range)
    expect(res.status).toBe(206)
    expect(res.headers['content-range']).toBe(`bytes ${start}-${end}/${data.length}`)
    expect(res.headers['content-length']).toBe(String(end - start + 1))
    expect((res.body as Buffer).equals(data.subarray(start, end + 1))).toBe(true)
  })

  test('suffix ranges: the last N bytes, or the whole file when N is larger', async () => {
    const last = await get(admin, download(id), 'bytes=-500')
    expect(last.status).toBe(206)
    expect(last.headers['content-range']).toBe(`bytes ${data.length - 500}-${data.length - 1}/${data.length}`)
    expect((last.body as Buffer).equals(data.subarray(-500))).toBe(true)
    const all = await get(admin, download(id), `bytes=-${data.length + 1000}`)
    expect(all.status).toBe(206)
    expect(all.headers['content-range']).toBe(`bytes 0-${data.length - 1}/${data.length}`)
    expect(sha256(all.body as Buffer)).toBe(sha256(data))
  })

  test.each([
    [`bytes=${3 * CHUNK + 12345}-`],
    [`bytes=${10 * CHUNK}-${11 * CHUNK}`],
    ['bytes=500-100'],
    ['bytes=-0'],
    ['bytes=-'],
    ['items=0-10'],
  ])('unsatisfiable range %s: 416 JSON with Content-Range bytes */size', async (range) => {
    const res = await admin.get(download(id)).set('Range', range)
    expect(res.status).toBe(416)
    expect(res.headers['content-range']).toBe(`bytes */${data.length}`)
    expect(res.headers['content-type']).toMatch(/^application\/json/)
    expect(res.body).toMatchObject({ status: 'error', code: 'range_not_satisfiable', message: expect.any(String) })
  })

  test('several ranges at once are answered with the whole file (allowed by RFC 9110)', async () => {
    const res = await get(admin, download(id), 'bytes=0-1,5-9')
    expect(res.status).toBe(200)
    expect(sha256(res.body as Buffer)).toBe(sha256(data))
  })

  test('HEAD: the headers of a GET, no body; with a Range, the 206 headers', async () => {
    const head = await admin.head(download(id))
    expect(head.status).toBe(200)
    expect(head.headers['content-length']).toBe(String(data.length))
    expect(head.headers['accept-ranges']).toBe('bytes')
    expect(head.text ?? '').toBe('')
    const ranged = await admin.head(download(id)).set('Range', 'bytes=10-19')
    expect(ranged.status).toBe(206)
    expect(ranged.headers['content-range']).toBe(`bytes 10-19/${data.length}`)
    expect(ranged.headers['content-length']).toBe('10')
  })

  test('the viewer (list/show only) may download', async () => {
    const res = await get(viewer, download(id))
    expect(res.status).toBe(200)
    expect(sha256(res.body as Buffer)).toBe(sha256(data))
    const part = await get(viewer, download(id), 'bytes=1-3')
    expect(part.status).toBe(206)
    expect((part.body as Buffer).equals(data.subarray(1, 4))).toBe(true)
  })

  test('anonymous and forged sessions get a 401 JSON (no redirect, no bytes)', async () => {
    for (const res of [
      await request(t.app).get(download(id)),
      await request(t.app).head(download(id)),
      await request(t.app).get(download(id)).set('Cookie', 'adminjs=s%3Aforged.signature'),
    ]) {
      expect(res.status).toBe(401)
      expect(res.headers.location).toBeUndefined()
      expect(res.headers['content-range']).toBeUndefined()
    }
    const body = await request(t.app).get(download(id))
    expect(body.body).toMatchObject({ status: 'error', code: 'not_authenticated', message: expect.any(String) })
  })

  test('404 JSON for a record without a file, an unknown record, an unknown resource or property', async () => {
    for (const url of [
      download(emptyId),
      download(999999),
      '/admin/api/resumable/Nope/file/download/1',
      `/admin/api/resumable/Document/title/download/${id}`,
    ]) {
      const res = await admin.get(url)
      expect([url, res.status]).toEqual([url, 404])
      expect(res.body).toMatchObject({ status: 'error', code: 'not_found', message: expect.any(String) })
    }
  })

  test('a record naming a file the storage does not hold: 404 JSON with code file_missing, GET and ranged GET alike', async () => {
    const moved = await admin.post('/admin/api/resources/Document/actions/new').field('title', 'moved storage')
    const movedId = moved.body.record.params.id
    // As after switching the storage on the same database: the row names a key nothing holds.
    await t.Document.update({ filePath: 'Document/from-another-storage.pdf', fileName: 'elsewhere.pdf' }, { where: { id: movedId } })
    for (const res of [await admin.get(download(movedId)), await admin.get(download(movedId)).set('Range', 'bytes=0-0')]) {
      expect(res.status).toBe(404)
      expect(res.body).toMatchObject({ status: 'error', code: 'file_missing', message: expect.stringMatching(/not in the storage/) })
    }
    // A record without any file is still not_found, not a missing file.
    expect((await admin.get(download(emptyId))).body.code).toBe('not_found')
  })

  test('after the file is cleared, the download is a 404', async () => {
    const file: FileSpec = { identifier: 'clear-then-download', filename: 'gone.pdf', type: 'application/pdf', data: bytes(CHUNK, 9), chunkSize: CHUNK }
    const reference = await uploadAll(admin, file)
    const saved = await admin.post('/admin/api/resources/Document/actions/new').field('title', 'to clear').field('file', reference)
    const recordId = saved.body.record.params.id
    expect((await get(admin, download(recordId))).status).toBe(200)
    await admin.post(`/admin/api/resources/Document/records/${recordId}/edit`).field('title', 'cleared').field('file', '__clear__')
    expect((await admin.get(download(recordId))).status).toBe(404)
  })
})
