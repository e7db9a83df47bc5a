/**
 * Save of a single-file property (`Document.file`) through the REAL AdminJS actions (`new`, `edit`,
 * `delete`, `bulkDelete`) of the tests' app, on SQLite and on PostgreSQL. What every file property
 * guarantees (new, replace, clear, required, refused references, two Saves at once, checksum, hook
 * metadata, relative path, hook failures) is the shared suite in save-contract.ts, run here for this
 * kind; this file keeps what is the single file's own: forged columns, a replacement with the same
 * name, a refused update, a held race, delete, store failures during Save and the viewer.
 */
import { mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import { listTree } from './support/tree.js'
import { login, startTestApp, type Agent, type TestApp } from './support/app.js'
import { bytes, ENDPOINT, sha256, uploadAll, XHR, type FileSpec } from './support/resumable-client.js'
import { freshPostgresDatabase, postgresTodo } from './support/services.js'
import { ValidationError, ValidationErrorItem } from 'sequelize'
import { saveContract, SINGLE } from './save-contract.js'

const CHUNK = 64 * 1024
const NEW = '/admin/api/resources/Document/actions/new'
const edit = (id: unknown) => `/admin/api/resources/Document/records/${id}/edit`
const remove = (id: unknown) => `/admin/api/resources/Document/records/${id}/delete`

let seq = 0
function spec(data: Buffer, filename = `doc-${++seq}.pdf`, type = 'application/pdf'): FileSpec {
  seq += 1
  return { identifier: `${data.length}-save-${process.pid}-${seq}`, filename, type, data, chunkSize: CHUNK }
}

/** Every path under `dir` with its kind, size and content hash (see support/tree.ts). */
const snapshot = (dir: string) => listTree(dir)

async function exists(path: string): Promise<boolean> {
  return stat(path).then(() => true, () => false)
}

/** Posts a multipart form to an AdminJS action, as the AdminJS React app does. */
function submit(agent: Agent, url: string, fields: Record<string, string>) {
  const req = agent.post(url)
  for (const [k, v] of Object.entries(fields)) req.field(k, v)
  return req
}

const DATABASES = ['sqlite', 'postgres'] as const

describe.each(DATABASES)('Save on %s', (kind) => {
  const databaseUrl = kind === 'postgres' ? freshPostgresDatabase() : undefined
  if (databaseUrl === null) {
    test.todo(postgresTodo('save tests'))
    return
  }

  let t: TestApp
  let admin: Agent

  beforeAll(async () => {
    t = await startTestApp({ databaseUrl })
    admin = await login(t.app, 'admin@example.com')
  })
  afterAll(async () => {
    await t?.close()
  })

  async function row(id: unknown): Promise<Record<string, unknown> | null> {
    const found = await t.Document.findByPk(Number(id), { raw: true })
    return found as Record<string, unknown> | null
  }

  function saved(path: unknown): string {
    return join(t.uploadDir, String(path))
  }

  /** Uploads and saves a new record; returns its id and the source. */
  async function createWithFile(title: string, data = bytes(3 * CHUNK + 17, ++seq), filename?: string) {
    const file = spec(data, filename)
    const reference = await uploadAll(admin, file)
    const res = await submit(admin, NEW, { title, file: reference })
    expect(res.status).toBe(200)
    expect(res.body.record.errors).toEqual({})
    const id = res.body.record.params.id
    expect(id).toBeDefined()
    return { id, file, reference, data }
  }

  test('filePath and the other file columns sent by the client are ignored, on new and on edit', async () => {
    const data = bytes(CHUNK + 1, 104)
    const file = spec(data, 'clean.pdf')
    const reference = await uploadAll(admin, file)
    const forged = { filePath: '../../etc/passwd', fileName: 'evil.html', fileSize: '1', fileMimeType: 'text/html' }
    const res = await submit(admin, NEW, { title: 'forged', file: reference, ...forged })
    expect(res.body.record.errors).toEqual({})
    const id = res.body.record.params.id
    expect(await row(id)).toMatchObject({ filePath: `documents/${id}/clean.pdf`, fileName: 'clean.pdf', fileMimeType: 'application/pdf' })
    expect(Number((await row(id))!.fileSize)).toBe(data.length)

    // Without a file: the forged columns are dropped, nothing points outside the storage root.
    const bare = await submit(admin, NEW, { title: 'no file', ...forged })
    expect(bare.body.record.errors).toEqual({})
    expect(await row(bare.body.record.params.id)).toMatchObject({ filePath: null, fileName: null, fileSize: null, fileMimeType: null })

    // On edit: the stored file stays what it was.
    const before = await row(id)
    const edited = await submit(admin, edit(id), { title: 'forged edit', ...forged })
    expect(edited.body.record.errors ?? {}).toEqual({})
    expect(await row(id)).toMatchObject({ ...before, title: 'forged edit', updatedAt: expect.anything() })
    expect(sha256(await readFile(saved(before!.filePath)))).toBe(sha256(data))
  })

  test('replace with the same name: the new bytes get a key of their own, the old file is removed once the record points at the new one', async () => {
    const { id } = await createWithFile('same name', bytes(4 * CHUNK, 107), 'same.pdf')
    const newData = bytes(CHUNK + 7, 108)
    const reference = await uploadAll(admin, spec(newData, 'same.pdf'))
    const res = await submit(admin, edit(id), { title: 'same name 2', file: reference })
    expect(res.body.record.errors ?? {}).toEqual({})
    const after = await row(id)
    expect(after!.filePath).toMatch(new RegExp(`^documents/${id}/same-[0-9a-f]{8}\\.pdf$`))
    expect(after).toMatchObject({ fileName: 'same.pdf' })
    expect(Number(after!.fileSize)).toBe(newData.length)
    expect(sha256(await readFile(saved(after!.filePath)))).toBe(sha256(newData))
    expect(await readdir(join(t.uploadDir, 'documents', String(id)))).toEqual([String(after!.filePath).split('/').pop()])
    // The next replacement with that name finds the plain key free again.
    const third = bytes(2 * CHUNK, 109)
    const again = await submit(admin, edit(id), { title: 'same name 3', file: await uploadAll(admin, spec(third, 'same.pdf')) })
    expect(again.body.record.errors ?? {}).toEqual({})
    expect(await row(id)).toMatchObject({ filePath: `documents/${id}/same.pdf` })
    expect(sha256(await readFile(saved(`documents/${id}/same.pdf`)))).toBe(sha256(third))
    expect(await readdir(join(t.uploadDir, 'documents', String(id)))).toEqual(['same.pdf'])
  })

  test('an update refused after the new file was placed: the record keeps its old file, whose bytes and metadata still match', async () => {
    const oldData = bytes(3 * CHUNK + 1, 110)
    const { id } = await createWithFile('refused update', oldData, 'kept.pdf')
    const before = await row(id)
    // The database refuses the file columns from now on (as a model validation or a trigger would).
    t.Document.addHook('beforeUpdate', 'refuse-file', (instance: { changed(column: string): boolean }) => {
      if (instance.changed('fileSize')) {
        const item = new ValidationErrorItem('The file may not change now.', 'validation error', 'fileSize', '', undefined as never, 'refuse', 'refuse', [])
        throw new ValidationError('refused', [item])
      }
    })
    try {
      for (const name of ['kept.pdf', 'other.pdf']) {
        const reference = await uploadAll(admin, spec(bytes(2 * CHUNK + 5, 111), name))
        const res = await submit(admin, edit(id), { title: 'refused update', file: reference })
        expect(res.body.record.errors?.fileSize?.message).toMatch(/may not change/)
        const after = await row(id)
        expect(after).toMatchObject({ filePath: before!.filePath, fileName: 'kept.pdf' })
        expect(Number(after!.fileSize)).toBe(oldData.length)
        expect(sha256(await readFile(saved(before!.filePath)))).toBe(sha256(oldData))
        // Nothing else was left in the record's folder; the upload stays staged for another try.
        expect(await readdir(join(t.uploadDir, 'documents', String(id)))).toEqual(['kept.pdf'])
        expect(await exists(join(t.uploadDir, '.staging', reference, 'complete'))).toBe(true)
        expect((await admin.delete(ENDPOINT).query({ reference }).set(XHR)).status).toBe(200)
      }
    } finally {
      t.Document.removeHook('beforeUpdate', 'refuse-file')
    }
  })

  test('two Saves of one record, the first one\'s update held back until the second one\'s went through: the record still points at bytes that match it', async () => {
    const { id } = await createWithFile('held race', bytes(2 * CHUNK, 116), 'held.pdf')
    const sources = [bytes(3 * CHUNK + 1, 117), bytes(CHUNK + 2, 118)]
    const references = await Promise.all(sources.map((data) => uploadAll(admin, spec(data, 'held.pdf'))))
    // The first update of the file columns waits until a second one has been written; a Save that
    // cannot get that far while the first is held (one Save of a record at a time) lets it go after 1 s.
    let held = 0
    let secondWritten!: () => void
    const second = new Promise<void>((resolve) => { secondWritten = resolve })
    t.Document.addHook('beforeUpdate', 'hold-first', async (instance: { changed(column: string): boolean }) => {
      if (!instance.changed('fileSize')) return
      held += 1
      if (held === 1) await Promise.race([second, new Promise((resolve) => setTimeout(resolve, 1000))])
    })
    t.Document.addHook('afterUpdate', 'release-first', () => {
      if (held === 2) secondWritten()
    })
    try {
      const first = submit(admin, edit(id), { title: 'held 0', file: references[0] }).then((res) => res)
      for (let i = 0; held === 0 && i < 2000; i++) await new Promise((resolve) => setTimeout(resolve, 5))
      expect(held).toBe(1)
      const answers = [await submit(admin, edit(id), { title: 'held 1', file: references[1] }), await first]
      for (const res of answers) expect(res.body.record.errors ?? {}).toEqual({})
    } finally {
      t.Document.removeHook('beforeUpdate', 'hold-first')
      t.Document.removeHook('afterUpdate', 'release-first')
    }
    const after = await row(id)
    const winner = sources.findIndex((data) => data.length === Number(after!.fileSize))
    expect(winner).toBeGreaterThanOrEqual(0)
    expect(sha256(await readFile(saved(after!.filePath)))).toBe(sha256(sources[winner]))
    expect(await readdir(join(t.uploadDir, 'documents', String(id)))).toEqual([String(after!.filePath).split('/').pop()])
  })

  test('delete removes the file (and its folder) with the record', async () => {
    const { id } = await createWithFile('delete me')
    const other = await createWithFile('stays')
    expect(await exists(saved(`documents/${id}`))).toBe(true)
    const res = await admin.post(remove(id))
    expect(res.status).toBe(200)
    expect(res.body.notice?.type).toBe('success')
    expect(await row(id)).toBeNull()
    expect(await exists(saved(`documents/${id}`))).toBe(false)
    expect(await exists(saved(`documents/${other.id}/${other.file.filename}`))).toBe(true)
  })

  test('bulk delete removes the files of every deleted record, and only theirs', async () => {
    const a = await createWithFile('bulk a')
    const b = await createWithFile('bulk b')
    const c = await createWithFile('bulk c')
    const res = await admin.post(`/admin/api/resources/Document/bulk/bulkDelete?recordIds=${a.id},${b.id}`)
    expect(res.status).toBe(200)
    expect(res.body.notice?.type).toBe('success')
    expect(await row(a.id)).toBeNull()
    expect(await row(b.id)).toBeNull()
    expect(await exists(saved(`documents/${a.id}`))).toBe(false)
    expect(await exists(saved(`documents/${b.id}`))).toBe(false)
    expect(sha256(await readFile(saved(`documents/${c.id}/${c.file.filename}`)))).toBe(sha256(c.data))
  })

  /** The id the database hands to the next Document row (the sequence, not max(id) + 1). */
  async function nextId(): Promise<number> {
    if (kind === 'sqlite') {
      const [rows] = await t.sequelize.query("SELECT seq FROM sqlite_sequence WHERE name = 'Documents'")
      return Number((rows as Array<{ seq: number }>)[0]?.seq ?? 0) + 1
    }
    const [rows] = await t.sequelize.query('SELECT last_value, is_called FROM "Documents_id_seq"')
    const { last_value: last, is_called: called } = (rows as Array<{ last_value: string; is_called: boolean }>)[0]
    return called ? Number(last) + 1 : Number(last)
  }

  /** What a failed Save may never show: a stack trace or a path on the server. */
  function expectNoInternals(text: string): void {
    expect(text).not.toContain(t.uploadDir)
    expect(text).not.toContain(t.workDir)
    expect(text).not.toMatch(/\bat .+:\d+:\d+|ENOTDIR|EISDIR|ENOTEMPTY|EEXIST|Error:/)
  }

  describe('the store fails during Save: a validation error on `file`, never a 500', () => {
    test('new: the folder of the new record is blocked by a file; no row is left, the upload can be saved once the way is clear', async () => {
      const data = bytes(2 * CHUNK + 5, 131)
      const file = spec(data, 'blocked.pdf')
      const reference = await uploadAll(admin, file)
      const id = await nextId()
      const blocker = join(t.uploadDir, 'documents', String(id))
      await mkdir(dirname(blocker), { recursive: true })
      await writeFile(blocker, 'not a folder')
      const rows = await t.Document.count()
      try {
        const res = await submit(admin, NEW, { title: 'blocked', file: reference })
        expect(res.status).toBe(200)
        expect(res.headers['content-type']).toMatch(/^application\/json/)
        expect(res.body.record.errors.file.message).toMatch(/could not be stored/)
        expect(res.body.notice?.type).toBe('error')
        expect(res.body.redirectUrl).toBeUndefined()
        expect(res.body.record.id).toBeFalsy()
        expectNoInternals(res.text)
        expect(await t.Document.count()).toBe(rows)
        expect(await row(id)).toBeNull()
        expect(await readFile(blocker, 'utf8')).toBe('not a folder')
      } finally {
        await rm(blocker, { force: true })
      }
      // The upload was not lost: the same reference saves now.
      const again = await submit(admin, NEW, { title: 'unblocked', file: reference })
      expect(again.body.record.errors).toEqual({})
      const saved2 = await row(again.body.record.params.id)
      expect(sha256(await readFile(saved(saved2!.filePath)))).toBe(sha256(data))
    })

    test('edit: the upload is cancelled during Save; the record keeps its old file, the answer is an error on `file`', async () => {
      const { id, data } = await createWithFile('keeps its file', bytes(CHUNK + 3, 132), 'old.pdf')
      const before = await row(id)
      const reference = await uploadAll(admin, spec(bytes(CHUNK + 9, 133), 'taken.pdf'))
      // AdminJS writes the edited title before our hook places the file: cancel the upload then.
      t.Document.addHook('beforeUpdate', 'cancel-during-edit', async () => {
        const res = await admin.delete(`/admin/api/resumable/Document/file?reference=${reference}`).set('X-Requested-With', 'XMLHttpRequest')
        expect(res.status).toBe(200)
      })
      try {
        const res = await submit(admin, edit(id), { title: 'keeps its file 2', file: reference })
        expect(res.status).toBe(200)
        expect(res.body.record.errors.file.message).toMatch(/no longer on the server/)
        expect(res.body.notice?.type).toBe('error')
        expectNoInternals(res.text)
        expect(await row(id)).toMatchObject({ filePath: before!.filePath, fileName: 'old.pdf' })
        expect(sha256(await readFile(saved(before!.filePath)))).toBe(sha256(data))
      } finally {
        t.Document.removeHook('beforeUpdate', 'cancel-during-edit')
      }
    })

    test('edit: the new name is taken by a folder; the file is placed under a free name and the old one removed', async () => {
      const { id } = await createWithFile('name taken', bytes(CHUNK + 3, 135), 'old.pdf')
      const data = bytes(CHUNK + 9, 136)
      const reference = await uploadAll(admin, spec(data, 'taken.pdf'))
      const taken = join(t.uploadDir, 'documents', String(id), 'taken.pdf')
      await mkdir(join(taken, 'inside'), { recursive: true })
      try {
        const res = await submit(admin, edit(id), { title: 'name taken 2', file: reference })
        expect(res.body.record.errors).toEqual({})
        const after = await row(id)
        expect(after!.filePath).not.toBe(`documents/${id}/taken.pdf`)
        expect(sha256(await readFile(saved(after!.filePath)))).toBe(sha256(data))
        expect((await stat(taken)).isDirectory()).toBe(true)
      } finally {
        await rm(taken, { recursive: true, force: true })
      }
    })

    test('the upload is cancelled between Save and placing it: "upload it again", no row, no 500', async () => {
      // What a second tab of the same admin can do: the reference was checked by the Save hook, then
      // the upload is cancelled (through the chunk route) while the row is being inserted.
      const file = spec(bytes(CHUNK + 1, 134), 'cancelled.pdf')
      const reference = await uploadAll(admin, file)
      const rows = await t.Document.count()
      t.Document.addHook('beforeCreate', 'cancel-during-save', async () => {
        const res = await admin.delete(`/admin/api/resumable/Document/file?reference=${reference}`).set('X-Requested-With', 'XMLHttpRequest')
        expect(res.status).toBe(200)
      })
      try {
        const res = await submit(admin, NEW, { title: 'cancelled during save', file: reference })
        expect(res.status).toBe(200)
        expect(res.body.record.errors.file.message).toMatch(/no longer on the server/)
        expectNoInternals(res.text)
        expect(await t.Document.count()).toBe(rows)
      } finally {
        t.Document.removeHook('beforeCreate', 'cancel-during-save')
      }
    })
  })

  test('the viewer can neither create nor edit: no row created, the file neither cleared nor replaced', async () => {
    const viewer = await login(t.app, 'viewer@example.com')
    const existing = await createWithFile('viewer target')
    const before = await row(existing.id)
    const rowsBefore = await t.Document.count()
    const filesBefore = await snapshot(t.uploadDir)
    // Requests that pass our Save hook, so that AdminJS's own access check is what refuses them.
    const created = await submit(viewer, NEW, { title: 'viewer' })
    expect(created.body.record.baseError?.type).toBe('ForbiddenError')
    for (const fields of [{ title: 'viewer edit', file: '__clear__' }, { title: 'viewer edit' }] as Array<Record<string, string>>) {
      const res = await submit(viewer, edit(existing.id), fields)
      expect(res.body.record.baseError?.type).toBe('ForbiddenError')
    }
    expect(await t.Document.count()).toBe(rowsBefore)
    expect(await row(existing.id)).toEqual(before)
    expect(await snapshot(t.uploadDir)).toEqual(filesBefore)
  })
})

saveContract(SINGLE)
