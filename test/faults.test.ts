/**
 * Faults: the example app in REAL child processes (`node example-app/server.js`, which runs
 * the compiled lib/: `npm run build` first), driven over HTTP by a client that speaks Resumable.js
 * 1.1.0's protocol (test/support/processes.ts). Every case ends by comparing the saved or staged
 * file's sha256 with the source's.
 *
 * Storage layout relied on (src/store/local/layout.ts): `<UPLOAD_DIR>/.staging/<id>/{manifest.json, data,
 * received, lock-<n>, complete}`, where id = uploadId(owner, 'Document', 'file', identifier).
 */
import { afterAll, afterEach, beforeEach, describe, expect, jest, test } from '@jest/globals'
import { execFileSync, spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import {
  existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync, statSync, closeSync, writeFileSync, writeSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Sequelize } from 'sequelize'
import { uploadId } from '../src/protocol/scope.js'
import {
  abortedPost, chunkRequest, HttpClient, octetChunkRequest, postChunk, referenceOf, resumableUpload, saveDocument, savedRecord,
  startServer, stopAllServers, testChunk, type ServerProcess, type UploadRun,
} from './support/processes.js'
import { bytes, chunkBytes, countOf, sha256, type FileSpec } from './support/resumable-client.js'
import { freshPostgresDatabase, REQUIRED } from './support/services.js'
import { writeAndMarkChunk } from './support/tree.js'
import type { DocumentParams } from './support/document.js'

jest.setTimeout(180_000)

const KiB = 1024
const CHUNK = 256 * KiB
const sleep = (ms: number) => new Promise<void>((done) => setTimeout(done, ms))

let work: string
const mounts: string[] = []

beforeEach(() => {
  work = mkdtempSync(join(tmpdir(), 'adminjs-resumable-faults-'))
})

afterEach(async () => {
  await stopAllServers()
  for (const dir of mounts.splice(0)) {
    if (spawnSync('umount', [dir]).status !== 0) spawnSync('umount', ['-l', dir])
  }
  rmSync(work, { recursive: true, force: true })
})

afterAll(async () => {
  await stopAllServers()
})

function baseEnv(extra: Record<string, string> = {}): Record<string, string> {
  return {
    UPLOAD_DIR: join(work, 'uploads'),
    DATABASE_FILE: join(work, 'db.sqlite'),
    CHUNK_SIZE: String(CHUNK),
    ...extra,
  }
}

function fileSpec(name: string, size: number, seed: number): FileSpec {
  // Resumable.js's default identifier: size + '-' + name without characters outside [0-9A-Za-z_-].
  return { identifier: `${size}-${name.replace(/[^0-9A-Za-z_-]/g, '')}`, filename: name, data: bytes(size, seed), chunkSize: CHUNK }
}

/** The scope's resource id is the AdminJS resource id, the one in URLs. */
const RESOURCE_ID = 'Document'

function idOf(owner: string, file: FileSpec): string {
  return uploadId({ owner, resourceId: RESOURCE_ID, propertyPath: 'file' }, file.identifier)
}

function stagingOf(uploadDir: string, owner: string, file: FileSpec): string {
  return join(uploadDir, '.staging', idOf(owner, file))
}

/** Chunk numbers marked as held in `received`. */
function heldOnDisk(dir: string): number[] {
  const received = readFileSync(join(dir, 'received'))
  return [...received].flatMap((b, i) => (b === 1 ? [i + 1] : []))
}

function fileHash(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex')
}

function locksIn(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir).filter((f) => f.startsWith('lock-')) : []
}

function okChunks(map: Map<number, number[]>): number[] {
  return [...map].filter(([, statuses]) => statuses.some((s) => s === 200 || s === 201)).map(([n]) => n).sort((a, b) => a - b)
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i)
}

/** No request made the server log an unexpected (500) error. */
function expectNoInternalErrors(server: ServerProcess): void {
  expect(server.output()).not.toMatch(/unexpected error/)
}

