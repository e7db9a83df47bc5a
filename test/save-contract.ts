/**
 * The Save guarantees every file property gives, run for a single-file property (`Document.file`,
 * from save.test.ts) and a `multiple` one (`Gallery.images`, from save-multiple.test.ts) through the
 * REAL AdminJS actions and chunk route, on SQLite and on PostgreSQL. A single file is a list of at
 * most one, so each case here is written once over a `SaveKind` and must hold for both kinds: new
 * with a file, replace (the old bytes go only after the record points at the new ones), clear,
 * `required`, every reference Save must refuse, two Saves at once, what the record records (checksum,
 * hook metadata, relative path) and a failing hook answered on the property.
 */
import { readdir, readFile, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import type { Model, ModelStatic } from 'sequelize'
import { login, startTestApp, type Agent, type TestApp } from './support/app.js'
import { chunkBytes, chunkParams, countOf, sha256, XHR } from './support/resumable-client.js'
import { CHUNK, MULTIPLE, png, SINGLE, withPolicy, type SaveKind, type Upload } from './support/save-kinds.js'
import { freshPostgresDatabase, postgresTodo } from './support/services.js'
import { listTree } from './support/tree.js'
import { en } from '../src/shared/locale-en.js'

/** The English words at a locale key (`resumable.saveRefusals.unknown` → messages.resumable.…). */
function translationOf(key: string | undefined): unknown {
  return (key ?? '').split('.').reduce<unknown>((node, part) => (node as Record<string, unknown> | undefined)?.[part], en.messages)
}

const UNKNOWN = /unknown or has expired/
const UNFINISHED = /not finished/
const FAILED_ROW = /could not be uploaded: remove it from the list/
const GENERIC = /could not be stored on the server/

export { MULTIPLE, SINGLE, type SaveKind }

function submit(agent: Agent, url: string, fields: Record<string, string>) {
  const req = agent.post(url)
  for (const [k, v] of Object.entries(fields)) req.field(k, v)
  return req
}

const exists = (path: string) => stat(path).then(() => true, () => false)

/** Runs the shared Save suite for `kind` on SQLite and on PostgreSQL (todo where PostgreSQL is missing outside CI). */
export function saveContract(kind: SaveKind): void {
  describe.each(['sqlite', 'postgres'] as const)(`Save contract, ${kind.name}, on %s`, (database) => {
    const databaseUrl = database === 'postgres' ? freshPostgresDatabase() : undefined
    if (databaseUrl === null) {
      test.todo(postgresTodo(`the ${kind.name} Save contract`))
      return
    }

    let t: TestApp
    let admin: Agent
    let editor: Agent

    beforeAll(async () => {
      t = await startTestApp({ databaseUrl, env: { CHECKSUMS: 'on' } })
      admin = await login(t.app, 'admin@example.com')
      editor = await login(t.app, 'editor@example.com')
    })
    afterAll(async () => {
      await t?.close()
    })

    const model = (): ModelStatic<Model> => t.sequelize.models[kind.resource]
    const endpoint = (resource = kind.resource, property = kind.property) => `/admin/api/resumable/${resource}/${property}`
    const newUrl = `/admin/api/resources/${kind.resource}/actions/new`
    const editUrl = (id: unknown) => `/admin/api/resources/${kind.resource}/records/${id}/edit`
    const clearFields = { [kind.property]: '__clear__' }
    const onDisk = (key: unknown) => join(t.uploadDir, String(key))
    const folderOf = (id: unknown) => join(t.uploadDir, kind.folder, String(id))

    async function row(id: unknown): Promise<Record<string, unknown>> {
      const found = await model().findByPk(Number(id), { raw: true }) as Record<string, unknown> | null
      if (!found) throw new Error(`no ${kind.resource} ${id}`)
      return found
    }
    /** A column as a list: a single file's value is a list of at most one. */
    async function column(id: unknown, name: keyof SaveKind['columns']): Promise<unknown[]> {
      const value = (await row(id))[kind.columns[name]]
      if (kind === MULTIPLE) {
        const list = typeof value === 'string' ? JSON.parse(value) : value
        if (!Array.isArray(list)) throw new Error(`${kind.columns[name]} is no list: ${JSON.stringify(value)}`)
        return list
      }
      return value === null || value === undefined ? [] : [value]
    }
    const rows = async () => (await model().findAll({ raw: true, order: [['id', 'ASC']] })).map((r) => JSON.stringify(r))

    async function upload(agent: Agent, file: Upload, resource = kind.resource, property = kind.property): Promise<string> {
      let reference = ''
      for (let n = 1; n <= countOf(file); n++) {
        const res = await chunk(agent, file, n, resource, property)
        if (res.status !== 200) throw new Error(`chunk ${n}: ${res.status} ${res.text}`)
        if (res.body.status === 'complete') reference = res.body.reference
      }
      if (!reference) throw new Error('upload never completed')
      return reference
    }
    function chunk(agent: Agent, file: Upload, n: number, resource = kind.resource, property = kind.property) {
      const params = { ...chunkParams(file, n), ...(file.relativePath ? { resumableRelativePath: file.relativePath } : {}) }
      const req = agent.post(endpoint(resource, property)).query(params).set(XHR)
      for (const [k, v] of Object.entries(params)) req.field(k, v)
      return req.attach('file', chunkBytes(file, n), { filename: 'blob', contentType: 'application/octet-stream' })
    }

    async function createWithFile(title: string, file = png()): Promise<{ id: number; file: Upload; reference: string }> {
      const reference = await upload(admin, file)
      const res = await submit(admin, newUrl, { title, ...kind.fields([reference]) })
      expect(res.status).toBe(200)
      expect(res.body.record.errors).toEqual({})
      return { id: Number(res.body.record.params.id), file, reference }
    }

    /** A refused Save: the message on the property, an error notice, no row created or changed, no file moved. */
    async function expectRefused(url: string, fields: Record<string, string>, message: RegExp): Promise<void> {
      const rowsBefore = await rows()
      const filesBefore = await listTree(t.uploadDir)
      const res = await submit(admin, url, { title: 'refused', ...fields })
      expect(res.status).toBe(200)
      const error = res.body.record.errors[kind.property]
      expect(error?.message).toMatch(message)
      // The page finds the same words in the admin's language under the error's type, and the
      // notice is AdminJS's own (translated) one: no English toast on a German page.
      expect(translationOf(error?.type)).toBe(error?.message)
      expect(res.body.notice).toMatchObject({ type: 'error', message: 'thereWereValidationErrors' })
      expect(await rows()).toEqual(rowsBefore)
      expect(await listTree(t.uploadDir)).toEqual(filesBefore)
    }

    test('the app really runs on the database under test', () => {
      expect(t.sequelize.getDialect()).toBe(database)
    })

    test('new with a file: the columns filled, the bytes at <folder>/<id>/<name>, staging removed, the reference used once', async () => {
      const file = png('Quarterly chart.png', 4 * CHUNK + 999)
      const reference = await upload(admin, file)
      expect(await exists(join(t.uploadDir, '.staging', reference, 'complete'))).toBe(true)
      const res = await submit(admin, newUrl, { title: 'new', ...kind.fields([reference]) })
      expect(res.status).toBe(200)
      expect(res.body.notice?.type).toBe('success')
      expect(res.body.record.errors).toEqual({})
      const id = res.body.record.params.id
      expect(await column(id, 'key')).toEqual([`${kind.folder}/${id}/Quarterly chart.png`])
      expect(await column(id, 'filename')).toEqual(['Quarterly chart.png'])
      expect((await column(id, 'size')).map(Number)).toEqual([file.data.length])
      expect(await column(id, 'mimeType')).toEqual(['image/png'])
      expect(sha256(await readFile(onDisk(`${kind.folder}/${id}/Quarterly chart.png`)))).toBe(sha256(file.data))
      expect(await exists(join(t.uploadDir, '.staging', reference))).toBe(false)
      // The answer shows what was stored, and the reference is not left in the record's params.
      expect(kind.keysIn(res.body.record.params)).toEqual([`${kind.folder}/${id}/Quarterly chart.png`])
      expect(JSON.stringify(res.body.record.params)).not.toContain(reference)
      await expectRefused(newUrl, kind.fields([reference]), UNKNOWN)
    })

    test('replace: the new bytes are in place, and the old ones were removed only after the record pointed at the new file', async () => {
      const { id, file: old } = await createWithFile('replace', png('old.png'))
      const oldPath = onDisk(`${kind.folder}/${id}/old.png`)
      const replacement = png('new.png', CHUNK + 50)
      const reference = await upload(admin, replacement)
      // What the disk held at the moment the record's update was written.
      const seen: boolean[] = []
      model().addHook('afterUpdate', 'watch-old-file', async (instance: Model) => {
        if (instance.changed(kind.columns.key as never)) seen.push(await exists(oldPath))
      })
      try {
        expect(sha256(await readFile(oldPath))).toBe(sha256(old.data))
        const res = await submit(admin, editUrl(id), { title: 'replaced', ...kind.fields([reference]) })
        expect(res.body.record.errors ?? {}).toEqual({})
      } finally {
        model().removeHook('afterUpdate', 'watch-old-file')
      }
      expect(seen).toEqual([true])
      expect(await column(id, 'key')).toEqual([`${kind.folder}/${id}/new.png`])
      expect(await column(id, 'filename')).toEqual(['new.png'])
      expect(await column(id, 'mimeType')).toEqual(['image/png'])
      expect((await column(id, 'size')).map(Number)).toEqual([replacement.data.length])
      expect(sha256(await readFile(onDisk(`${kind.folder}/${id}/new.png`)))).toBe(sha256(replacement.data))
      expect(await exists(oldPath)).toBe(false)
      expect(await readdir(folderOf(id))).toEqual(['new.png'])
      expect(await exists(join(t.uploadDir, '.staging', reference))).toBe(false)
    })

    test('an edit without the property keeps the files; clear empties the columns and removes the files and their folder; clearing again is harmless', async () => {
      const { id, file } = await createWithFile('clear me')
      const kept = await submit(admin, editUrl(id), { title: 'kept' })
      expect(kept.body.record.errors ?? {}).toEqual({})
      expect(await column(id, 'key')).toEqual([`${kind.folder}/${id}/${file.filename}`])
      expect(sha256(await readFile(onDisk(`${kind.folder}/${id}/${file.filename}`)))).toBe(sha256(file.data))

      const cleared = await submit(admin, editUrl(id), { title: 'cleared', ...clearFields })
      expect(cleared.body.record.errors ?? {}).toEqual({})
      for (const name of Object.keys(kind.columns) as Array<keyof SaveKind['columns']>) expect([name, await column(id, name)]).toEqual([name, []])
      expect(await exists(folderOf(id))).toBe(false)
      const again = await submit(admin, editUrl(id), { title: 'cleared twice', ...clearFields })
      expect(again.body.record.errors ?? {}).toEqual({})
      expect(await row(id)).toMatchObject({ title: 'cleared twice' })
      expect(await column(id, 'key')).toEqual([])
    })

    test('required: a Save that would leave the property empty is refused (new without a file, clear); an edit that leaves the files is not', async () => {
      const { id, file } = await createWithFile('required')
      const restore = withPolicy(t.admin, kind, { required: true })
      try {
        await expectRefused(newUrl, {}, /required/)
        await expectRefused(newUrl, clearFields, /required/)
        await expectRefused(editUrl(id), clearFields, /required/)
        const kept = await submit(admin, editUrl(id), { title: 'still has its file' })
        expect(kept.body.record.errors ?? {}).toEqual({})
        expect(await column(id, 'key')).toEqual([`${kind.folder}/${id}/${file.filename}`])
      } finally {
        restore()
      }
    })

    test('an unfinished upload is refused, by its reference and by the pending marker; it then completes and can be saved', async () => {
      const { id } = await createWithFile('edit me early')
      const file = png('late.png', 5 * CHUNK + 3)
      for (const n of [1, 2, 4]) expect((await chunk(admin, file, n)).body).toEqual({ status: 'partial' })
      const listed = await admin.get(`${endpoint()}/uploads`).set(XHR)
      const pending = (listed.body.uploads as Array<{ reference: string; filename: string; complete: boolean }>).find((u) => u.filename === 'late.png')
      expect(pending?.complete).toBe(false)
      for (const value of [pending!.reference, '__pending__']) {
        await expectRefused(newUrl, kind.fields([value]), UNFINISHED)
        await expectRefused(editUrl(id), kind.fields([value]), UNFINISHED)
      }
      let reference = ''
      for (const n of [3, 5]) {
        const res = await chunk(admin, file, n)
        expect(res.status).toBe(200)
        if (res.body.status === 'complete') reference = res.body.reference
      }
      expect(reference).toBe(pending!.reference)
      const res = await submit(admin, editUrl(id), { title: 'in time', ...kind.fields([reference]) })
      expect(res.body.record.errors ?? {}).toEqual({})
      expect(sha256(await readFile(onDisk(`${kind.folder}/${id}/late.png`)))).toBe(sha256(file.data))
    })

    test('the failed-row marker is refused with words that say to remove it, on new and on edit', async () => {
      const { id } = await createWithFile('failed row')
      await expectRefused(newUrl, kind.fields(['__failed__']), FAILED_ROW)
      await expectRefused(editUrl(id), kind.fields(['__failed__']), FAILED_ROW)
    })

    test("another admin's reference (the editor's) is refused as unknown, and stays usable by its owner", async () => {
      const { id } = await createWithFile('admin record')
      const file = png('editors.png')
      const reference = await upload(editor, file)
      await expectRefused(newUrl, kind.fields([reference]), UNKNOWN)
      await expectRefused(editUrl(id), kind.fields([reference]), UNKNOWN)
      expect(await exists(join(t.uploadDir, '.staging', reference, 'complete'))).toBe(true)
      const own = await submit(editor, newUrl, { title: 'own', ...kind.fields([reference]) })
      expect(own.body.record.errors).toEqual({})
      const ownId = own.body.record.params.id
      expect(sha256(await readFile(onDisk(`${kind.folder}/${ownId}/editors.png`)))).toBe(sha256(file.data))
    })

    test('unknown, malformed, cancelled (expired) references and storage keys are refused as unknown, on new and on edit', async () => {
      const existing = await createWithFile('has a file')
      const cancelled = await upload(admin, png('cancelled.png'))
      expect((await admin.delete(endpoint()).query({ reference: cancelled }).set(XHR)).status).toBe(200)
      const values = [
        'a'.repeat(40), // well-formed, never issued
        '0123456789abcdef0123456789abcdef01234567',
        '../../etc/passwd',
        'A'.repeat(40),
        'a'.repeat(41),
        'a'.repeat(39),
        '{"path":"/etc/passwd"}',
        `../.staging/${existing.reference}`,
        `${kind.folder}/${existing.id}/${existing.file.filename}`,
        cancelled,
      ]
      for (const value of values) {
        await expectRefused(newUrl, kind.fields([value]), UNKNOWN)
        await expectRefused(editUrl(existing.id), kind.fields([value]), UNKNOWN)
      }
    })

    test('a reference uploaded for another resource and property is refused as unknown, and stays usable there', async () => {
      const { id } = await createWithFile('target')
      const other = kind === SINGLE ? MULTIPLE : SINGLE
      const file = png('elsewhere.png')
      const reference = await upload(admin, file, other.resource, other.property)
      await expectRefused(newUrl, kind.fields([reference]), UNKNOWN)
      await expectRefused(editUrl(id), kind.fields([reference]), UNKNOWN)
      const there = await submit(admin, `/admin/api/resources/${other.resource}/actions/new`, { title: 'there', ...other.fields([reference]) })
      expect(there.body.record.errors).toEqual({})
    })

    test("two Saves of one record at once: the record points at the winner's bytes; the loser's and the old file are gone", async () => {
      const { id } = await createWithFile('race', png('race.png'))
      const sources = [png('race.png', 3 * CHUNK + 11), png('race.png', CHUNK + 22), png('race.png', 4 * CHUNK + 33)]
      const references = await Promise.all(sources.map((file) => upload(admin, file)))
      const answers = await Promise.all(references.map((reference, i) => submit(admin, editUrl(id), { title: `race ${i}`, ...kind.fields([reference]) })))
      for (const res of answers) expect(res.body.record.errors ?? {}).toEqual({})
      const [key] = await column(id, 'key')
      const [size] = await column(id, 'size')
      const winner = sources.findIndex((file) => file.data.length === Number(size))
      expect(winner).toBeGreaterThanOrEqual(0)
      expect(sha256(await readFile(onDisk(key)))).toBe(sha256(sources[winner].data))
      expect(await readdir(folderOf(id))).toEqual([String(key).split('/').pop()])
      for (const reference of references) expect(await exists(join(t.uploadDir, '.staging', reference))).toBe(false)
    })

    test("the record keeps each file's checksum (SHA-256) and the onUploadComplete hook's metadata", async () => {
      const restore = withPolicy(t.admin, kind, {
        onUploadComplete: async ({ filename, size }) => ({ metadata: { scan: 'clean', filename, size } }),
      })
      try {
        const file = png('checked.png', 3 * CHUNK + 5)
        const { id } = await createWithFile('checked', file)
        expect(await column(id, 'checksum')).toEqual([sha256(file.data)])
        const [metadata] = await column(id, 'metadata')
        expect(typeof metadata === 'string' ? JSON.parse(metadata) : metadata).toEqual({ scan: 'clean', filename: 'checked.png', size: file.data.length })
      } finally {
        restore()
      }
    })

    test('the relative path of a folder drop is recorded, sanitised segment by segment and never used for the key', async () => {
      const file = png('deep.png', CHUNK + 40, 'holiday/../day 1/deep.png')
      const { id } = await createWithFile('dropped', file)
      expect(await column(id, 'relativePath')).toEqual(['holiday/file/day 1/deep.png'])
      expect(await column(id, 'key')).toEqual([`${kind.folder}/${id}/deep.png`])
    })

    test("onUploadComplete's refusal reached while a Save waits at the gate is that Save's validation error, in the hook's words; the record keeps its file", async () => {
      const { id, file: old } = await createWithFile('refused by the hook')
      let started!: () => void
      const scanning = new Promise<void>((resolve) => { started = resolve })
      let finish!: () => void
      const verdict = new Promise<void>((resolve) => { finish = resolve })
      const restore = withPolicy(t.admin, kind, {
        onUploadComplete: async () => {
          started()
          await verdict
          return { refuse: 'The virus scan refused this file.' }
        },
      })
      try {
        const file = png('refused.png')
        for (let n = 1; n < countOf(file); n++) expect((await chunk(admin, file, n)).status).toBe(200)
        const lastChunk = chunk(admin, file, countOf(file)).then((res) => res)
        await scanning
        const listed = await admin.get(`${endpoint()}/uploads`).set(XHR)
        const upload = (listed.body.uploads as Array<{ reference: string; filename: string }>).find((u) => u.filename === 'refused.png')
        expect(upload).toBeDefined()
        const saving = submit(admin, editUrl(id), { title: 'saved during the scan', ...kind.fields([upload!.reference]) }).then((res) => res)
        // Let the Save reach the gate before the verdict.
        await new Promise((resolve) => setTimeout(resolve, 300))
        finish()
        const [last, saved] = await Promise.all([lastChunk, saving])
        expect(last.status).toBe(422)
        expect(saved.status).toBe(200)
        expect(saved.body.record.errors[kind.property]?.message).toBe('The virus scan refused this file.')
        // A hook's own words have no key: the page shows them as they are.
        expect(saved.body.record.errors[kind.property]?.type).toBe('resumable')
        expect(await column(id, 'key')).toEqual([`${kind.folder}/${id}/${old.filename}`])
        expect(sha256(await readFile(onDisk(`${kind.folder}/${id}/${old.filename}`)))).toBe(sha256(old.data))
        expect(await exists(onDisk(`${kind.folder}/${id}/refused.png`))).toBe(false)
      } finally {
        finish()
        restore()
      }
    })

    test('onUploadComplete throws (a scanner down): the Save is a validation error on the property with a generic message, never a 500, and keeps nothing', async () => {
      const { id } = await createWithFile('scanner down')
      const restore = withPolicy(t.admin, kind, { onUploadComplete: () => { throw new Error('scanner unreachable at /srv/scanner.sock') } })
      try {
        const file = png('unscanned.png')
        for (let n = 1; n < countOf(file); n++) expect((await chunk(admin, file, n)).status).toBe(200)
        expect((await chunk(admin, file, countOf(file))).status).toBe(500)
        const listed = await admin.get(`${endpoint()}/uploads`).set(XHR)
        const upload = (listed.body.uploads as Array<{ reference: string; filename: string; complete: boolean }>).find((u) => u.filename === 'unscanned.png')
        expect(upload?.complete).toBe(true)
        for (const url of [newUrl, editUrl(id)]) {
          const rowsBefore = await rows()
          const res = await submit(admin, url, { title: 'unscanned', ...kind.fields([upload!.reference]) })
          expect(res.status).toBe(200)
          expect(res.type).toBe('application/json')
          expect(res.body.record.errors[kind.property].message).toMatch(GENERIC)
          expect(res.text).not.toMatch(/scanner\.sock|\/srv\/|\bat .+:\d+:\d+/)
          expect(res.text).not.toContain(t.uploadDir)
          expect(await rows()).toEqual(rowsBefore)
        }
        expect(await exists(onDisk(`${kind.folder}/${id}/unscanned.png`))).toBe(false)
      } finally {
        restore()
      }
    })
  })
}
