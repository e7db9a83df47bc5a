/**
 * Uploads are scoped to the admin who sends them. Resumable.js's default identifier is
 * `<size>-<name>`, so two admins uploading `report.pdf` of the same size send the same identifier:
 * they must still get two unrelated uploads, and neither may see, finish, cancel or save the other's.
 */
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import { login, startTestApp, type Agent, type TestApp } from './support/app.js'
import {
  bytes, countOf, ENDPOINT, postChunk, sha256, testChunk, XHR, type FileSpec,
} from './support/resumable-client.js'

const CHUNK = 64 * 1024
const ID40 = /^[a-f0-9]{40}$/

/** The same identifier, name and size for both admins; only the bytes differ. */
function twins(size: number, name: string, seedA: number, seedB: number): [FileSpec, FileSpec] {
  const identifier = `${size}-${name.replace(/[^0-9A-Za-z_-]/g, '')}`
  return [
    { identifier, filename: name, type: 'application/pdf', data: bytes(size, seedA), chunkSize: CHUNK },
    { identifier, filename: name, type: 'application/pdf', data: bytes(size, seedB), chunkSize: CHUNK },
  ]
}

async function uploads(t: TestApp): Promise<string[]> {
  return (await readdir(join(t.uploadDir, '.staging'))).filter((n) => ID40.test(n)).sort()
}