/** Saves a record and checks that the stored file (on disk and through the download route) is the source. */
async function saveAndVerify(server: ServerProcess, client: HttpClient, title: string, reference: string, file: FileSpec): Promise<DocumentParams> {
  const params = savedRecord(await saveDocument(client, title, reference))
  expect(params.fileName).toBe(file.filename)
  expect(params.filePath).toBe(`documents/${params.id}/${params.fileName}`)
  expect(Number(params.fileSize)).toBe(file.data.length)
  const onDisk = join(server.env.UPLOAD_DIR, params.filePath)
  expect(statSync(onDisk).size).toBe(file.data.length)
  expect(fileHash(onDisk)).toBe(sha256(file.data))
  const raw = await downloadBytes(client, params.id)
  expect(sha256(raw)).toBe(sha256(file.data))
  return params
}

async function downloadBytes(client: HttpClient, id: string | number): Promise<Buffer> {
  const http = await import('node:http')
  return new Promise<Buffer>((done, fail) => {
    http.get(new URL(`/admin/api/resumable/Document/file/download/${id}`, client.base), { headers: { Cookie: client.cookie ?? '' }, agent: false }, (res) => {
      const parts: Buffer[] = []
      res.on('data', (d: Buffer) => parts.push(d))
      res.on('end', () => (res.statusCode === 200 ? done(Buffer.concat(parts)) : fail(new Error(`download ${res.statusCode}`))))
    }).on('error', fail)
  })
}

async function countDocuments(client: HttpClient): Promise<number> {
  const res = await client.request('GET', '/admin/api/resources/Document/actions/list?perPage=500')
  expect(res.status).toBe(200)
  return res.body.meta.total
}

async function until<T>(what: string, probe: () => Promise<T | null | undefined | false> | T | null | undefined | false, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await probe()
    if (value) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await sleep(25)
  }
}

describe('SIGKILL mid-upload', () => {
  test('after a restart on the same DB and folders the same client resumes: only missing chunks are sent, the file is byte-identical and Save works with the old cookie', async () => {
    const env = baseEnv()
    let server = await startServer(env)
    const client = await HttpClient.login(server.url, 'admin@example.com')
    const file = fileSpec('big video.mp4', 32 * CHUNK, 11)
    const dir = stagingOf(env.UPLOAD_DIR, 'admin', file)

    let postsInFlightAtKill = -1
    const killed = server
    // Slow bodies keep several POSTs in flight; the server dies after 8 chunks were acknowledged.
    const first = await resumableUpload(client, file, {
      slowBody: { pieces: 8, delayMs: 15 },
      maxRetries: 2,
      retryIntervalMs: 50,
      onAnswer: ({ kind, answer, run }) => {
        if (postsInFlightAtKill < 0 && kind === 'post' && answer.status === 200 && okChunks(run.posted).length >= 8 && run.postsInFlight >= 1) {
          postsInFlightAtKill = run.postsInFlight
          killed.child.kill('SIGKILL')
        }
      },
    })
    expect((await killed.exited).signal).toBe('SIGKILL')
    expect(postsInFlightAtKill).toBeGreaterThanOrEqual(1)
    expect(first.done).toBe(false)
    expect(first.failure?.status).toBe(0) // the network error that made the file fail in the browser

    // What the dead server held: every acknowledged chunk, each with exactly its bytes; no `complete`.
    const held = heldOnDisk(dir)
    const acknowledged = okChunks(first.posted)
    expect(acknowledged.length).toBeGreaterThanOrEqual(8)
    for (const n of acknowledged) expect(held).toContain(n)
    const data = readFileSync(join(dir, 'data'))
    for (const n of held) {
      const offset = (n - 1) * CHUNK
      expect(sha256(data.subarray(offset, offset + CHUNK))).toBe(sha256(chunkBytes(file, n)))
    }
    expect(existsSync(join(dir, 'complete'))).toBe(false)
    expect(held.length).toBeLessThan(countOf(file))

    server = await startServer(env)
    client.base = server.url
    // Resumable's file.retry(): every chunk is tested again, with the cookie from before the crash.
    const second = await resumableUpload(client, file)
    expect(second.failure).toBeNull()
    const reference = referenceOf(second)
    expect(reference).toBe(idOf('admin', file))
    expect(okChunks(second.tested)).toEqual(held)
    const missing = range(1, countOf(file)).filter((n) => !held.includes(n))
    expect([...second.posted.keys()].sort((a, b) => a - b)).toEqual(missing)
    for (const n of missing) expect(second.posted.get(n)).toEqual([200])
    expect(locksIn(dir)).toEqual([]) // the dead process's locks were taken over or cleaned
    expect(statSync(join(dir, 'complete')).size).toBe(file.data.length)
    expect(fileHash(join(dir, 'complete'))).toBe(sha256(file.data))

    await saveAndVerify(server, client, 'after a crash', reference, file)
    expect(existsSync(dir)).toBe(false)
    expectNoInternalErrors(server)
  })
})

