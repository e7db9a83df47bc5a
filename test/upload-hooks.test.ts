/**
 * onUploadStart and onUploadComplete through the real example app and router: refusals with the
 * application's message (422 upload_refused, nothing kept), and metadata written on Save.
 */
import { readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import { UploadRefused } from '../src/errors.js'
import type { UploadCompleteContext, UploadHookContext } from '../src/feature/options.js'
import { login, startTestApp, type Agent, type TestApp } from './support/app.js'
import { bytes, countOf, ENDPOINT, postChunk, sha256, testChunk, XHR, type FileSpec } from './support/resumable-client.js'

const CHUNK = 64 * 1024
const ID40 = /^[a-f0-9]{40}$/

let seq = 0
function spec(size: number, filename: string): FileSpec {
  seq += 1
  return { identifier: `${size}-hook-${seq}`, filename, data: bytes(size, 200 + seq), chunkSize: CHUNK }
}

describe('upload hooks', () => {
  let t: TestApp
  let admin: Agent
  const starts: UploadHookContext[] = []
  const completes: Array<Omit<UploadCompleteContext, 'read'> & { head: string }> = []

  beforeAll(async () => {
    t = await startTestApp({
      env: { CHUNK_SIZE: String(CHUNK), CHECKSUMS: 'on' },
      feature: {
        // A quota: files over 1 MiB are refused, and one name by throwing.
        onUploadStart: (context) => {
          starts.push(context)
          if (context.filename === 'forbidden.bin') throw new UploadRefused('Files named forbidden.bin are not accepted.')
          return context.size > 1024 * 1024 ? { refuse: 'Your quota allows files up to 1 MiB.' } : undefined
        },
        // A "scan" that reads the file: refuses bytes starting with "VIRUS", annotates the rest.
        onUploadComplete: async (context) => {
          let head = ''
          for await (const piece of context.read()) {
            head = (piece as Buffer).subarray(0, 5).toString('latin1')
            break
          }
          const { read: _read, ...rest } = context
          completes.push({ ...rest, head })
          if (head === 'VIRUS') return { refuse: 'The virus scan found something in this file.' }
          return { metadata: { scanned: true, head } }
        },
      },
    })
    admin = await login(t.app, 'admin@example.com')
  })
  afterAll(async () => {
    await t?.close()
  })

  async function stagedIds(): Promise<string[]> {
    return (await readdir(join(t.uploadDir, '.staging')).catch(() => [] as string[])).filter((n) => ID40.test(n))
  }

  test('onUploadStart refuses a new upload with its message: 422 upload_refused, nothing stored', async () => {
    const before = await stagedIds()
    const big = spec(1024 * 1024 + CHUNK, 'big.bin')
    const refused = await postChunk(admin, big, 2)
    expect(refused.status).toBe(422)
    expect(refused.body).toEqual({ status: 'error', code: 'upload_refused', message: 'Your quota allows files up to 1 MiB.' })
    const thrown = await postChunk(admin, spec(CHUNK, 'forbidden.bin'), 1)
    expect([thrown.status, thrown.body.message]).toEqual([422, 'Files named forbidden.bin are not accepted.'])
    expect(await stagedIds()).toEqual(before)
    expect(starts.at(-2)).toMatchObject({ filename: 'big.bin', size: big.data.length, property: 'file', resourceId: 'Document', admin: { email: 'admin@example.com' } })
    // Asked only for a chunk that would create an upload, and only once for it.
    const fine = spec(3 * CHUNK, 'fine.bin')
    const asked = starts.length
    for (let n = 1; n <= countOf(fine); n++) expect((await postChunk(admin, fine, n)).status).toBe(200)
    expect(starts.length).toBe(asked + 1)
  })

  test('onUploadComplete refuses: the completing chunk gets the message, the upload is gone, Save cannot use it', async () => {
    const data = Buffer.concat([Buffer.from('VIRUS'), bytes(3 * CHUNK - 5, 9)])
    const file: FileSpec = { identifier: `virus-${seq++}`, filename: 'infected.bin', data, chunkSize: CHUNK }
    expect((await postChunk(admin, file, 2)).status).toBe(200)
    expect((await postChunk(admin, file, 1)).status).toBe(200)
    const last = await postChunk(admin, file, 3)
    expect(last.status).toBe(422)
    expect(last.body).toEqual({ status: 'error', code: 'upload_refused', message: 'The virus scan found something in this file.' })
    expect(completes.at(-1)).toMatchObject({ filename: 'infected.bin', size: data.length, head: 'VIRUS', checksum: sha256(data) })
    const reference = completes.at(-1)!.reference
    // Removed: the test GET wants the chunks again, and Save refuses the reference.
    expect((await testChunk(admin, file, 1)).status).toBe(204)
    const save = await admin.post('/admin/api/resources/Document/actions/new').field('title', 'infected').field('file', reference)
    expect(save.body.record.errors.file.message).toMatch(/unknown or has expired/)
    expect(await t.Document.count()).toBe(0)
  })

  test('onUploadComplete annotates: runs once, its metadata is written on Save; later requests only read the answer', async () => {
    const file = spec(4 * CHUNK + 3, 'clean.bin')
    let reference = ''
    for (const n of [4, 2, 1, 3]) {
      const res = await postChunk(admin, file, n)
      expect(res.status).toBe(200)
      if (res.body.reference) reference = res.body.reference
    }
    expect(reference).toMatch(ID40)
    const ran = completes.length
    // A duplicate chunk and a test GET after completion get the reference without running it again.
    expect((await postChunk(admin, file, 2)).body).toEqual({ status: 'complete', reference })
    expect((await testChunk(admin, file, 1)).body).toMatchObject({ status: 'held', complete: true, reference })
    expect(completes.length).toBe(ran)
    const save = await admin.post('/admin/api/resources/Document/actions/new').field('title', 'clean').field('file', reference)
    expect(save.body.record.errors ?? {}).toEqual({})
    const row = await t.Document.findByPk(Number(save.body.record.params.id), { raw: true }) as unknown as Record<string, unknown>
    expect(JSON.parse(String(row.fileMetadata))).toEqual({ scanned: true, head: file.data.subarray(0, 5).toString('latin1') })
    expect(row.fileChecksum).toBe(sha256(file.data))
    expect(completes.length).toBe(ran)
    const left = (await admin.get(`${ENDPOINT}/uploads`).set(XHR)).body.uploads as Array<{ filename: string }>
    expect(left.map((u) => u.filename)).toEqual(['fine.bin'])
  })
})
