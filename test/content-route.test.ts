/**
 * The content check of `validation.mimeTypes` through the REAL stack (the example app in-process,
 * the real AdminJS router, SQLite): the first chunk's bytes decide, not the declared type. A refused
 * first chunk is answered 415 and left unmarked, so the upload never completes with it, in whatever
 * order the chunks arrive; Save records the checked type, and downloads send it.
 */
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import { login, startTestApp, type Agent, type TestApp } from './support/app.js'
import { countOf, postChunk, testChunk, uploadAll, XHR, type FileSpec } from './support/resumable-client.js'
import { csvFile, htmlFile, pdfFile, pngFile } from './support/samples.js'

const CHUNK = 64 * 1024
const ID40 = /^[a-f0-9]{40}$/

let seq = 0
function spec(data: Buffer, filename: string, type: string): FileSpec {
  seq += 1
  return { identifier: `${data.length}-content-${process.pid}-${seq}`, filename, type, data, chunkSize: CHUNK }
}

let t: TestApp
let admin: Agent
let staging: string

beforeAll(async () => {
  t = await startTestApp({ env: { ALLOWED_TYPES: 'application/pdf,image/*,text/csv', CHUNK_SIZE: String(CHUNK) } })
  admin = await login(t.app, 'admin@example.com')
  staging = join(t.uploadDir, '.staging')
})
afterAll(async () => {
  await t?.close()
})

/** The marks of every upload in staging, by upload id. */
async function marks(): Promise<Record<string, number[]>> {
  const out: Record<string, number[]> = {}
  for (const id of (await readdir(staging)).filter((n) => ID40.test(n))) {
    out[id] = [...(await readFile(join(staging, id, 'received')))]
  }
  return out
}

async function saveNew(title: string, reference: string): Promise<Record<string, unknown>> {
  const res = await admin.post('/admin/api/resources/Document/actions/new').field('title', title).field('file', reference)
  expect(res.status).toBe(200)
  expect(res.body.record?.errors ?? {}).toEqual({})
  return res.body.record.params as Record<string, unknown>
}

describe('the first chunk is checked against validation.mimeTypes', () => {
  test('evil.html declared as application/pdf: 415, the chunk unmarked, nothing else lost', async () => {
    const before = await marks()
    const evil = spec(htmlFile(3 * CHUNK), 'evil.html', 'application/pdf')
    const res = await postChunk(admin, evil, 1)
    expect(res.status).toBe(415)
    expect(res.headers['content-type']).toMatch(/^application\/json/)
    expect(res.body).toMatchObject({ status: 'error', code: 'type_not_allowed' })
    expect(res.body.message).toMatch(/application\/pdf/)
    expect((await testChunk(admin, evil, 1)).status).toBe(204)
    const after = await marks()
    for (const [id, held] of Object.entries(after)) {
      expect(before[id] ?? held.map(() => 0)).toEqual(held)
    }
  })

  test('a real PDF and a real PNG pass; Save records the checked type and downloads send it', async () => {
    const pdf = spec(pdfFile(2 * CHUNK + 300), 'report.pdf', 'application/pdf')
    // Declared as a JPEG but a PNG: both are allowed, the content decides what is recorded.
    const png = spec(pngFile(CHUNK + 5), 'photo.jpg', 'image/jpeg')
    const csv = spec(csvFile(3000), 'table.csv', 'text/csv')
    for (const [file, type] of [[pdf, 'application/pdf'], [png, 'image/png'], [csv, 'text/csv']] as const) {
      const params = await saveNew(file.filename, await uploadAll(admin, file))
      expect(params.fileMimeType).toBe(type)
      const download = await admin.get(`/admin/api/resumable/Document/file/download/${params.id}`).buffer(true)
      expect(download.status).toBe(200)
      expect(download.headers['content-type']).toMatch(new RegExp(`^${type}`))
    }
  })

  test('chunk 1 arriving last is still checked: the upload never completes without it', async () => {
    const evil = spec(htmlFile(3 * CHUNK + 10), 'evil.html', 'application/pdf')
    const count = countOf(evil)
    for (let n = 2; n <= count; n++) {
      const res = await postChunk(admin, evil, n)
      expect(res.status).toBe(200)
      expect(res.body).toEqual({ status: 'partial' })
    }
    expect((await postChunk(admin, evil, 1)).status).toBe(415)
    const last = await testChunk(admin, evil, count)
    expect(last.status).toBe(200)
    expect(last.body).toEqual({ status: 'held', complete: false })
    expect((await testChunk(admin, evil, 1)).status).toBe(204)
    // Sending the other chunks again does not complete it either.
    expect((await postChunk(admin, evil, count)).body).toEqual({ status: 'partial' })

    const pdf = spec(pdfFile(3 * CHUNK + 10), 'late.pdf', 'application/pdf')
    for (let n = 2; n <= count; n++) expect((await postChunk(admin, pdf, n)).body).toEqual({ status: 'partial' })
    const first = await postChunk(admin, pdf, 1)
    expect(first.status).toBe(200)
    expect(first.body).toEqual({ status: 'complete', reference: expect.stringMatching(ID40) })
  })

  test('a PDF declared as an image is refused even though PDFs are allowed', async () => {
    const disguised = spec(pdfFile(CHUNK), 'picture.png', 'image/png')
    const res = await postChunk(admin, disguised, 1)
    expect(res.status).toBe(415)
    expect(res.body.code).toBe('type_not_allowed')
  })

  test('binary bytes declared as CSV are refused; the raw octet body is checked too', async () => {
    const fake = spec(pngFile(CHUNK), 'table.csv', 'text/csv')
    expect((await postChunk(admin, fake, 1)).status).toBe(415)
    const evil = spec(htmlFile(CHUNK), 'evil.html', 'application/pdf')
    const params = {
      resumableChunkNumber: '1', resumableChunkSize: String(CHUNK), resumableCurrentChunkSize: String(CHUNK),
      resumableTotalSize: String(CHUNK), resumableType: 'application/pdf', resumableIdentifier: evil.identifier,
      resumableFilename: evil.filename, resumableRelativePath: evil.filename, resumableTotalChunks: '1',
    }
    const res = await admin.post('/admin/api/resumable/Document/file').query(params).set(XHR)
      .set('Content-Type', 'application/octet-stream').send(evil.data)
    expect(res.status).toBe(415)
    expect((await testChunk(admin, evil, 1)).status).toBe(204)
  })
})