describe('killed during finalization', () => {
  /** Uploads all but the last chunk, then marks the last one on disk as a crashed request would have. */
  async function markedButNotRenamed(server: ServerProcess, client: HttpClient, file: FileSpec): Promise<string> {
    const count = countOf(file)
    const run = await resumableUpload(client, file, { chunks: range(1, count - 1) })
    expect(run.done).toBe(true)
    expect(run.references).toEqual([])
    const dir = stagingOf(server.env.UPLOAD_DIR, 'admin', file)
    // The crash: chunk `count` fully written and marked, the `data` → `complete` rename not done.
    writeAndMarkChunk(dir, file, count)
    expect(heldOnDisk(dir)).toEqual(range(1, count))
    expect(existsSync(join(dir, 'complete'))).toBe(false)
    return dir
  }

  /** Polls the final names while the test runs: whenever `complete` exists it must be the whole file. */
  function watchFinalNames(dir: string, file: FileSpec) {
    const seen: string[] = []
    let stop = false
    const look = () => {
      try {
        const info = statSync(join(dir, 'complete'))
        seen.push(info.size === file.data.length && fileHash(join(dir, 'complete')) === sha256(file.data) ? 'whole' : `BROKEN size=${info.size}`)
      } catch { /* not there (yet, or anymore) */ }
    }
    const loop = (async () => {
      while (!stop) {
        look()
        await sleep(2)
      }
    })()
    return {
      seen,
      stop: async () => {
        stop = true
        await loop
        look()
      },
    }
  }

  test('a crash between the last mark and the rename is completed by start-up recovery, with no request', async () => {
    const env = baseEnv()
    const server = await startServer(env)
    const client = await HttpClient.login(server.url, 'admin@example.com')
    const file = fileSpec('report.pdf', 10 * CHUNK + 1234, 21)
    const dir = await markedButNotRenamed(server, client, file)
    await server.stop('SIGKILL')

    const watcher = watchFinalNames(dir, file)
    const restarted = await startServer(env)
    await until('start-up recovery to rename data to complete', () => existsSync(join(dir, 'complete')) && !existsSync(join(dir, 'data')))
    await watcher.stop()
    expect(watcher.seen.length).toBeGreaterThan(0)
    expect(watcher.seen.every((s) => s === 'whole')).toBe(true)
    expect(fileHash(join(dir, 'complete'))).toBe(sha256(file.data))

    client.base = restarted.url
    const test1 = await testChunk(client, file, 1)
    expect(test1.status).toBe(200)
    expect(test1.body).toEqual({ status: 'held', complete: true, reference: idOf('admin', file) })
    const again = await postChunk(client, file, countOf(file))
    expect(again.status).toBe(200)
    expect(again.body).toEqual({ status: 'complete', reference: idOf('admin', file) })
    await saveAndVerify(restarted, client, 'recovered', idOf('admin', file), file)
    expectNoInternalErrors(restarted)
  })

  test('the same crash left by another process is completed by the next request to a running server', async () => {
    const env = baseEnv()
    const server = await startServer(env)
    const client = await HttpClient.login(server.url, 'admin@example.com')
    const file = fileSpec('other.bin', 6 * CHUNK, 22)
    const dir = await markedButNotRenamed(server, client, file)
    const watcher = watchFinalNames(dir, file)
    // The test request for the last chunk sees it held and finishes the upload.
    const last = await testChunk(client, file, countOf(file))
    await watcher.stop()
    expect(last.status).toBe(200)
    expect(last.body).toEqual({ status: 'held', complete: true, reference: idOf('admin', file) })
    expect(existsSync(join(dir, 'data'))).toBe(false)
    expect(fileHash(join(dir, 'complete'))).toBe(sha256(file.data))
    expect(watcher.seen.every((s) => s === 'whole')).toBe(true)
    await saveAndVerify(server, client, 'finished by a request', idOf('admin', file), file)
  })
})

