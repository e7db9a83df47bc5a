/**
 * Every URL under `<rootPath>/api/resumable` is answered by the package's own router, on Express 4
 * and 5 alike (`npm run test:matrix` runs this file on both): the body guard leaves that prefix to
 * it, so a path no route matches must not fall through to express-formidable, which writes the body
 * to disk and, past its maxFileSize, crashes the process. The example app runs in a child process
 * (the compiled lib/) with its own TMPDIR, watched for leftovers.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import { floodPost, MiB, settledListing } from './support/flood.js'
import { expectMatrixCell } from './support/matrix.js'
import { HttpClient, REPO, startServer, stopAllServers, type ServerProcess } from './support/processes.js'

let workDir: string
let tmp: string
let server: ServerProcess
let admin: HttpClient

beforeAll(async () => {
  expectMatrixCell()
  workDir = mkdtempSync(join(REPO, 'test', '.tmp', 'prefix-'))
  tmp = mkdtempSync(join(workDir, 'tmpdir-'))
  server = await startServer({
    TMPDIR: tmp,
    UPLOAD_DIR: join(workDir, 'uploads'),
    DATABASE_FILE: join(workDir, 'db.sqlite'),
    CHUNK_SIZE: String(64 * 1024),
  })
  admin = await HttpClient.login(server.url, 'admin@example.com')
})

afterAll(async () => {
  await stopAllServers()
  rmSync(workDir, { recursive: true, force: true })
})

async function expectAliveAndClean(): Promise<void> {
  expect(await settledListing(tmp)).toEqual([])
  expect(server.alive()).toBe(true)
  const page = await new HttpClient(server.url).request('GET', '/admin/login')
  expect(page.status).toBe(200)
}

const UNMATCHED = [
  '/admin/api/resumable',
  '/admin/api/resumable/',
  '/admin/api/resumable/x',
  '/admin/api/resumable/x/y/z',
  '/admin/api/resumable/Document/file/download',
  '/admin/api/resumable/Document/file/download/1/extra',
]

describe.each([
  ['anonymous', () => null],
  ['logged in', () => admin.cookie],
])('a 250 MiB multipart POST, %s', (_who, cookie) => {
  test.each(UNMATCHED)('to %s gets 404 JSON; the process stays up and leaves no temp file', async (path) => {
    const answer = await floodPost(server.url, path, { bytes: 250 * MiB, cookie: cookie() })
    expect(answer.errorCode).toBeUndefined()
    expect(answer.status).toBe(404)
    expect(answer.body).toMatchObject({ status: 'error', code: expect.any(String), message: expect.any(String) })
    await expectAliveAndClean()
  })

  test('to the chunk route itself gets 4xx JSON (401 without a session, 403 without X-Requested-With)', async () => {
    const answer = await floodPost(server.url, '/admin/api/resumable/Document/file', { bytes: 250 * MiB, cookie: cookie() })
    expect(answer.errorCode).toBeUndefined()
    expect([400, 401, 403, 413]).toContain(answer.status)
    expect(answer.body).toMatchObject({ status: 'error' })
    await expectAliveAndClean()
  })
})

test('a 250 MiB PUT to the chunk route gets 405 JSON with Allow', async () => {
  const answer = await floodPost(server.url, '/admin/api/resumable/Document/file', {
    bytes: 250 * MiB,
    cookie: admin.cookie,
    method: 'PUT',
  })
  expect(answer.status).toBe(405)
  expect(answer.headers?.allow).toBe('GET, POST, DELETE')
  expect(answer.body).toMatchObject({ status: 'error' })
  await expectAliveAndClean()
})

test('the chunk route still answers its own methods after all that', async () => {
  const answer = await admin.request('GET', '/admin/api/resumable/Document/file?resumableChunkNumber=1', {
    headers: { 'X-Requested-With': 'XMLHttpRequest' },
  })
  expect(answer.status).toBe(400)
  expect(answer.body).toMatchObject({ status: 'error' })
})
