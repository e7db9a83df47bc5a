/**
 * Load: 5 admin sessions (admin logged in 3 times, editor twice: two distinct owners)
 * upload 20 files of 3 MiB at once, 256 KiB chunks, 3 chunks in flight per file (60 requests in
 * flight), through the chunk route of the example app in a CHILD process (compiled lib/: run
 * `npm run build` first). Admin's and editor's files share names, sizes and thus Resumable.js
 * identifiers, so only the per-owner scoping keeps them apart.
 *
 * Checks: every file is byte-identical after Save, no record got another file, and the server's
 * RSS (sampled from /proc/<pid>/status) stays under a generous bound. Numbers are printed; nothing
 * about speed is asserted.
 */
import { afterAll, afterEach, expect, jest, test } from '@jest/globals'
import { createHash } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import http from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  HttpClient, referenceOf, resumableUpload, saveDocument, savedRecord, startServer, stopAllServers,
} from './support/processes.js'
import { bytes, sha256, type FileSpec } from './support/resumable-client.js'

jest.setTimeout(300_000)

const KiB = 1024
const MiB = 1024 * KiB
const CHUNK = 256 * KiB
const SIZE = 3 * MiB
const FILES_PER_SESSION = 4
const RSS_BOUND_KIB = 400 * 1024

let work = ''
afterEach(async () => {
  await stopAllServers()
  if (work) rmSync(work, { recursive: true, force: true })
})
afterAll(stopAllServers)

function download(client: HttpClient, id: string): Promise<Buffer> {
  return new Promise<Buffer>((done, fail) => {
    http.get(new URL(`/admin/api/resumable/Document/file/download/${id}`, client.base), { headers: { Cookie: client.cookie ?? '' }, agent: false }, (res) => {
      const parts: Buffer[] = []
      res.on('data', (d: Buffer) => parts.push(d))
      res.on('end', () => (res.statusCode === 200 ? done(Buffer.concat(parts)) : fail(new Error(`download ${id}: ${res.statusCode}`))))
    }).on('error', fail)
  })
}

test('5 sessions of 2 owners upload 20 files at once: all byte-identical after Save, none mixed up, RSS bounded', async () => {
  work = mkdtempSync(join(tmpdir(), 'adminjs-resumable-load-'))
  const env = { UPLOAD_DIR: join(work, 'uploads'), DATABASE_FILE: join(work, 'db.sqlite'), CHUNK_SIZE: String(CHUNK) }
  const server = await startServer(env)
  const owners = ['admin', 'admin', 'admin', 'editor', 'editor']
  const sessions = await Promise.all(owners.map((owner) => HttpClient.login(server.url, `${owner}@example.com`)))
  expect(new Set(sessions.map((s) => s.cookie)).size).toBe(5)

  interface Job { session: number; owner: string; file: FileSpec; hash: string }
  const jobs: Job[] = []
  owners.forEach((owner, session) => {
    const nth = owners.slice(0, session).filter((o) => o === owner).length // session index within the owner
    for (let j = 0; j < FILES_PER_SESSION; j++) {
      const name = `doc-${nth}-${j}.bin` // the same names (and identifiers) for admin and editor
      const data = bytes(SIZE, 1000 + session * 10 + j)
      jobs.push({ session, owner, hash: sha256(data), file: { identifier: `${SIZE}-${name.replace(/[^0-9A-Za-z_-]/g, '')}`, filename: name, data, chunkSize: CHUNK } })
    }
  })
  expect(new Set(jobs.map((j) => j.file.identifier)).size).toBeLessThan(jobs.length) // collisions across owners exist

  const samples: number[] = []
  const baseline = server.rssKiB()
  expect(baseline).not.toBeNull()
  const sampler = setInterval(() => {
    const rss = server.rssKiB()
    if (rss !== null) samples.push(rss)
  }, 100)
  let runs
  try {
    runs = await Promise.all(jobs.map((job) => resumableUpload(sessions[job.session], job.file, { simultaneous: 3 })))
  } finally {
    clearInterval(sampler)
  }
  const afterUpload = server.rssKiB()!

  const references = runs.map((run, i) => {
    expect({ file: jobs[i].file.filename, owner: jobs[i].owner, failure: run.failure }).toEqual({ file: jobs[i].file.filename, owner: jobs[i].owner, failure: null })
    return referenceOf(run)
  })
  expect(new Set(references).size).toBe(jobs.length)

  const saved = await Promise.all(jobs.map(async (job, i) => savedRecord(await saveDocument(sessions[job.session], `load ${job.owner} ${job.file.filename} #${i}`, references[i]))))
  expect(new Set(saved.map((p) => p.filePath)).size).toBe(jobs.length)
  for (const [i, params] of saved.entries()) {
    const job = jobs[i]
    expect(params.title).toBe(`load ${job.owner} ${job.file.filename} #${i}`)
    expect(params.fileName).toBe(job.file.filename)
    expect(Number(params.fileSize)).toBe(SIZE)
    const onDisk = createHash('sha256').update(readFileSync(join(env.UPLOAD_DIR, params.filePath))).digest('hex')
    expect({ record: params.id, hash: onDisk }).toEqual({ record: params.id, hash: job.hash })
    expect(sha256(await download(sessions[job.session], String(params.id)))).toBe(job.hash)
  }
  const list = await sessions[0].request('GET', '/admin/api/resources/Document/actions/list?perPage=100')
  expect(list.body.meta.total).toBe(jobs.length)

  const peak = Math.max(...samples)
  const mib = (k: number) => `${(k / 1024).toFixed(1)} MiB`
  console.log(`load: server RSS baseline ${mib(baseline!)}, peak ${mib(peak)} over ${samples.length} samples, `
    + `after uploads ${mib(afterUpload)}, after saves ${mib(server.rssKiB()!)}; `
    + `${jobs.length} files x ${SIZE / MiB} MiB = ${(jobs.length * SIZE) / MiB} MiB through the route`)
  expect(samples.length).toBeGreaterThan(0)
  expect(peak).toBeLessThan(RSS_BOUND_KIB)
  expect(server.output()).not.toMatch(/unexpected error/)
})