describe('client disconnects mid-chunk-body', () => {
  test.each([
    ['multipart', chunkRequest],
    ['octet', octetChunkRequest],
  ] as const)('%s: the half-sent chunk is not held, the upload does not complete, the lock is released and a retry finishes the file', async (_method, requestOf) => {
    const env = baseEnv()
    const server = await startServer(env)
    const client = await HttpClient.login(server.url, 'admin@example.com')
    const file = fileSpec('clip.mov', 5 * CHUNK + 777, 31)
    const count = countOf(file)
    const dir = stagingOf(env.UPLOAD_DIR, 'admin', file)
    // Chunk 2 (a middle one) and the last chunk are cut off halfway; the others arrive.
    const run = await resumableUpload(client, file, { chunks: range(1, count).filter((n) => n !== 2 && n !== count) })
    expect(run.done).toBe(true)
    for (const n of [2, count]) {
      const request = requestOf(file, n)
      await abortedPost(server.url, client.cookie, request, Math.floor(request.body.length / 2))
    }
    for (const n of [2, count]) {
      const test = await testChunk(client, file, n)
      expect(test.status).toBe(204)
    }
    expect(heldOnDisk(dir)).toEqual(range(1, count).filter((n) => n !== 2 && n !== count))
    expect(existsSync(join(dir, 'complete'))).toBe(false)
    // The aborted requests' locks go away once the server notices the aborts.
    await until('the chunk locks to be released', () => locksIn(dir).length === 0, 10_000)

    const answers: number[] = []
    let final = null
    for (const n of [2, count]) {
      for (let attempt = 0; attempt < 20; attempt++) {
        const answer = await postChunk(client, file, n)
        answers.push(answer.status)
        if (answer.status === 503) {
          expect(answer.body.code).toBe('chunk_busy')
          expect(answer.headers['retry-after']).toBe('1') // seconds: ChunkBusy's short wait
          await sleep(100)
          continue
        }
        expect(answer.status).toBe(200)
        final = answer.body
        break
      }
    }
    expect(answers.filter((s) => s === 200)).toHaveLength(2)
    expect(final).toEqual({ status: 'complete', reference: idOf('admin', file) })
    expect(fileHash(join(dir, 'complete'))).toBe(sha256(file.data))
    expect(server.alive()).toBe(true)
    expectNoInternalErrors(server)
  })
})

