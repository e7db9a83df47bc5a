/**
 * The feature touches records only through AdminJS's record API (find, update, delete hooks), so it
 * works with any adapter. Shown here with a second one: `@adminjs/typeorm` on SQLite, through the
 * real AdminJS router and our `buildAuthenticatedRouter`: upload, save (new and edit), show and
 * download (with Range), replace, clear, delete and bulk delete, the files following the records.
 */
import { afterAll, beforeAll, expect, test } from '@jest/globals'
import * as AdminJSTypeorm from '@adminjs/typeorm'
import AdminJS, { ComponentLoader } from 'adminjs'
import express from 'express'
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { BaseEntity, DataSource, EntitySchema } from 'typeorm'
import { buildAuthenticatedRouter, resumableUploadFeature } from 'adminjs-resumable'
import { login, type Agent } from './support/app.js'
import { bytes, sha256, uploadAll, type FileSpec } from './support/resumable-client.js'

AdminJS.registerAdapter({ Resource: AdminJSTypeorm.Resource, Database: AdminJSTypeorm.Database })

const CHUNK = 64 * 1024
const NEW = '/admin/api/resources/Document/actions/new'
const edit = (id: unknown) => `/admin/api/resources/Document/records/${id}/edit`
const show = (id: unknown) => `/admin/api/resources/Document/records/${id}/show`
const remove = (id: unknown) => `/admin/api/resources/Document/records/${id}/delete`
const download = (id: unknown) => `/admin/api/resumable/Document/file/download/${id}`

// An ActiveRecord entity (what @adminjs/typeorm expects), described by a schema rather than
// decorators; the class name is the AdminJS resource id.
class Document extends BaseEntity {
  id!: number
  title!: string
  filePath!: string | null
  fileName!: string | null
  fileSize!: string | null
  fileMimeType!: string | null
}
const DocumentSchema = new EntitySchema<Document>({
  name: 'Document',
  target: Document,
  tableName: 'documents',
  columns: {
    id: { type: 'integer', primary: true, generated: 'increment' },
    title: { type: 'varchar' },
    filePath: { type: 'text', nullable: true },
    fileName: { type: 'text', nullable: true },
    fileSize: { type: 'bigint', nullable: true },
    fileMimeType: { type: 'varchar', nullable: true },
  },
})

// A row that must keep its Document: `ON DELETE RESTRICT`, so deleting a cited Document fails in the
// database, which @adminjs/typeorm reports as a ValidationError notice (AdminJS still runs the after hooks).
class Citation extends BaseEntity {
  id!: number
  document!: Document
}
const CitationSchema = new EntitySchema<Citation>({
  name: 'Citation',
  target: Citation,
  tableName: 'citations',
  columns: { id: { type: 'integer', primary: true, generated: 'increment' } },
  relations: { document: { type: 'many-to-one', target: 'Document', nullable: false, onDelete: 'RESTRICT' } },
})

let work: string
let uploadDir: string
let dataSource: DataSource
let app: express.Express
let admin: Agent
let seq = 0

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'adminjs-resumable-typeorm-'))
  uploadDir = join(work, 'uploads')
  dataSource = new DataSource({ type: 'sqlite', database: join(work, 'db.sqlite'), entities: [DocumentSchema, CitationSchema], synchronize: true, logging: false })
  await dataSource.initialize()

  const componentLoader = new ComponentLoader()
  const adminJs = new AdminJS({
    rootPath: '/admin',
    componentLoader,
    resources: [{
      resource: Document,
      options: { properties: { title: { isTitle: true } } },
      features: [resumableUploadFeature({
        componentLoader,
        properties: { key: 'filePath', file: 'file', filename: 'fileName', size: 'fileSize', mimeType: 'fileMimeType' },
        storage: { local: { directory: uploadDir, stagingDirectory: join(uploadDir, '.staging') } },
        uploadPath: (record, filename) => `documents/${record.id()}/${filename}`,
        chunkSize: CHUNK,
        expiry: { sweepIntervalMs: 0 },
      })],
    }],
  })
  app = express()
  app.use('/admin', buildAuthenticatedRouter(adminJs, {
    cookieName: 'adminjs',
    cookiePassword: 'typeorm-test-session-secret-0123456789',
    authenticate: async (email: string, password: string) => (email === 'admin@example.com' && password === 'password'
      ? { id: 'admin', email, title: 'admin' }
      : null),
  }))
  admin = await login(app, 'admin@example.com')
})
afterAll(async () => {
  await dataSource?.destroy()
  rmSync(work, { recursive: true, force: true })
})

function spec(data: Buffer, filename: string): FileSpec {
  seq += 1
  return { identifier: `${data.length}-typeorm-${process.pid}-${seq}`, filename, type: 'application/pdf', data, chunkSize: CHUNK }
}

/** Posts a multipart form to an AdminJS action, as the AdminJS React app does. */
function submit(url: string, fields: Record<string, string>) {
  const req = admin.post(url)
  for (const [k, v] of Object.entries(fields)) req.field(k, v)
  return req
}

const row = (id: unknown) => Document.findOneBy({ id: Number(id) })
const saved = (key: string) => join(uploadDir, key)

async function createWithFile(title: string, data: Buffer, filename = `typeorm-${seq + 1}.pdf`) {
  const reference = await uploadAll(admin, spec(data, filename))
  const res = await submit(NEW, { title, file: reference })
  expect(res.status).toBe(200)
  expect(res.body.record.errors).toEqual({})
  return { id: res.body.record.params.id as number, reference, filename }
}

test('the resource really is TypeORM on SQLite', () => {
  expect(dataSource.options.type).toBe('sqlite')
  expect(AdminJSTypeorm.Resource.isAdapterFor(Document)).toBe(true)
})