describe('uploads are scoped to their owner', () => {
  let t: TestApp
  let admin: Agent
  let editor: Agent

  beforeAll(async () => {
    t = await startTestApp()
    admin = await login(t.app, 'admin@example.com')
    editor = await login(t.app, 'editor@example.com')
  })
  afterAll(async () => {
    await t?.close()
  })

  test('same identifier, name and size, different bytes, sent concurrently: two uploads, each saved file is its own', async () => {
    const [mine, theirs] = twins(6 * CHUNK + 321, 'report.pdf', 1, 2)
    expect(mine.identifier).toBe(theirs.identifier)
    const before = await uploads(t)
    // Both admins' chunks interleaved and in flight together, in a different order for each.
    const order = Array.from({ length: countOf(mine) }, (_, i) => i + 1)
    const answers = await Promise.all([
      ...order.map((n) => postChunk(admin, mine, n)),
      ...order.slice().reverse().map((n) => postChunk(editor, theirs, n)),
    ])
    // Every chunk was sent once per admin: nothing can be busy or in conflict, whatever the interleaving.
    expect(answers.map((r) => r.status)).toEqual(answers.map(() => 200))
    const adminRefs = new Set(answers.slice(0, order.length).filter((r) => r.body.status === 'complete').map((r) => r.body.reference))
    const editorRefs = new Set(answers.slice(order.length).filter((r) => r.body.status === 'complete').map((r) => r.body.reference))
    expect(adminRefs.size).toBe(1)
    expect(editorRefs.size).toBe(1)
    const [adminRef] = [...adminRefs]
    const [editorRef] = [...editorRefs]
    expect(adminRef).not.toBe(editorRef)
    expect((await uploads(t)).filter((n) => !before.includes(n)).sort()).toEqual([adminRef, editorRef].sort())

    const savedA = await admin.post('/admin/api/resources/Document/actions/new').field('title', 'admin report').field('file', adminRef)
    const savedE = await editor.post('/admin/api/resources/Document/actions/new').field('title', 'editor report').field('file', editorRef)
    expect(savedA.body.record.errors).toEqual({})
    expect(savedE.body.record.errors).toEqual({})
    const pathA = savedA.body.record.params.filePath
    const pathE = savedE.body.record.params.filePath
    expect(pathA).not.toBe(pathE)
    expect(sha256(await readFile(join(t.uploadDir, pathA)))).toBe(sha256(mine.data))
    expect(sha256(await readFile(join(t.uploadDir, pathE)))).toBe(sha256(theirs.data))
  })

  test("test GETs only see one's own chunks", async () => {
    const [mine, theirs] = twins(3 * CHUNK, 'probe.pdf', 3, 4)
    expect((await postChunk(admin, mine, 2)).status).toBe(200)
    expect((await testChunk(admin, mine, 2)).status).toBe(200)
    expect((await testChunk(editor, theirs, 2)).status).toBe(204)
    // And the editor's own chunk 2 goes to the editor's upload, not into the admin's.
    expect((await postChunk(editor, theirs, 2)).body).toEqual({ status: 'partial' })
    for (const n of [1, 3]) {
      expect((await testChunk(admin, mine, n)).status).toBe(204)
      expect((await testChunk(editor, theirs, n)).status).toBe(204)
    }
  })

  test("DELETE by the other admin's reference is 404 (as if there were none) and leaves the upload; by identifier it only touches one's own", async () => {
    const [mine, theirs] = twins(3 * CHUNK + 10, 'cancel.pdf', 5, 6)
    // The admin's upload completes (so its reference is known); the editor's is half done.
    let adminRef = ''
    for (let n = 1; n <= countOf(mine); n++) {
      const res = await postChunk(admin, mine, n)
      if (res.body.status === 'complete') adminRef = res.body.reference
    }
    expect(adminRef).toMatch(ID40)
    expect((await postChunk(editor, theirs, 1)).status).toBe(200)
    const before = await uploads(t)

    const stolen = await editor.delete(ENDPOINT).query({ reference: adminRef }).set(XHR)
    expect(stolen.status).toBe(404)
    expect(stolen.body).toMatchObject({ status: 'error', code: 'not_found', message: expect.any(String) })
    expect(await uploads(t)).toEqual(before)
    expect(await readFile(join(t.uploadDir, '.staging', adminRef, 'complete')).then(sha256)).toBe(sha256(mine.data))

    // The editor cancels by the shared identifier: only the editor's upload goes.
    const cancelled = await editor.delete(ENDPOINT).query({ resumableIdentifier: theirs.identifier }).set(XHR)
    expect(cancelled.status).toBe(200)
    const after = await uploads(t)
    expect(after).toContain(adminRef)
    expect(before.filter((n) => !after.includes(n))).toHaveLength(1)
    expect((await testChunk(editor, theirs, 1)).status).toBe(204)
    expect((await testChunk(admin, mine, 1)).body).toEqual({ status: 'held', complete: true, reference: adminRef })

    // A second cancel by the editor finds nothing of the editor's, and still leaves the admin's alone.
    expect((await editor.delete(ENDPOINT).query({ resumableIdentifier: theirs.identifier }).set(XHR)).status).toBe(404)
    expect(await uploads(t)).toContain(adminRef)

    // The admin can still save it.
    const saved = await admin.post('/admin/api/resources/Document/actions/new').field('title', 'kept').field('file', adminRef)
    expect(saved.body.record.errors).toEqual({})
    expect(sha256(await readFile(join(t.uploadDir, saved.body.record.params.filePath)))).toBe(sha256(mine.data))
  })

  test("the editor cannot save the admin's reference, on new or on edit of the editor's own record", async () => {
    const [mine] = twins(2 * CHUNK, 'mine.pdf', 7, 8)
    let adminRef = ''
    for (let n = 1; n <= countOf(mine); n++) {
      const res = await postChunk(admin, mine, n)
      if (res.body.status === 'complete') adminRef = res.body.reference
    }
    const count = await t.Document.count()
    const created = await editor.post('/admin/api/resources/Document/actions/new').field('title', 'steal').field('file', adminRef)
    expect(created.body.record.errors.file.message).toMatch(/unknown or has expired/)
    expect(await t.Document.count()).toBe(count)
    const own = await editor.post('/admin/api/resources/Document/actions/new').field('title', 'editor own')
    const ownId = own.body.record.params.id
    const edited = await editor.post(`/admin/api/resources/Document/records/${ownId}/edit`).field('title', 'steal').field('file', adminRef)
    expect(edited.body.record.errors.file.message).toMatch(/unknown or has expired/)
    expect(await t.Document.findByPk(ownId, { raw: true })).toMatchObject({ title: 'editor own', filePath: null })
    expect(await readFile(join(t.uploadDir, '.staging', adminRef, 'complete')).then(sha256)).toBe(sha256(mine.data))
  })
})