describe('the same chunk twice at once', () => {
  test('with different bytes, the stored chunk is exactly one of the two, never a mix', async () => {
    const env = baseEnv()
    const server = await startServer(env)
    const client = await HttpClient.login(server.url, 'admin@example.com')
    const file = fileSpec('twice.bin', 6 * CHUNK, 41)
    const count = countOf(file)
    const dir = stagingOf(env.UPLOAD_DIR, 'admin', file)
    const variants = new Map<number, Buffer[]>()
    const statuses: number[] = []
    for (const n of range(1, 4)) {
      const a = chunkBytes(file, n)
      const b = bytes(a.length, 1000 + n)
      variants.set(n, [a, b])
      // Both bodies trickle in together, so both requests are inside the server at the same time.
      const send = (body: Buffer) => postChunk(client, file, n, { body, slowBody: { pieces: 16, delayMs: 10 } })
      const answers = await Promise.all([send(a), send(b)])
      for (const answer of answers) {
        statuses.push(answer.status)
        expect([200, 503]).toContain(answer.status)
      }
      expect(answers.some((x) => x.status === 200)).toBe(true)
      // The loser retries as Resumable.js would; the chunk is held by then, so its bytes are dropped.
      for (const [i, answer] of answers.entries()) {
        if (answer.status === 503) {
          const retry = await postChunk(client, file, n, { body: [a, b][i] })
          expect(retry.status).toBe(200)
        }
      }
      await until('locks to go', () => locksIn(dir).length === 0)
    }
    const rest = await resumableUpload(client, file, { chunks: range(5, count) })
    const reference = referenceOf(rest)
    const complete = readFileSync(join(dir, 'complete'))
    const expected: Buffer[] = []
    for (const n of range(1, count)) {
      const stored = complete.subarray((n - 1) * CHUNK, n * CHUNK)
      const [a, b] = variants.get(n) ?? [chunkBytes(file, n), chunkBytes(file, n)]
      const which = stored.equals(a) ? a : stored.equals(b) ? b : null
      expect(which).not.toBeNull()
      expected.push(which!)
    }
    console.log(`same chunk twice: answers ${statuses.join(',')}`)
    // Save and compare the saved file with the composition of the winners.
    const params = savedRecord(await saveDocument(client, 'mixed?', reference))
    expect(fileHash(join(env.UPLOAD_DIR, params.filePath))).toBe(sha256(Buffer.concat(expected)))
    expectNoInternalErrors(server)
  })
})

/** Mounts a tmpfs; false (with a loud warning, or an error under CI=true) when this environment forbids it. */
function mountTmpfs(dir: string, size: string): boolean {
  mkdirSync(dir, { recursive: true })
  const result = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { encoding: 'utf8' })
  if (result.status !== 0) {
    const message = `cannot mount a tmpfs here (${result.stderr?.trim() || result.error}): real ENOSPC/EROFS faults cannot be tested`
    if (REQUIRED) throw new Error(`${message} (CI=true requires it)`)
    console.warn(`\n!!! ${message}; falling back to an INJECTED fault (a preload that fails the server's writes)\n`)
    return false
  }
  mounts.push(dir)
  return true
}

/** Fills the file system of `dir` until ENOSPC; returns the filler's path. */
function fillUp(dir: string): string {
  const path = join(dir, `filler-${Math.random().toString(36).slice(2)}`)
  const fd = openSync(path, 'w')
  const block = Buffer.alloc(4 * KiB, 7)
  try {
    for (;;) writeSync(fd, block)
  } catch (error) {
    expect((error as NodeJS.ErrnoException).code).toBe('ENOSPC')
  } finally {
    closeSync(fd)
  }
  return path
}

interface Fault {
  /** 'real' (tmpfs full / remounted read-only) or 'INJECTED' (fallback when mount is forbidden). */
  kind: 'real' | 'INJECTED'
  env: Record<string, string>
  on(): void
  off(): void
}

/**
 * The labelled fallback when no tmpfs can be mounted: a preload module (written here, loaded with
 * --import) makes the server's FileHandle writes fail with `code` while a trigger file exists.
 * Whole-file writes (`fs.promises.writeFile(path)`) are not covered by it.
 */
function injectedFault(code: 'ENOSPC' | 'EROFS'): Fault {
  const preload = join(work, 'inject-fault.mjs')
  const trigger = join(work, 'fault-on')
  writeFileSync(preload, `
import { existsSync } from 'node:fs'
import { open } from 'node:fs/promises'
const handle = await open(${JSON.stringify(preload)}, 'r')
const proto = Object.getPrototypeOf(handle)
await handle.close()
for (const name of ['write', 'writev', 'writeFile', 'truncate']) {
  const original = proto[name]
  proto[name] = function (...args) {
    if (existsSync(${JSON.stringify(trigger)})) return Promise.reject(Object.assign(new Error('INJECTED ${code}'), { code: '${code}' }))
    return original.apply(this, args)
  }
}
`)
  return {
    kind: 'INJECTED',
    env: { NODE_OPTIONS: `--import ${preload}` },
    on: () => writeFileSync(trigger, ''),
    off: () => rmSync(trigger, { force: true }),
  }
}

