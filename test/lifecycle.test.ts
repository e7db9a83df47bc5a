/**
 * Lifecycle (the example app in-process, on SQLite): expiry sweep by UPLOAD_TTL_MS (called
 * from code with a `now`, and by the timer), 410 for expired uploads, DELETE as cancel and as the
 * way to start an expired upload afresh, and start-up recovery of what a crashed process left.
 */
import { afterEach, describe, expect, jest, test } from '@jest/globals'
import { spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import {
  existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, utimesSync, writeFileSync,
} from 'node:fs'
import { hostname, tmpdir } from 'node:os'
import { join } from 'node:path'
import { sweepExpiredUploads } from 'adminjs-resumable'
import { findFeature, type RegisteredFeature } from '../src/upload/registry.js'
import { uploadId } from '../src/protocol/scope.js'
import { login, startTestApp, type Agent, type TestApp } from './support/app.js'
import {
  bytes, countOf, ENDPOINT, postChunk, sha256, testChunk, uploadAll, XHR, type FileSpec,
} from './support/resumable-client.js'
import { writeAndMarkChunk } from './support/tree.js'
import type { DocumentParams } from './support/document.js'

jest.setTimeout(120_000)

const KiB = 1024
const CHUNK = 64 * KiB
const sleep = (ms: number) => new Promise<void>((done) => setTimeout(done, ms))

const apps: TestApp[] = []
const dirs: string[] = []
afterEach(async () => {
  for (const app of apps.splice(0)) await app.close()
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

async function start(env: Record<string, string> = {}): Promise<TestApp> {
  const app = await startTestApp({ env: { CHUNK_SIZE: String(CHUNK), ...env } })
  apps.push(app)
  await featureOf(app).ready
  return app
}

function featureOf(app: TestApp): RegisteredFeature {
  const custom = app.admin.findResource('Document').decorate().getPropertyByKey('file')?.options.custom as { featureId?: string }
  const feature = findFeature(app.admin, custom?.featureId)
  if (!feature) throw new Error('the Document resource has no resumable feature')
  return feature
}

function spec(name: string, chunks: number, seed: number, extra = 0): FileSpec {
  const size = chunks * CHUNK + extra
  return { identifier: `${size}-${name.replace(/[^0-9A-Za-z_-]/g, '')}`, filename: name, data: bytes(size, seed), chunkSize: CHUNK }
}

/** The upload id; the scope's resource id is the adapter's `resource.id()`, i.e. the table name. */
function idOf(owner: string, file: FileSpec): string {
  return uploadId({ owner, resourceId: 'Document', propertyPath: 'file' }, file.identifier)
}

function staging(app: TestApp): string {
  return join(app.uploadDir, '.staging')
}

function hashFile(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex')
}

async function send(agent: Agent, file: FileSpec, chunks: number[]): Promise<void> {
  for (const n of chunks) {
    const res = await postChunk(agent, file, n)
    expect({ n, status: res.status }).toEqual({ n, status: 200 })
  }
}

async function save(agent: Agent, title: string, reference: string) {
  return agent.post('/admin/api/resources/Document/actions/new').field('title', title).field('file', reference)
}

function savedParams(res: Awaited<ReturnType<typeof save>>): DocumentParams {
  const record = res.body?.record
  if (res.status !== 200 || !record?.id || Object.keys(record.errors ?? {}).length) {
    throw new Error(`save failed: ${res.status} ${JSON.stringify(res.body).slice(0, 400)}`)
  }
  return record.params
}

function cancel(agent: Agent, query: Record<string, string>) {
  return agent.delete(ENDPOINT).query(query).set(XHR)
}

describe('expiry', () => {
  test('the sweep (called from code with a `now`) removes unfinished and finished-but-unsaved uploads after UPLOAD_TTL_MS, never a saved file; expired uploads answer 410; DELETE clears the mark and the upload starts afresh', async () => {
    const ttl = 60_000
    const app = await start({ UPLOAD_TTL_MS: String(ttl), SWEEP_INTERVAL_MS: '0' })
    const admin = await login(app.app, 'admin@example.com')
    const partial = spec('partial.bin', 4, 1)
    const finished = spec('finished.bin', 3, 2, 100)
    const kept = spec('kept.bin', 3, 3)
    await send(admin, partial, [1, 2])
    const finishedRef = await uploadAll(admin, finished)
    const savedParamsKept = savedParams(await save(admin, 'kept', await uploadAll(admin, kept)))
    const savedPath = join(app.uploadDir, savedParamsKept.filePath)
    expect(hashFile(savedPath)).toBe(sha256(kept.data))

    // Not yet expired: nothing goes.
    const early = (await sweepExpiredUploads(app.admin, Date.now())).flatMap((r) => r.expired)
    expect(early).not.toContain(idOf('admin', partial))
    expect(existsSync(join(staging(app), idOf('admin', partial)))).toBe(true)
    expect(existsSync(join(staging(app), finishedRef, 'complete'))).toBe(true)

    const expired = (await sweepExpiredUploads(app.admin, Date.now() + ttl + 5_000)).flatMap((r) => r.expired)
    expect(expired).toEqual(expect.arrayContaining([idOf('admin', partial), finishedRef]))
    expect(readdirSync(staging(app)).filter((n) => !n.endsWith('.expired'))).toEqual([])
    expect(readdirSync(staging(app)).sort()).toEqual([`${idOf('admin', partial)}.expired`, `${finishedRef}.expired`].sort())
    // The saved file and its record are untouched.
    expect(hashFile(savedPath)).toBe(sha256(kept.data))
    const download = await admin.get(`/admin/api/resumable/Document/file/download/${savedParamsKept.id}`).buffer(true)
      .parse((res, done) => {
        const parts: Buffer[] = []
        res.on('data', (d: Buffer) => parts.push(d))
        res.on('end', () => done(null, Buffer.concat(parts)))
      })
    expect(download.status).toBe(200)
    expect(sha256(download.body as Buffer)).toBe(sha256(kept.data))

    // 410 JSON, for test GETs and POSTs alike; no silent restart (no staging folder reappears).
    for (const res of [await testChunk(admin, partial, 1), await testChunk(admin, partial, 3), await postChunk(admin, partial, 3), await postChunk(admin, finished, 1)]) {
      expect(res.status).toBe(410)
      expect(res.type).toBe('application/json')
      expect(res.body).toMatchObject({ status: 'error', code: 'expired' })
    }
    expect(existsSync(join(staging(app), idOf('admin', partial)))).toBe(false)
    // The finished-but-unsaved upload cannot be saved any more.
    const late = await save(admin, 'too late', finishedRef)
    expect(() => savedParams(late)).toThrow()
    expect(await app.Document.count()).toBe(1)

    // DELETE clears the expiry mark: the same identifier starts afresh.
    const cleared = await cancel(admin, { resumableIdentifier: partial.identifier })
    expect(cleared.status).toBe(200)
    expect(cleared.body).toEqual({ status: 'cancelled' })
    expect(existsSync(join(staging(app), `${idOf('admin', partial)}.expired`))).toBe(false)
    expect((await testChunk(admin, partial, 1)).status).toBe(204)
    const again = await uploadAll(admin, partial)
    expect(again).toBe(idOf('admin', partial))
    const params = savedParams(await save(admin, 'again', again))
    expect(hashFile(join(app.uploadDir, params.filePath))).toBe(sha256(partial.data))
  })

  test('the sweep timer runs by itself when SWEEP_INTERVAL_MS is small', async () => {
    const app = await start({ UPLOAD_TTL_MS: '2000', SWEEP_INTERVAL_MS: '100' })
    const admin = await login(app.app, 'admin@example.com')
    const kept = spec('saved-before.bin', 2, 4)
    const params = savedParams(await save(admin, 'saved', await uploadAll(admin, kept)))
    const abandoned = spec('abandoned.bin', 3, 5)
    await send(admin, abandoned, [1])
    const dir = join(staging(app), idOf('admin', abandoned))
    expect(existsSync(dir)).toBe(true)
    const deadline = Date.now() + 20_000
    while (existsSync(dir) && Date.now() < deadline) await sleep(50)
    expect(existsSync(dir)).toBe(false)
    const res = await testChunk(admin, abandoned, 2)
    expect(res.status).toBe(410)
    expect(res.body.code).toBe('expired')
    expect(hashFile(join(app.uploadDir, params.filePath))).toBe(sha256(kept.data))
  })
})

describe('cancel (DELETE)', () => {
  test('removes an unfinished upload of that admin: the staging folder goes and later chunks start afresh', async () => {
    const app = await start()
    const admin = await login(app.app, 'admin@example.com')
    const file = spec('cancel-me.bin', 4, 6, 5)
    await send(admin, file, [1, 2, 3])
    const dir = join(staging(app), idOf('admin', file))
    expect(readFileSync(join(dir, 'received'))).toEqual(Buffer.from([1, 1, 1, 0]))
    const res = await cancel(admin, { resumableIdentifier: file.identifier })
    expect(res.status).toBe(200)
    expect(existsSync(dir)).toBe(false)
    expect(readdirSync(staging(app))).toEqual([]) // no tombstone: a cancelled upload is not "expired"
    for (const n of [1, 2, 3]) expect((await testChunk(admin, file, n)).status).toBe(204)
    await send(admin, file, [4])
    expect(readFileSync(join(dir, 'received'))).toEqual(Buffer.from([0, 0, 0, 1])) // a fresh upload
    const reference = await uploadAll(admin, file)
    expect(hashFile(join(dir, 'complete'))).toBe(sha256(file.data))
    expect(reference).toBe(idOf('admin', file))
    // Cancelling again: it is complete now, and it goes too; then there is nothing left (404).
    expect((await cancel(admin, { reference })).status).toBe(200)
    expect(existsSync(dir)).toBe(false)
    const none = await cancel(admin, { reference })
    expect(none.status).toBe(404)
    expect(none.body.code).toBe('not_found')
  })

  test("cancelling someone else's upload by reference is 404, like no upload, and leaves it intact; the owner may", async () => {
    const app = await start()
    const admin = await login(app.app, 'admin@example.com')
    const editor = await login(app.app, 'editor@example.com')
    const viewer = await login(app.app, 'viewer@example.com')
    const file = spec('editors.bin', 3, 7)
    await send(editor, file, [1, 2])
    const reference = idOf('editor', file)
    const dir = join(staging(app), reference)

    const refused = await cancel(admin, { reference })
    expect(refused.status).toBe(404)
    // Exactly the answer for a reference that names no upload: the editor's upload is not revealed.
    const nobody = await cancel(admin, { reference: 'deadbeef'.repeat(5) })
    expect(refused.body).toEqual(nobody.body)
    expect(refused.body).toMatchObject({ status: 'error', code: 'not_found' })
    // By identifier, the admin can only ever name their own upload (scoped): nothing to cancel.
    expect((await cancel(admin, { resumableIdentifier: file.identifier })).status).toBe(404)
    expect((await cancel(viewer, { reference })).status).toBe(403)
    expect(readFileSync(join(dir, 'received'))).toEqual(Buffer.from([1, 1, 0]))
    expect((await testChunk(editor, file, 2)).status).toBe(200)

    expect((await cancel(editor, { reference })).status).toBe(200)
    expect(existsSync(dir)).toBe(false)
  })
})

describe('start-up recovery', () => {
  test('leftovers of a crashed process are cleaned, a marked-but-not-renamed upload is completed, locks of dead pids are dropped and live ones kept', async () => {
    const root = mkdtempSync(join(tmpdir(), 'adminjs-resumable-lifecycle-'))
    dirs.push(root)
    const env = { UPLOAD_DIR: join(root, 'uploads'), DATABASE_FILE: join(root, 'db.sqlite'), SWEEP_INTERVAL_MS: '0' }
    const first = await start(env)
    const admin1 = await login(first.app, 'admin@example.com')
    const almost = spec('almost.bin', 5, 8, 321)
    const partial = spec('partial.bin', 4, 9)
    await send(admin1, almost, [1, 2, 3, 4])
    await send(admin1, partial, [1, 2])
    await first.close()
    apps.splice(apps.indexOf(first), 1)

    const stage = join(env.UPLOAD_DIR, '.staging')
    const old = new Date(Date.now() - 2 * 3600_000)
    const aged = (path: string) => {
      utimesSync(path, old, old)
      return path
    }
    // The crash between the last chunk's mark and the `data` → `complete` rename.
    const almostDir = join(stage, idOf('admin', almost))
    const last = countOf(almost)
    writeAndMarkChunk(almostDir, almost, last)
    // Locks: one of a dead process on this host, one of a live process (pid 1) refreshed just now.
    const partialDir = join(stage, idOf('admin', partial))
    const deadPid = spawnSync(process.execPath, ['-e', '']).pid!
    writeFileSync(join(partialDir, 'lock-3'), `${hostname()}:${deadPid}:deadbeef0000`)
    writeFileSync(join(partialDir, 'lock-4'), `${hostname()}:1:cafebabe0000`)
    // Half-created upload, commit link, trash; and entries that are not the store's: a folder named
    // like an upload but with no manifest, a stray file. Those stay.
    const creatingOld = join(stage, `.creating-${'a'.repeat(40)}-0123456789abcdef`)
    mkdirSync(creatingOld)
    writeFileSync(join(creatingOld, 'manifest.json'), '{}')
    aged(creatingOld)
    const creatingYoung = join(stage, `.creating-${'b'.repeat(40)}-0123456789abcdef`)
    mkdirSync(creatingYoung)
    const commitOld = aged((writeFileSync(join(stage, '.commit-0123456789abcdef'), 'x'), join(stage, '.commit-0123456789abcdef')))
    const trash = join(stage, `.trash-${'c'.repeat(40)}-0123456789abcdef`)
    mkdirSync(trash)
    writeFileSync(join(trash, 'data'), 'x')
    const orphan = join(stage, 'd'.repeat(40))
    mkdirSync(orphan)
    writeFileSync(join(orphan, 'data'), 'x')
    aged(orphan)
    const stray = aged((writeFileSync(join(stage, 'stray.tmp'), 'x'), join(stage, 'stray.tmp')))

    const second = await start(env) // start() awaits the store's start-up recovery
    expect(readdirSync(stage).sort()).toEqual([idOf('admin', almost), idOf('admin', partial), creatingYoung, orphan, stray].map((p) => p.split('/').pop()).sort())
    for (const gone of [creatingOld, commitOld, trash]) expect(existsSync(gone)).toBe(false)
    expect(existsSync(creatingYoung)).toBe(true) // may belong to an operation in progress elsewhere
    // Completed, whole, under its final name only.
    expect(readdirSync(almostDir).sort()).toEqual(['complete', 'manifest.json', 'received'])
    expect(hashFile(join(almostDir, 'complete'))).toBe(sha256(almost.data))
    expect(readdirSync(partialDir).sort()).toEqual(['data', 'lock-4', 'manifest.json', 'received'])

    const admin = await login(second.app, 'admin@example.com')
    const held = await testChunk(admin, almost, 1)
    expect(held.status).toBe(200)
    expect(held.body).toEqual({ status: 'held', complete: true, reference: idOf('admin', almost) })
    const params = savedParams(await save(admin, 'recovered', idOf('admin', almost)))
    expect(hashFile(join(second.uploadDir, params.filePath))).toBe(sha256(almost.data))

    // The dead process's chunk is free; the live one's is still busy (503, retryable).
    await send(admin, partial, [3])
    const busy = await postChunk(admin, partial, 4)
    expect(busy.status).toBe(503)
    expect(busy.headers['retry-after']).toBe('1') // seconds: ChunkBusy's short wait
    expect(busy.body.code).toBe('chunk_busy')
    rmSync(join(partialDir, 'lock-4')) // the live owner finishes and releases it
    const reference = await uploadAll(admin, partial)
    expect(hashFile(join(partialDir, 'complete'))).toBe(sha256(partial.data))
    expect(reference).toBe(idOf('admin', partial))
  })
})