test('new: the columns are filled through the record API and the file holds the uploaded bytes', async () => {
  const data = bytes(3 * CHUNK + 11, 201)
  const { id, reference } = await createWithFile('first', data, 'Report one.pdf')
  const stored = await row(id)
  expect(stored).toMatchObject({ title: 'first', filePath: `documents/${id}/Report one.pdf`, fileName: 'Report one.pdf', fileMimeType: 'application/pdf' })
  expect(Number(stored!.fileSize)).toBe(data.length)
  expect(sha256(readFileSync(saved(stored!.filePath!)))).toBe(sha256(data))
  expect(existsSync(join(uploadDir, '.staging', reference))).toBe(false)
})

test('show and download: the record shows the file, the route streams it, with Range', async () => {
  const data = bytes(2 * CHUNK + 5, 202)
  const { id } = await createWithFile('shown', data, 'shown.pdf')
  const shown = await admin.get(show(id))
  expect(shown.status).toBe(200)
  expect(shown.body.record.params).toMatchObject({ filePath: `documents/${id}/shown.pdf`, fileName: 'shown.pdf' })
  const whole = await admin.get(download(id)).buffer(true).parse((res, done) => {
    const parts: Buffer[] = []
    res.on('data', (d: Buffer) => parts.push(d)).on('end', () => done(null, Buffer.concat(parts)))
  })
  expect(whole.status).toBe(200)
  expect(whole.headers['content-disposition']).toContain('shown.pdf')
  expect(sha256(whole.body as Buffer)).toBe(sha256(data))
  const part = await admin.get(download(id)).set('Range', 'bytes=100-199').buffer(true).parse((res, done) => {
    const parts: Buffer[] = []
    res.on('data', (d: Buffer) => parts.push(d)).on('end', () => done(null, Buffer.concat(parts)))
  })
  expect(part.status).toBe(206)
  expect((part.body as Buffer).equals(data.subarray(100, 200))).toBe(true)
})

test('edit: a new file replaces the old one, which is removed; a title-only edit keeps the file', async () => {
  const { id, filename } = await createWithFile('to replace', bytes(CHUNK + 3, 203))
  const newData = bytes(2 * CHUNK, 204)
  const reference = await uploadAll(admin, spec(newData, 'replacement.pdf'))
  const res = await submit(edit(id), { title: 'replaced', file: reference })
  expect(res.body.record.errors ?? {}).toEqual({})
  const stored = await row(id)
  expect(stored).toMatchObject({ title: 'replaced', filePath: `documents/${id}/replacement.pdf`, fileName: 'replacement.pdf' })
  expect(Number(stored!.fileSize)).toBe(newData.length)
  expect(sha256(readFileSync(saved(stored!.filePath!)))).toBe(sha256(newData))
  expect(existsSync(saved(`documents/${id}/${filename}`))).toBe(false)

  const titleOnly = await submit(edit(id), { title: 'renamed only' })
  expect(titleOnly.body.record.errors ?? {}).toEqual({})
  expect(await row(id)).toMatchObject({ title: 'renamed only', filePath: `documents/${id}/replacement.pdf` })
  expect(sha256(readFileSync(saved(`documents/${id}/replacement.pdf`)))).toBe(sha256(newData))
})

test('clear: the columns become null and the file goes', async () => {
  const { id } = await createWithFile('to clear', bytes(CHUNK, 205))
  const res = await submit(edit(id), { title: 'cleared', file: '__clear__' })
  expect(res.body.record.errors ?? {}).toEqual({})
  expect(await row(id)).toMatchObject({ title: 'cleared', filePath: null, fileName: null, fileSize: null, fileMimeType: null })
  expect(existsSync(saved(`documents/${id}`))).toBe(false)
})

test('delete and bulk delete remove the files of the deleted records, and only theirs', async () => {
  const a = await createWithFile('delete a', bytes(CHUNK, 206))
  const b = await createWithFile('delete b', bytes(CHUNK, 207))
  const c = await createWithFile('delete c', bytes(CHUNK, 208))
  const kept = await createWithFile('kept', bytes(CHUNK + 1, 209))
  const one = await admin.post(remove(a.id))
  expect(one.body.notice?.type).toBe('success')
  const bulk = await admin.post(`/admin/api/resources/Document/bulk/bulkDelete?recordIds=${b.id},${c.id}`)
  expect(bulk.body.notice?.type).toBe('success')
  for (const gone of [a, b, c]) {
    expect(await row(gone.id)).toBeNull()
    expect(existsSync(saved(`documents/${gone.id}`))).toBe(false)
  }
  expect(readdirSync(saved(`documents/${kept.id}`))).toEqual([kept.filename])
})

test('a delete the database refuses (a foreign key, ON DELETE RESTRICT) keeps the record and its file', async () => {
  const cited = await createWithFile('cited', bytes(CHUNK + 9, 210))
  const document = await Document.findOneByOrFail({ id: Number(cited.id) })
  await Citation.create({ document } as Citation).save()
  const res = await admin.post(remove(cited.id))
  expect(res.status).toBe(200)
  expect(res.body.notice).toMatchObject({ type: 'error', message: expect.stringMatching(/FOREIGN KEY/i) })
  expect(await row(cited.id)).toMatchObject({ filePath: `documents/${cited.id}/${cited.filename}` })
  expect(existsSync(saved(`documents/${cited.id}/${cited.filename}`))).toBe(true)
  const bulk = await admin.post(`/admin/api/resources/Document/bulk/bulkDelete?recordIds=${cited.id}`)
  expect(bulk.status).toBe(200)
  expect(await row(cited.id)).not.toBeNull()
  expect(existsSync(saved(`documents/${cited.id}/${cited.filename}`))).toBe(true)
})
