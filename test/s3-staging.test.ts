/**
 * The S3 staging store beyond the shared contract: several app hosts on one database and one bucket
 * (exactly one CreateMultipartUpload and one CompleteMultipartUpload, counted on the wire), hosts
 * that die holding a claim, and real 5 MiB parts. Real s3rver, real SQLite and PostgreSQL.
 */
import { readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { PassThrough } from 'node:stream'
import { afterAll, afterEach, beforeAll, describe, expect, test } from '@jest/globals'
import { ChunkBusy, TooManyUploads } from '../src/errors.js'
import type { S3Storage } from '../src/store/s3/index.js'
import { S3Staging } from '../src/store/s3/staging.js'
import type { SharedTables } from '../src/store/shared-state/models.js'
import { completeMultipart } from '../src/store/s3/multipart.js'
import { MiB } from '../src/store/s3-part-limits.js'
import { chunkOf, manifestFor, readAll, sliceOf } from './staging-contract.js'
import { bytes, sha256 } from './support/resumable-client.js'
import { countCommands, openHosts, type Dialect } from './support/s3-storage.js'
import { s3rverInstalled, startS3rver, type S3Server } from './support/s3rver.js'
import { freshPostgresDatabase } from './support/services.js'

const postgres = freshPostgresDatabase()
const dialects: Dialect[] = postgres ? ['sqlite', 'postgres'] : ['sqlite']
const installed = s3rverInstalled()

let server: S3Server
beforeAll(async () => {
  if (installed) server = (await startS3rver())!
})
afterAll(async () => {
  await server?.destroy()
})

/** The staged object's bytes, read back through a committed copy. */
async function committedBytes(host: S3Storage, id: string): Promise<Buffer> {
  const finished = await host.staging.finished(id)
  if (!finished) throw new Error('not complete')
  const key = `check/${id}.bin`
  if (!(await host.files.place(finished, key))) throw new Error(`${key} is taken`)
  return readAll(host.files.read(key))
}

const suite = installed ? describe : describe.skip

for (const dialect of dialects) {
  suite(`S3 staging across hosts (s3rver, ${dialect})`, () => {
    let cleanup: () => Promise<void> = async () => undefined
    afterEach(async () => {
      await cleanup()
    })

    async function hosts(count: number, timings = {}): Promise<S3Storage[]> {
      const opened = await openHosts(server, dialect, postgres, count, { timings })
      cleanup = opened.cleanup
      return opened.hosts
    }

    test('5 MiB parts alternating between two hosts, the last two sent to both at once: one Create, one Complete, one byte-identical object', async () => {
      const [a, b] = await hosts(2)
      const calls = [countCommands(a), countCommands(b)]
      const data = bytes(4 * 5 * MiB + 12_345, 1)
      const candidate = manifestFor(data, {}, 5 * MiB)
      expect(candidate.chunkCount).toBe(4)
      // Both hosts open at once: one manifest wins, and both hosts return that one.
      const opened = await Promise.all([a.staging.open(candidate), b.staging.open({ ...candidate, filename: 'other.bin' })])
      expect(opened[0]).toEqual(opened[1])
      const m = opened[0]
      expect(await a.staging.writeChunk(m, chunkOf(m, data, 1))).toEqual({ complete: false, written: true })
      expect(await b.staging.writeChunk(m, chunkOf(m, data, 2))).toEqual({ complete: false, written: true })
      const last = await Promise.allSettled([3, 4].flatMap((n) => [a, b].map((host) => host.staging.writeChunk(m, chunkOf(m, data, n)))))
      for (const o of last) if (o.status === 'rejected') expect(o.reason).toBeInstanceOf(ChunkBusy)
      const answers = last.flatMap((o) => (o.status === 'fulfilled' ? [o.value] : []))
      expect(answers.filter((r) => r.written)).toHaveLength(2)
      expect(answers.some((r) => r.complete)).toBe(true)
      for (const host of [a, b]) expect(await host.staging.state(m.id)).toBe('complete')
      const total = (name: string) => calls.reduce((sum, c) => sum + (c.get(name) ?? 0), 0)
      expect(total('CreateMultipartUploadCommand')).toBe(1)
      expect(total('CompleteMultipartUploadCommand')).toBe(1)
      expect(total('UploadPartCommand')).toBe(4)
      expect(sha256(await committedBytes(b, m.id))).toBe(sha256(data))
    })

    test('10 requests on two hosts racing for the first chunk: one CreateMultipartUpload, one part', async () => {
      const [a, b] = await hosts(2)
      const calls = [countCommands(a), countCommands(b)]
      const data = bytes(3 * 1024, 2)
      const m = manifestFor(data)
      await a.staging.open(m)
      const outcomes = await Promise.allSettled(Array.from({ length: 10 }, (_, i) => (i % 2 ? a : b).staging.writeChunk(m, chunkOf(m, data, 1))))
      for (const o of outcomes) if (o.status === 'rejected') expect(o.reason).toBeInstanceOf(ChunkBusy)
      expect(outcomes.filter((o) => o.status === 'fulfilled' && o.value.written)).toHaveLength(1)
      expect(calls.reduce((sum, c) => sum + (c.get('CreateMultipartUploadCommand') ?? 0), 0)).toBe(1)
      await writeParts(b, m, data, [2, 3])
      expect(sha256(await committedBytes(a, m.id))).toBe(sha256(data))
    })

    test('a host that died while completing: after the stale time another host completes the upload', async () => {
      const [a, b] = await hosts(2, { completionStaleMs: 5_000 })
      const data = bytes(3 * 1024 + 5, 3)
      const m = await a.staging.open(manifestFor(data))
      await writeParts(a, m, data, [1, 2])
      // Host A wins `open → completing` (its last chunk held) and dies before CompleteMultipartUpload.
      const stamp = await a.staging.deps.uploads.beginCompleting(m.id, Date.now() - 60_000, 5_000)
      expect(stamp).not.toBeNull()
      await a.staging.deps.parts.claim(m.id, 3, 'dead', Date.now(), 60_000)
      await a.staging.deps.parts.markHeld(m.id, 3, 'dead', (await etagOf(a, m, data, 3)), 1029)
      expect(await b.staging.state(m.id)).toBe('partial')
      expect(await b.staging.finishIfReady(m)).toBe(true)
      expect(await a.staging.state(m.id)).toBe('complete')
      expect(sha256(await committedBytes(b, m.id))).toBe(sha256(data))
    })

    test('a host that died after CompleteMultipartUpload but before recording it: the taker-over sees the object and marks complete', async () => {
      const [a, b] = await hosts(2, { completionStaleMs: 5_000 })
      const calls = countCommands(b)
      const data = bytes(2 * 1024 + 9, 4)
      const m = await a.staging.open(manifestFor(data))
      await writeParts(a, m, data, [1])
      await a.staging.deps.parts.claim(m.id, 2, 'dead', Date.now(), 60_000)
      await a.staging.deps.parts.markHeld(m.id, 2, 'dead', await etagOf(a, m, data, 2), 1024 + 9)
      expect(await a.staging.deps.uploads.beginCompleting(m.id, Date.now() - 60_000, 5_000)).not.toBeNull()
      const row = (await a.staging.deps.uploads.find(m.id))!
      const parts = await a.staging.deps.parts.held(m.id)
      await completeMultipart(a.clients, a.staging.deps.where, row.objectKey, row.s3UploadId!, parts)
      // s3rver answers the second Complete with 500; the object with the file's size settles it.
      expect(await b.staging.finishIfReady(m)).toBe(true)
      expect(calls.get('CompleteMultipartUploadCommand')).toBe(1)
      expect(calls.get('HeadObjectCommand')).toBe(1)
      expect(sha256(await committedBytes(b, m.id))).toBe(sha256(data))
    })

    test('a part claim is exclusive while its lease runs, and taken over once the claiming host is gone', async () => {
      const [a, b] = await hosts(2, { partLeaseMs: 10_000 })
      const data = bytes(2 * 1024, 5)
      const m = await a.staging.open(manifestFor(data))
      await a.staging.deps.parts.claim(m.id, 1, 'alive', Date.now(), 10_000)
      await expect(b.staging.writeChunk(m, chunkOf(m, data, 1))).rejects.toBeInstanceOf(ChunkBusy)
      expect(await b.staging.chunkState(m.id, 1)).toBe('missing')
      // The same claim, as if its host stopped renewing it 20 s ago.
      await a.staging.deps.parts.release(m.id, 1, 'alive')
      await a.staging.deps.parts.claim(m.id, 1, 'dead', Date.now() - 20_000, 10_000)
      expect(await b.staging.writeChunk(m, chunkOf(m, data, 1))).toEqual({ complete: false, written: true })
      // The dead host coming back cannot mark its part over the taker's.
      expect(await a.staging.deps.parts.markHeld(m.id, 1, 'dead', '"bogus"', 1024)).toBe(false)
      expect((await b.staging.writeChunk(m, chunkOf(m, data, 2))).complete).toBe(true)
      expect(sha256(await committedBytes(a, m.id))).toBe(sha256(data))
    })

    test('a CreateMultipartUpload claim: others wait and get ChunkBusy while it is fresh, and take it over once stale', async () => {
      const [a, b] = await hosts(2, { createLeaseMs: 400 })
      const calls = countCommands(b)
      const data = bytes(1024, 6)
      const m = await a.staging.open(manifestFor(data))
      expect(await a.staging.deps.uploads.claimCreate(m.id, Date.now() + 60_000, 400)).toBe(true)
      await expect(b.staging.writeChunk(m, chunkOf(m, data, 1))).rejects.toBeInstanceOf(ChunkBusy)
      expect(calls.get('CreateMultipartUploadCommand') ?? 0).toBe(0)
      await a.staging.deps.uploads.releaseCreate(m.id, (await a.staging.deps.uploads.find(m.id))!.createClaimedAt!)
      expect(await a.staging.deps.uploads.claimCreate(m.id, Date.now() - 10_000, 400)).toBe(true)
      expect(await b.staging.writeChunk(m, chunkOf(m, data, 1))).toEqual({ complete: true, written: true })
      expect(calls.get('CreateMultipartUploadCommand')).toBe(1)
      expect(sha256(await committedBytes(a, m.id))).toBe(sha256(data))
    })

    test('a removal interrupted after its abort mark is finished by the sweep (or by the next open), and the upload starts afresh', async () => {
      const [a] = await hosts(1)
      const data = bytes(2 * 1024, 12)
      const m = await a.staging.open(manifestFor(data))
      await a.staging.writeChunk(m, chunkOf(m, data, 1))
      // The removing host marked the row and died before aborting the multipart upload.
      expect(await a.staging.deps.uploads.transition(m.id, ['open'], 'aborted', Date.now() - 3_600_000)).toBe(true)
      expect(await a.staging.state(m.id)).toBe('missing')
      expect(await a.staging.chunkState(m.id, 1)).toBe('no-upload')
      const swept = await a.staging.sweep(24 * 3_600_000)
      expect(swept).toEqual({ expired: [], removedLeftovers: 1 })
      expect(await a.staging.deps.uploads.find(m.id)).toBeNull()
      expect(await a.staging.deps.parts.heldCount(m.id)).toBe(0)

      const again = await a.staging.open(m)
      await a.staging.writeChunk(again, chunkOf(again, data, 1))
      expect(await a.staging.deps.uploads.transition(m.id, ['open'], 'aborted', Date.now())).toBe(true)
      expect(await a.staging.open(m)).toEqual(m)
      expect(await a.staging.chunkState(m.id, 1)).toBe('missing')
      await writeParts(a, m, data, [1, 2])
      expect(sha256(await committedBytes(a, m.id))).toBe(sha256(data))
    })

    test('a part streams into the object store while its chunk is still arriving: no local file, no whole chunk in memory', async () => {
      const [a] = await hosts(1)
      const data = bytes(2 * 5 * MiB, 14)
      const m = await a.staging.open(manifestFor(data, {}, 5 * MiB))
      const slice = sliceOf(m, data, 1)
      const body = new PassThrough()
      const pending = a.staging.writeChunk(m, chunkOf(m, data, 1, body))
      body.write(slice.subarray(0, 3 * MiB))
      // s3rver writes what it receives to <dir>/.../<UploadId>/<partNumber>: 2 MiB of it must be
      // there while the request body is still open.
      const s3UploadId = await until(async () => (await a.staging.deps.uploads.find(m.id))?.s3UploadId ?? null)
      await until(async () => ((partFileSize(server.dir, s3UploadId, 1) ?? 0) >= 2 * MiB ? true : null))
      expect(await a.staging.chunkState(m.id, 1)).toBe('missing')
      body.end(slice.subarray(3 * MiB))
      expect(await pending).toEqual({ complete: false, written: true })
      expect(partFileSize(server.dir, s3UploadId, 1)).toBe(slice.length)
    })

    test('a writer whose claim was taken over while it streamed stops sending and marks nothing', async () => {
      const [a] = await hosts(1, { partLeaseMs: 3000 })
      const data = bytes(2 * 1024, 15)
      const m = await a.staging.open(manifestFor(data))
      const body = new PassThrough()
      body.on('error', () => undefined)
      const pending = a.staging.writeChunk(m, chunkOf(m, data, 1, body))
      body.write(sliceOf(m, data, 1).subarray(0, 100))
      await until(async () => ((await a.staging.deps.uploads.find(m.id))?.s3UploadId ? true : null))
      // Another host took the part over (as it does once a lease ran out).
      const { Part } = (a.staging.deps.parts as unknown as { tables: SharedTables }).tables
      expect((await Part.update({ token: 'taker' }, { where: { upload_id: m.id, part_number: 1 } }))[0]).toBe(1)
      await expect(pending).rejects.toBeInstanceOf(ChunkBusy)
      expect(await a.staging.chunkState(m.id, 1)).toBe('missing')
    })

    test('the sweep deletes tombstones once they are older than 7 TTLs (as the local store does); younger ones still answer 410', async () => {
      const [a] = await hosts(1)
      const ttl = 60_000
      const data = bytes(2 * 1024, 16)
      const old = await a.staging.open(manifestFor(data))
      await a.staging.writeChunk(old, chunkOf(old, data, 1))
      const expiredAt = Date.now() + ttl + 1
      expect((await a.staging.sweep(ttl, expiredAt)).expired).toEqual([old.id])
      const young = await a.staging.open(manifestFor(data))
      await a.staging.writeChunk(young, chunkOf(young, data, 1))
      expect((await a.staging.sweep(ttl, expiredAt + 3 * ttl)).expired).toEqual([young.id])

      // Just under 7 TTLs: both tombstones stay.
      expect(await a.staging.sweep(ttl, expiredAt + 7 * ttl - 1)).toEqual({ expired: [], removedLeftovers: 0 })
      expect(await a.staging.state(old.id)).toBe('expired')
      // Past 7 TTLs of the first: its row is gone, the younger tombstone stays.
      expect(await a.staging.sweep(ttl, expiredAt + 7 * ttl + 1)).toEqual({ expired: [], removedLeftovers: 1 })
      expect(await a.staging.deps.uploads.find(old.id)).toBeNull()
      expect(await a.staging.state(old.id)).toBe('missing')
      expect(await a.staging.state(young.id)).toBe('expired')
      // The same file can be started afresh, as after any removal.
      const again = await a.staging.open(old)
      expect(await a.staging.writeChunk(again, chunkOf(again, data, 1))).toEqual({ complete: false, written: true })
    })

    test('the count limit holds across hosts whatever their clocks say: a host running 10 s behind cannot slip an upload in ahead of the others', async () => {
      const [a, b] = await hosts(2)
      const behind = new S3Staging({ ...b.staging.deps, now: () => Date.now() - 10_000 })
      const limits = { create: { uploads: 3, bytes: 10 * 1024 } }
      const data = bytes(2 * 1024, 17)
      for (let i = 0; i < 3; i++) {
        const m = manifestFor(data)
        expect(await a.staging.writeChunk(m, chunkOf(m, data, 1), limits)).toEqual({ complete: false, written: true })
      }
      const late = manifestFor(data)
      await expect(behind.writeChunk(late, chunkOf(late, data, 1), limits)).rejects.toBeInstanceOf(TooManyUploads)
      expect(await a.staging.state(late.id)).toBe('missing')
      expect(await a.staging.usage('admin')).toEqual({ uploads: 3, bytes: 3 * data.length })
      // Parallel first chunks on both hosts, clocks apart, against the bytes limit: never past it.
      const more = Array.from({ length: 8 }, () => manifestFor(bytes(1024, 18)))
      const outcomes = await Promise.allSettled(more.map((m, i) => (i % 2 ? behind : a.staging).writeChunk(m, chunkOf(m, bytes(1024, 18), 1), { create: { bytes: 10 * 1024 } })))
      for (const o of outcomes) if (o.status === 'rejected') expect(o.reason).toBeInstanceOf(TooManyUploads)
      expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(4)
      expect(await a.staging.usage('admin')).toEqual({ uploads: 7, bytes: 10 * 1024 })
    })

    test('an owner lock left by a host that died while counting is taken over once its lease ran out', async () => {
      const [a] = await hosts(1, { ownerLockLeaseMs: 400 })
      expect(await a.staging.deps.ownerLocks.acquire('admin', 'dead-host', Date.now(), 400)).toBe(true)
      const data = bytes(2 * 1024, 19)
      const m = manifestFor(data)
      const started = Date.now()
      expect(await a.staging.writeChunk(m, chunkOf(m, data, 1), { create: { uploads: 1 } })).toEqual({ complete: false, written: true })
      expect(Date.now() - started).toBeGreaterThanOrEqual(300)
      // Released after the count: the next first chunk is refused at once for the limit, not kept waiting.
      const next = manifestFor(data)
      await expect(a.staging.writeChunk(next, chunkOf(next, data, 1), { create: { uploads: 1 } })).rejects.toBeInstanceOf(TooManyUploads)
    })

    test('usage counts what one owner has staged', async () => {
      const [a] = await hosts(1)
      const data = bytes(3000, 7)
      await a.staging.open(manifestFor(data, { owner: 'u1' }))
      await a.staging.open(manifestFor(bytes(100, 8), { owner: 'u1' }))
      await a.staging.open(manifestFor(data, { owner: 'u2' }))
      expect(await a.staging.usage('u1')).toEqual({ uploads: 2, bytes: 3100 })
      expect(await a.staging.usage('nobody')).toEqual({ uploads: 0, bytes: 0 })
    })
  })
}

/** Polls `probe` until it gives a value; fails (never hangs) after a generous bound. */
async function until<T>(probe: () => Promise<T | null>): Promise<T> {
  for (let i = 0; i < 1000; i++) {
    const value = await probe()
    if (value !== null) return value
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
  throw new Error('the condition never came true')
}

/** Size of the part file s3rver keeps for an open multipart upload, or null before it exists. */
function partFileSize(dir: string, uploadId: string, partNumber: number): number | null {
  const walk = (folder: string): string | null => {
    for (const entry of readdirSync(folder, { withFileTypes: true })) {
      const path = join(folder, entry.name)
      if (entry.isDirectory()) {
        if (entry.name === uploadId) return join(path, String(partNumber))
        const found = walk(path)
        if (found) return found
      }
    }
    return null
  }
  const file = walk(dir)
  try {
    return file ? statSync(file).size : null
  } catch {
    return null
  }
}

async function writeParts(host: S3Storage, m: ReturnType<typeof manifestFor>, data: Buffer, numbers: number[]): Promise<void> {
  for (const n of numbers) await host.staging.writeChunk(m, chunkOf(m, data, n))
}

/** Uploads chunk `n` as its part directly (the dead host's part), returning its ETag. */
async function etagOf(host: S3Storage, m: ReturnType<typeof manifestFor>, data: Buffer, n: number): Promise<string> {
  const { uploadPart } = await import('../src/store/s3/multipart.js')
  const row = (await host.staging.deps.uploads.find(m.id))!
  if (!row.s3UploadId) throw new Error('write a chunk first: the multipart upload is created with the first one')
  const chunk = chunkOf(m, data, n)
  return uploadPart(host.clients, host.staging.deps.where, row.objectKey, row.s3UploadId, { partNumber: n, length: chunk.length, body: chunk.body })
}