describe('real write failures', () => {
  test('ENOSPC on a tiny tmpfs: 507 JSON, chunk not held, no completion; after freeing space the retries succeed byte-identically', async () => {
    const uploads = join(work, 'uploads')
    let fault: Fault
    if (mountTmpfs(uploads, '2m')) {
      let filler = ''
      fault = { kind: 'real', env: {}, on: () => { filler = fillUp(uploads) }, off: () => rmSync(filler) }
    } else {
      fault = injectedFault('ENOSPC')
    }
    const env = baseEnv(fault.env)
    const server = await startServer(env)
    const client = await HttpClient.login(server.url, 'admin@example.com')
    const file = fileSpec('full disk.bin', 4 * CHUNK, 51)
    const dir = stagingOf(uploads, 'admin', file)

    expect((await postChunk(client, file, 1)).status).toBe(200)
    fault.on()
    const failed = await postChunk(client, file, 2)
    expect({ kind: fault.kind, status: failed.status, code: failed.body?.code }).toEqual({ kind: fault.kind, status: 507, code: 'storage_failure' })
    expect(failed.headers['content-type']).toMatch(/json/)
    expect((await testChunk(client, file, 2)).status).toBe(204)
    expect(heldOnDisk(dir)).toEqual([1])
    expect(existsSync(join(dir, 'complete'))).toBe(false)
    expect(locksIn(dir)).toEqual([])

    // A brand-new upload cannot even start on the full disk, and leaves nothing behind.
    const other = fileSpec('second.bin', 2 * CHUNK, 52)
    const refused = await postChunk(client, other, 1)
    expect({ status: refused.status, code: refused.body?.code }).toEqual({ status: 507, code: 'storage_failure' })
    expect(readdirSync(join(uploads, '.staging')).filter((n) => n !== dir.split('/').pop())).toEqual([])

    fault.off()
    const rest = await resumableUpload(client, file, { retryIntervalMs: 50 })
    const reference = referenceOf(rest)
    expect(fileHash(join(dir, 'complete'))).toBe(sha256(file.data))

    let second: UploadRun
    if (fault.kind === 'real') {
      // Full again, then the file system grows (remount larger): the second upload's retries succeed.
      fault.on()
      const stillFull = await postChunk(client, other, 1)
      expect(stillFull.status).toBe(507)
      execFileSync('mount', ['-o', 'remount,size=16m', uploads])
      second = await resumableUpload(client, other)
      fault.off()
    } else {
      second = await resumableUpload(client, other)
    }
    expect(fileHash(join(stagingOf(uploads, 'admin', other), 'complete'))).toBe(sha256(other.data))

    await saveAndVerify(server, client, 'disk was full', reference, file)
    await saveAndVerify(server, client, 'disk grew', referenceOf(second), other)
    expectNoInternalErrors(server)
  })

  test('a read-only file system (remount ro, since root ignores chmod): 507 JSON and nothing held; after remount rw the upload finishes', async () => {
    const uploads = join(work, 'uploads')
    let fault: Fault
    if (mountTmpfs(uploads, '16m')) {
      fault = {
        kind: 'real',
        env: {},
        on: () => execFileSync('mount', ['-o', 'remount,ro', uploads]),
        off: () => execFileSync('mount', ['-o', 'remount,rw', uploads]),
      }
    } else {
      fault = injectedFault('EROFS')
    }
    const env = baseEnv(fault.env)
    const server = await startServer(env)
    const client = await HttpClient.login(server.url, 'admin@example.com')
    const file = fileSpec('readonly.bin', 4 * CHUNK, 61)
    const dir = stagingOf(uploads, 'admin', file)
    expect((await postChunk(client, file, 1)).status).toBe(200)

    fault.on()
    const failed = await postChunk(client, file, 2)
    expect({ kind: fault.kind, status: failed.status, code: failed.body?.code }).toEqual({ kind: fault.kind, status: 507, code: 'storage_failure' })
    const test2 = await testChunk(client, file, 2)
    expect(test2.status).toBe(204)
    expect(heldOnDisk(dir)).toEqual([1])
    const fresh = await postChunk(client, fileSpec('new-on-ro.bin', CHUNK, 62), 1)
    expect(fresh.status).toBe(507)

    fault.off()
    const rest = await resumableUpload(client, file)
    expect(rest.failure).toBeNull()
    const reference = referenceOf(rest)
    expect(fileHash(join(dir, 'complete'))).toBe(sha256(file.data))
    await saveAndVerify(server, client, 'was read-only', reference, file)
    expectNoInternalErrors(server)
  })
})

