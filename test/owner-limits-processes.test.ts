/**
 * An admin's upload limit held across processes: two app processes (example-app/server.js, which
 * runs the compiled lib/: `npm run build` first) share one database (so one session cookie works at
 * both) and one UPLOAD_DIR (so one local staging folder). First chunks of many new files, sent to
 * both at once, must never create more uploads than the limit, whichever process they reach.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, beforeEach, expect, jest, test } from '@jest/globals'
import { uploadId } from '../src/protocol/scope.js'
import { HttpClient, postChunk, startServer, stopAllServers, type HttpAnswer } from './support/processes.js'
import { bytes, type FileSpec } from './support/resumable-client.js'

jest.setTimeout(180_000)

const CHUNK = 64 * 1024
const LIMIT = 3
const FIRST_CHUNKS = 20
const ROUNDS = 4
const ID = /^[a-f0-9]{40}$/

let work: string

beforeEach(() => {
  work = mkdtempSync(join(tmpdir(), 'adminjs-resumable-owner-limits-'))
})

afterEach(async () => {
  await stopAllServers()
  rmSync(work, { recursive: true, force: true })
})

afterAll(async () => {
  await stopAllServers()
})

function fileSpec(name: string, seed: number): FileSpec {
  const size = 2 * CHUNK + 17
  return { identifier: `${size}-${name.replace(/[^0-9A-Za-z_-]/g, '')}`, filename: name, data: bytes(size, seed), chunkSize: CHUNK }
}

/** Posts the first chunk; a 503 (busy, retryable) is retried as Resumable.js does. */
async function firstChunk(client: HttpClient, file: FileSpec): Promise<HttpAnswer> {
  for (let attempt = 0; ; attempt++) {
    const answer = await postChunk(client, file, 1)
    if (answer.status !== 503 || attempt >= 20) return answer
    await new Promise((done) => setTimeout(done, 100))
  }
}

test(`limit ${LIMIT}, ${FIRST_CHUNKS} first chunks at once across two processes: exactly ${LIMIT} uploads are created, every other one gets 429, nothing is left reserved (${ROUNDS} rounds)`, async () => {
  const env = {
    UPLOAD_DIR: join(work, 'uploads'),
    DATABASE_FILE: join(work, 'shared.sqlite'),
    CHUNK_SIZE: String(CHUNK),
    UPLOADS_PER_ADMIN: String(LIMIT),
  }
  const a = await startServer(env)
  const b = await startServer(env)
  // One login, at A: the session lives in the shared database, so B knows the cookie too.
  const atA = await HttpClient.login(a.url, 'admin@example.com')
  const atB = new HttpClient(b.url)
  atB.cookie = atA.cookie
  const staging = join(env.UPLOAD_DIR, '.staging')

  for (let round = 0; round < ROUNDS; round++) {
    const files = Array.from({ length: FIRST_CHUNKS }, (_, i) => fileSpec(`round-${round}-file-${i}.bin`, round * 100 + i))
    const answers = await Promise.all(files.map((file, i) => firstChunk(i % 2 ? atB : atA, file)))

    const statuses = answers.map((answer) => answer.status)
    expect(statuses.filter((s) => s === 200)).toHaveLength(LIMIT)
    expect(statuses.filter((s) => s === 429)).toHaveLength(FIRST_CHUNKS - LIMIT)
    for (const refused of answers.filter((answer) => answer.status === 429)) {
      expect(refused.body).toMatchObject({ status: 'error', code: 'too_many_uploads' })
      // The count the admin is told is the real one, whichever process answered.
      expect(refused.body.message).toMatch(new RegExp(`You have ${LIMIT} unfinished uploads`))
    }

    // On disk: exactly the accepted uploads, and no reservation or owner lock left behind.
    const accepted = files.filter((_, i) => answers[i].status === 200)
      .map((file) => uploadId({ owner: 'admin', resourceId: 'Document', propertyPath: 'file' }, file.identifier))
    const entries = readdirSync(staging)
    expect(entries.filter((name) => ID.test(name)).sort()).toEqual(accepted.sort())
    expect(entries.filter((name) => name.startsWith('.'))).toEqual([])

    // Cancelled by hand (as if saved): the next round starts from an empty staging folder.
    for (const id of accepted) rmSync(join(staging, id), { recursive: true, force: true })
  }
  expect(a.output()).not.toMatch(/unexpected error/)
  expect(b.output()).not.toMatch(/unexpected error/)
})
