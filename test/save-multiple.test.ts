/**
 * `multiple: true` through the REAL AdminJS actions of the tests' `Gallery` (title + a list of images
 * in JSON array columns), on SQLite and on PostgreSQL. What every file property guarantees is the
 * shared suite in save-contract.ts, run here for this kind; this file keeps what is the list's own:
 * slots sent as AdminJS flattens arrays (`images.0`, `images.1`, …), keep markers, order, holes and
 * other hostile slots, all-or-nothing Save, downloads by index, delete.
 */
import { readFile, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import { ValidationError, ValidationErrorItem } from 'sequelize'
import { login, startTestApp, type Agent, type TestApp } from './support/app.js'
import { bytes, chunkBytes, chunkParams, countOf, sha256, XHR, type FileSpec } from './support/resumable-client.js'
import { freshPostgresDatabase, postgresTodo } from './support/services.js'
import { listTree } from './support/tree.js'
import { MULTIPLE, saveContract } from './save-contract.js'

const CHUNK = 64 * 1024
const ENDPOINT = '/admin/api/resumable/Gallery/images'
const NEW = '/admin/api/resources/Gallery/actions/new'
const edit = (id: unknown) => `/admin/api/resources/Gallery/records/${id}/edit`
const show = (id: unknown) => `/admin/api/resources/Gallery/records/${id}/show`
const remove = (id: unknown) => `/admin/api/resources/Gallery/records/${id}/delete`
const download = (id: unknown, index?: number | string) => `${ENDPOINT}/download/${id}${index === undefined ? '' : `/${index}`}`

const PNG_HEAD = Buffer.from([
  0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52,
  0, 0, 0, 1, 0, 0, 0, 1, 8, 2, 0, 0, 0, 0x90, 0x77, 0x53, 0xde,
  // An IDAT chunk's header: file-type stops reading there.
  0, 0, 0xff, 0xff, 0x49, 0x44, 0x41, 0x54,
])

let seq = 0
/** A file the content check takes for a PNG: the signature and header, then seeded bytes. */
function png(name: string, size = 2 * CHUNK + 333, relativePath?: string): FileSpec & { relativePath?: string } {
  seq += 1
  const data = Buffer.concat([PNG_HEAD, bytes(size - PNG_HEAD.length, 500 + seq)])
  return { identifier: `${size}-gallery-${process.pid}-${seq}`, filename: name, type: 'image/png', data, chunkSize: CHUNK, relativePath }
}

/** Sends every chunk as Resumable.js does (a folder drop sends the relative path); returns the reference. */
async function upload(agent: Agent, file: FileSpec & { relativePath?: string }): Promise<string> {
  let reference = ''
  for (let n = 1; n <= countOf(file); n++) {
    const params = { ...chunkParams(file, n), ...(file.relativePath ? { resumableRelativePath: file.relativePath } : {}) }
    const req = agent.post(ENDPOINT).query(params).set(XHR)
    for (const [k, v] of Object.entries(params)) req.field(k, v)
    const res = await req.attach('file', chunkBytes(file, n), { filename: 'blob', contentType: 'application/octet-stream' })
    if (res.status !== 200) throw new Error(`chunk ${n}: ${res.status} ${res.text}`)
    if (res.body.status === 'complete') reference = res.body.reference
  }
  if (!reference) throw new Error('upload never completed')
  return reference
}

/** Posts a multipart form as the AdminJS React app does: arrays flattened into `images.0`, `images.1`, … */
function submit(agent: Agent, url: string, fields: Record<string, string>) {
  const req = agent.post(url)
  for (const [k, v] of Object.entries(fields)) req.field(k, v)
  return req
}

const slots = (values: string[]): Record<string, string> => Object.fromEntries(values.map((v, i) => [`images.${i}`, v]))
const keep = (key: string) => `__keep__:${key}`
const exists = (path: string) => stat(path).then(() => true, () => false)

describe.each(['sqlite', 'postgres'] as const)('multiple files on %s', (kind) => {
  const databaseUrl = kind === 'postgres' ? freshPostgresDatabase() : undefined
  if (databaseUrl === null) {
    test.todo(postgresTodo('multiple-file save tests'))
    return
  }

  let t: TestApp & { Gallery: TestApp['Document'] }
  let admin: Agent
  let editor: Agent

  beforeAll(async () => {
    t = await startTestApp({ databaseUrl }) as typeof t
    admin = await login(t.app, 'admin@example.com')
    editor = await login(t.app, 'editor@example.com')
  })
  afterAll(async () => {
    await t?.close()
  })

  async function row(id: unknown): Promise<Record<string, unknown>> {
    const found = await t.Gallery.findByPk(Number(id), { raw: true })
    const r = found as Record<string, unknown> | null
    if (!r) throw new Error(`no Gallery ${id}`)
    // PostgreSQL's JSON comes back parsed, SQLite's as text with some drivers: compare parsed values.
    for (const k of Object.keys(r)) if (typeof r[k] === 'string' && /^image/.test(k)) r[k] = JSON.parse(r[k] as string)
    return r
  }
  const file = (key: unknown) => join(t.uploadDir, String(key))
  const rows = async () => (await t.Gallery.findAll({ raw: true, order: [['id', 'ASC']] })).map((r) => JSON.stringify(r))

  async function createGallery(title: string, files: ReturnType<typeof png>[]) {
    const references = []
    for (const f of files) references.push(await upload(admin, f))
    const res = await submit(admin, NEW, { title, ...slots(references) })
    expect(res.status).toBe(200)
    expect(res.body.record.errors).toEqual({})
    return { id: res.body.record.params.id, references }
  }

  test('new with 2 files: arrays in order, bytes in place, relative path kept as metadata, staging emptied, show and downloads by index', async () => {
    const a = png('a.png')
    const b = png('b.png', CHUNK + 40, 'holiday/../day 1/b.png')
    const { id, references } = await createGallery('two', [a, b])
    const stored = await row(id)
    expect(stored).toMatchObject({
      title: 'two',
      imagePaths: [`galleries/${id}/a.png`, `galleries/${id}/b.png`],
      imageNames: ['a.png', 'b.png'],
      imageSizes: [a.data.length, b.data.length],
      imageMimeTypes: ['image/png', 'image/png'],
      // Sanitised segment by segment: no `..`, never used for the key.
      imageRelativePaths: [null, 'holiday/file/day 1/b.png'],
    })
    expect(sha256(await readFile(file(`galleries/${id}/a.png`)))).toBe(sha256(a.data))
    expect(sha256(await readFile(file(`galleries/${id}/b.png`)))).toBe(sha256(b.data))
    for (const reference of references) expect(await exists(join(t.uploadDir, '.staging', reference))).toBe(false)

    // Show returns the files in order, flattened as AdminJS flattens arrays.
    const shown = await admin.get(show(id))
    expect(shown.status).toBe(200)
    expect(shown.body.record.params).toMatchObject({ 'imageNames.0': 'a.png', 'imageNames.1': 'b.png' })

    const first = await admin.get(download(id, 0)).buffer(true)
    expect(first.status).toBe(200)
    expect(first.headers['content-type']).toBe('image/png')
    expect(sha256(first.body)).toBe(sha256(a.data))
    const second = await admin.get(download(id, 1)).set('Range', 'bytes=0-9').buffer(true)
    expect(second.status).toBe(206)
    expect(Buffer.compare(second.body, b.data.subarray(0, 10))).toBe(0)
    for (const index of [2, '01', '-1', 'x', undefined]) {
      const res = await admin.get(download(id, index))
      expect(res.status).toBe(404)
      expect(res.body.code).toBe('not_found')
    }
  })

  test('edit: keep the second, add a third, drop the first — order kept, the dropped bytes gone after the update (an edit without slots and clear: save-contract.ts)', async () => {
    const a = png('a.png')
    const b = png('b.png')
    const { id } = await createGallery('edit', [a, b])
    const c = png('c.png', CHUNK + 1)
    const reference = await upload(admin, c)
    const res = await submit(admin, edit(id), { title: 'edited', ...slots([keep(`galleries/${id}/b.png`), reference]) })
    expect(res.body.record.errors ?? {}).toEqual({})
    const stored = await row(id)
    expect(stored).toMatchObject({
      title: 'edited',
      imagePaths: [`galleries/${id}/b.png`, `galleries/${id}/c.png`],
      imageNames: ['b.png', 'c.png'],
      imageSizes: [b.data.length, c.data.length],
    })
    expect(await exists(file(`galleries/${id}/a.png`))).toBe(false)
    expect(sha256(await readFile(file(`galleries/${id}/b.png`)))).toBe(sha256(b.data))
    expect(sha256(await readFile(file(`galleries/${id}/c.png`)))).toBe(sha256(c.data))
  })

  test('an update refused: the dropped file keeps its bytes, the new one is removed, the record is unchanged', async () => {
    const a = png('a.png')
    const { id } = await createGallery('refused', [a])
    const before = await row(id)
    t.Gallery.addHook('beforeUpdate', 'refuse-images', (instance: { changed(column: string): boolean }) => {
      if (instance.changed('imagePaths')) {
        const item = new ValidationErrorItem('The images may not change now.', 'validation error', 'imagePaths', '', undefined as never, 'refuse', 'refuse', [])
        throw new ValidationError('refused', [item])
      }
    })
    try {
      const reference = await upload(admin, png('new.png'))
      const res = await submit(admin, edit(id), { title: 'refused', ...slots([reference]) })
      expect(JSON.stringify(res.body.record.errors)).toMatch(/may not change/)
      expect((await row(id)).imagePaths).toEqual(before.imagePaths)
      expect(sha256(await readFile(file(`galleries/${id}/a.png`)))).toBe(sha256(a.data))
      expect(await exists(file(`galleries/${id}/new.png`))).toBe(false)
      expect(await exists(join(t.uploadDir, '.staging', reference, 'complete'))).toBe(true)
    } finally {
      t.Gallery.removeHook('beforeUpdate', 'refuse-images')
    }
  })

  describe('all or nothing: one bad slot refuses the Save, nothing is placed, no row changes', () => {
    async function expectRefused(url: string, fields: Record<string, string>, message: RegExp) {
      const rowsBefore = await rows()
      const filesBefore = await listTree(t.uploadDir)
      const res = await submit(admin, url, fields)
      expect(res.status).toBe(200)
      expect(res.body.record.errors.images.message).toMatch(message)
      expect(res.body.notice?.type).toBe('error')
      expect(await rows()).toEqual(rowsBefore)
      expect(await listTree(t.uploadDir)).toEqual(filesBefore)
    }

    test("a foreign (the editor's) or unknown reference next to a good one, on new and on edit", async () => {
      const { id } = await createGallery('has files', [png('a.png')])
      const good = await upload(admin, png('good.png'))
      const foreign = await upload(editor, png('foreign.png'))
      for (const bad of [foreign, 'a'.repeat(40)]) {
        await expectRefused(NEW, { title: 'bad', ...slots([good, bad]) }, /unknown or has expired/)
        await expectRefused(edit(id), { title: 'bad', ...slots([keep(`galleries/${id}/a.png`), good, bad]) }, /unknown or has expired/)
      }
      // Both uploads stay usable by their owners.
      expect(await exists(join(t.uploadDir, '.staging', good, 'complete'))).toBe(true)
      expect(await exists(join(t.uploadDir, '.staging', foreign, 'complete'))).toBe(true)
    })

    test('hostile slots: nested keys, a storage key instead of a reference, another record\'s key, holes, duplicates, a bare value', async () => {
      const { id } = await createGallery('target', [png('a.png')])
      const other = await createGallery('other', [png('o.png')])
      const good = await upload(admin, png('good.png'))
      const own = `galleries/${id}/a.png`
      const cases: [Record<string, string>, RegExp][] = [
        [{ 'images.0.x': good }, /list of upload references/],
        [{ 'images.0': good, 'images.1.key': own }, /list of upload references/],
        [{ 'images.0': `../../${own}` }, /unknown or has expired/],
        [{ 'images.0': keep(`galleries/${other.id}/o.png`) }, /changed since the form was opened/],
        [{ 'images.0': keep('../../etc/passwd') }, /changed since the form was opened/],
        [{ 'images.3': good }, /list of upload references/],
        [{ 'images.0': good, 'images.1': good }, /listed twice/],
        [{ images: good }, /list of upload references/],
        [{ 'images.0': good, 'images.1': '__failed__' }, /could not be uploaded: remove it from the list, then save again/],
        [{ 'images.0': good, 'images.1': '__failed_retryable__' }, /could not be uploaded: retry it or remove it from the list, then save again/],
        // Retry is not offered when one failed row cannot be retried, and a failed row is named before a pending one.
        [{ 'images.0': '__pending__', 'images.1': '__failed_retryable__', 'images.2': '__failed__' }, /could not be uploaded: remove it from the list, then save again/],
      ]
      for (const [fields, message] of cases) {
        await expectRefused(edit(id), { title: 'hostile', ...fields }, message)
        if (!Object.values(fields).some((v) => v.startsWith('__keep__'))) await expectRefused(NEW, { title: 'hostile', ...fields }, message)
      }
      // Columns the server owns are dropped, whatever shape they come in.
      const forged = await submit(admin, edit(id), { title: 'forged', 'imagePaths.0': '../../etc/passwd', 'imageNames.0': 'x.html', imagePaths: '/etc' })
      expect(forged.body.record.errors ?? {}).toEqual({})
      expect((await row(id)).imagePaths).toEqual([own])
    })

    test('the second upload is cancelled while the Save runs: the first one placed is removed again, the record keeps its files', async () => {
      const { id } = await createGallery('cancelled', [png('a.png')])
      const before = await row(id)
      const one = await upload(admin, png('one.png'))
      const two = await upload(admin, png('two.png'))
      // What a second tab of the same admin can do: both references were checked by the Save hook,
      // then the second upload is cancelled while AdminJS writes the title.
      let cancelled = false
      t.Gallery.addHook('beforeUpdate', 'cancel-during-save', async () => {
        if (cancelled) return
        cancelled = true
        expect((await admin.delete(`${ENDPOINT}?reference=${two}`).set(XHR)).status).toBe(200)
      })
      try {
        const res = await submit(admin, edit(id), { title: 'cancelled 2', ...slots([keep(`galleries/${id}/a.png`), one, two]) })
        expect(res.status).toBe(200)
        expect(res.body.record.errors.images.message).toMatch(/no longer on the server/)
        expect((await row(id)).imagePaths).toEqual(before.imagePaths)
        expect(await exists(file(`galleries/${id}/one.png`))).toBe(false)
        expect(await exists(file(`galleries/${id}/two.png`))).toBe(false)
        expect(await exists(file(`galleries/${id}/a.png`))).toBe(true)
        // The first upload stays staged: saving it alone works.
        const again = await submit(admin, edit(id), { title: 'again', ...slots([one]) })
        expect(again.body.record.errors ?? {}).toEqual({})
        expect((await row(id)).imagePaths).toEqual([`galleries/${id}/one.png`])
        expect(await exists(file(`galleries/${id}/a.png`))).toBe(false)
      } finally {
        t.Gallery.removeHook('beforeUpdate', 'cancel-during-save')
      }
    })
  })

  test('a file that is no image is refused at the chunk route (415), before any Save', async () => {
    const text = { identifier: `gallery-text-${process.pid}`, filename: 'notes.txt', type: 'text/plain', data: Buffer.from('hello'), chunkSize: CHUNK }
    await expect(upload(admin, text)).rejects.toThrow(/415/)
  })

  test('delete and bulk delete remove every file of the deleted records, and only theirs', async () => {
    const one = await createGallery('delete me', [png('a.png'), png('b.png'), png('c.png')])
    const kept = await createGallery('keep me', [png('k.png')])
    const res = await admin.post(remove(one.id))
    expect(res.body.notice?.type).toBe('success')
    for (const name of ['a.png', 'b.png', 'c.png']) expect(await exists(file(`galleries/${one.id}/${name}`))).toBe(false)
    const two = await createGallery('bulk', [png('x.png'), png('y.png')])
    const bulk = await admin.post(`/admin/api/resources/Gallery/bulk/bulkDelete?recordIds=${two.id}`)
    expect(bulk.status).toBe(200)
    for (const name of ['x.png', 'y.png']) expect(await exists(file(`galleries/${two.id}/${name}`))).toBe(false)
    expect(await exists(file(`galleries/${kept.id}/k.png`))).toBe(true)
  })
})

saveContract(MULTIPLE)