describe('two app processes sharing one database and one UPLOAD_DIR', () => {
  test('chunks alternate between them, the last ones reach both at once: assembled once, byte-identical, one record', async () => {
    let databaseEnv: Record<string, string>
    const url = freshPostgresDatabase()
    if (url) {
      databaseEnv = { DATABASE_URL: url }
    } else {
      console.warn('\n!!! two-process test falls back to one shared SQLite file (PostgreSQL missing)\n')
      databaseEnv = { DATABASE_FILE: join(work, 'shared.sqlite') }
    }
    const env = { ...baseEnv(), ...databaseEnv }
    if (url) delete (env as Record<string, string>).DATABASE_FILE
    const a = await startServer(env)
    const b = await startServer(env)
    // One login, at A: the session lives in the shared database, so B knows the cookie too.
    const atA = await HttpClient.login(a.url, 'admin@example.com')
    const atB = new HttpClient(b.url)
    atB.cookie = atA.cookie

    const files = [fileSpec('shared-1.bin', 8 * CHUNK + 99, 71), fileSpec('shared-2.bin', 5 * CHUNK, 72), fileSpec('shared-3.bin', 3 * CHUNK + 1, 73)]
    const references: string[] = []
    for (const file of files) {
      const count = countOf(file)
      const dir = stagingOf(env.UPLOAD_DIR, 'admin', file)
      const run = await resumableUpload(atA, file, { chunks: range(1, count - 2), route: (n) => (n % 2 ? atA : atB) })
      expect(run.done).toBe(true)
      // The last two chunks, each sent to both processes at the same moment (4 requests).
      const burst = [count - 1, count].flatMap((n) => [atA, atB].map((c) => (async () => {
        for (let attempt = 0; ; attempt++) {
          const answer = await postChunk(c, file, n)
          if (answer.status !== 503 || attempt > 50) return answer
          await sleep(50)
        }
      })()))
      const answers = await Promise.all(burst)
      expect(answers.map((x) => x.status)).toEqual([200, 200, 200, 200])
      const completing = answers.filter((x) => x.body.status === 'complete').map((x) => x.body.reference)
      expect(completing.length).toBeGreaterThanOrEqual(1)
      expect(new Set(completing)).toEqual(new Set([idOf('admin', file)]))
      // Exactly one finished file, no staging data left, no locks, and it is the source.
      expect(readdirSync(dir).sort()).toEqual(['complete', 'completion.json', 'manifest.json', 'received'])
      expect(fileHash(join(dir, 'complete'))).toBe(sha256(file.data))
      references.push(completing[0])
    }
    const before = await countDocuments(atB)
    const params = savedRecord(await saveDocument(atB, 'two processes', references[0]))
    expect(fileHash(join(env.UPLOAD_DIR, params.filePath))).toBe(sha256(files[0].data))
    // The reference is consumed: saving it again at the other process creates nothing.
    const twice = await saveDocument(atA, 'two processes again', references[0])
    expect(() => savedRecord(twice)).toThrow()
    expect(await countDocuments(atA)).toBe(before + 1)
    expect(sha256(await downloadBytes(atA, params.id))).toBe(sha256(files[0].data))
    expectNoInternalErrors(a)
    expectNoInternalErrors(b)
  })
})

describe('session expiring mid-upload', () => {
  /** Deletes every session row (what an expiry sweep or a logout elsewhere does); returns how many. */
  async function deleteSessions(databaseFile: string): Promise<number> {
    const db = new Sequelize({ dialect: 'sqlite', storage: databaseFile, logging: false })
    try {
      const count = async () => Number(((await db.query('SELECT count(*) AS n FROM "Sessions"'))[0][0] as { n: number }).n)
      const before = await count()
      await db.query('DELETE FROM "Sessions"')
      expect(await count()).toBe(0)
      return before
    } finally {
      await db.close()
    }
  }

  test('chunks get 401 JSON once the session row is gone; after logging in again the upload resumes where it stopped', async () => {
    // Without the session read cache a deleted row is seen by the very next request; with it, within
    // SESSION_CACHE_MS (test/session-cache.test.ts covers that delay).
    const env = baseEnv({ SESSION_CACHE_MS: '0' })
    const server = await startServer(env)
    const client = await HttpClient.login(server.url, 'admin@example.com')
    const oldCookie = client.cookie
    const file = fileSpec('session.bin', 12 * CHUNK, 81)
    const dir = stagingOf(env.UPLOAD_DIR, 'admin', file)
    let deleted: Promise<number> | null = null
    const first = await resumableUpload(client, file, {
      simultaneous: 1,
      onAnswer: ({ kind, answer, run }) => {
        if (!deleted && kind === 'post' && answer.status === 200 && okChunks(run.posted).length === 5) {
          deleted = deleteSessions(env.DATABASE_FILE)
        }
      },
    })
    expect(await deleted).toBe(1)
    expect(first.failure?.status).toBe(401)
    expect(first.failure?.body).toMatchObject({ status: 'error', code: 'not_authenticated' })
    const held = heldOnDisk(dir)
    expect(held.length).toBeGreaterThanOrEqual(5)
    expect(held.length).toBeLessThan(countOf(file))
    const stale = await testChunk(client, file, 1)
    expect(stale.status).toBe(401) // JSON, never a redirect to the login page
    expect(stale.body?.code).toBe('not_authenticated')

    await client.login('admin@example.com')
    expect(client.cookie).not.toBe(oldCookie)
    const second = await resumableUpload(client, file)
    const reference = referenceOf(second)
    expect(okChunks(second.tested)).toEqual(held)
    expect([...second.posted.keys()].sort((a, b) => a - b)).toEqual(range(1, countOf(file)).filter((n) => !held.includes(n)))
    await saveAndVerify(server, client, 'logged in twice', reference, file)
    expectNoInternalErrors(server)
  })

  test('with SESSION_MAX_AGE_MS small, an active session slides but an idle one is refused by the server (401, even if the cookie is replayed); a new login resumes', async () => {
    const env = baseEnv({ SESSION_MAX_AGE_MS: '3000' })
    const server = await startServer(env)
    const client = await HttpClient.login(server.url, 'admin@example.com')
    const file = fileSpec('idle.bin', 4 * CHUNK, 82)
    // Active use keeps the session alive past SESSION_MAX_AGE_MS since login (expiry slides).
    for (const n of [1, 2]) {
      await sleep(2000)
      expect((await postChunk(client, file, n)).status).toBe(200)
    }
    await sleep(4500) // idle for longer than SESSION_MAX_AGE_MS (each request slides the expiry)
    // A browser would drop the cookie itself; the server must not accept it either when replayed.
    const late = await postChunk(client, file, 3)
    expect(late.status).toBe(401)
    await client.login('admin@example.com')
    const rest = await resumableUpload(client, file)
    expect(okChunks(rest.tested)).toEqual([1, 2])
    await saveAndVerify(server, client, 'idle', referenceOf(rest), file)
  })
})

