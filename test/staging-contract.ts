/**
 * The contract every StagingStore meets (see src/store/staging.ts), as a reusable suite in the
 * spirit of @tus/server's shared DataStore tests: a new backend (S3, ...) runs
 * `describeStagingStore('S3StagingStore', makeS3Staging)` and gets the same guarantees checked.
 *
 * Everything here goes through the public interface only; implementation-specific checks (folder
 * layout, start-up recovery) live next to the implementation's own tests.
 */
import { randomBytes } from 'node:crypto'
import { PassThrough, Readable } from 'node:stream'
import { afterEach, beforeEach, describe, expect, test } from '@jest/globals'
import { ChunkBusy, InvalidRequest, TooManyUploads, UploadExpired } from '../src/errors.js'
import { chunkCount, chunkLength, chunkOffset } from '../src/shared/arithmetic.js'
import type { StagingStore } from '../src/store/staging.js'
import type { ChunkWrite, UploadManifest, WriteResult } from '../src/store/types.js'
import { bytes, sha256 } from './support/resumable-client.js'
import { describeChunkDigests } from './chunk-digest-contract.js'

export interface StagingUnderTest {
  store: StagingStore
  /** Removes everything the store created. */
  cleanup(): Promise<void>
}

export const CHUNK = 1024

export function newId(): string {
  return randomBytes(20).toString('hex')
}

/** A manifest as the route builds it, for `data` cut in chunks of `chunkSize`. */
export function manifestFor(data: Buffer, overrides: Partial<UploadManifest> = {}, chunkSize = CHUNK): UploadManifest {
  const layout = { totalSize: data.length, chunkSize, forceChunkSize: false }
  return {
    version: 1,
    id: newId(),
    owner: 'admin',
    resourceId: 'Document',
    propertyPath: 'file',
    filename: 'file.bin',
    rawFilenameHash: sha256('file.bin').slice(0, 32),
    type: 'application/octet-stream',
    totalSize: data.length,
    chunkSize,
    forceChunkSize: false,
    chunkCount: chunkCount(layout),
    createdAt: new Date().toISOString(),
    ...overrides,
  }
}

function layoutOf(m: UploadManifest) {
  return { totalSize: m.totalSize, chunkSize: m.chunkSize, forceChunkSize: m.forceChunkSize }
}

export function sliceOf(m: UploadManifest, data: Buffer, n: number): Buffer {
  const start = chunkOffset(layoutOf(m), n)
  return data.subarray(start, start + chunkLength(layoutOf(m), n))
}

/** A ChunkWrite for chunk `n`; `body` replaces the chunk's real bytes (short, long, other bytes). */
export function chunkOf(m: UploadManifest, data: Buffer, n: number, body?: Buffer | Readable): ChunkWrite {
  const payload = body ?? sliceOf(m, data, n)
  const stream = Buffer.isBuffer(payload) ? Readable.from(splitInto(payload, 3)) : payload
  return {
    chunkNumber: n,
    offset: chunkOffset(layoutOf(m), n),
    length: chunkLength(layoutOf(m), n),
    body: stream as ChunkWrite['body'],
  }
}

/** Several pieces, so the store sees a body arrive in parts as it does from a socket. */
function splitInto(buffer: Buffer, parts: number): Buffer[] {
  const size = Math.max(1, Math.ceil(buffer.length / parts))
  const out: Buffer[] = []
  for (let i = 0; i < buffer.length; i += size) out.push(buffer.subarray(i, i + size))
  return out.length ? out : [buffer]
}

export async function readAll(stream: Readable): Promise<Buffer> {
  const pieces: Buffer[] = []
  for await (const piece of stream) pieces.push(piece as Buffer)
  return Buffer.concat(pieces)
}

/** As the route writes: a chunk of an upload that does not exist yet creates it (no limits). */
export const CREATE = { create: {} }

export async function writeAll(store: StagingStore, m: UploadManifest, data: Buffer, numbers?: number[]): Promise<WriteResult[]> {
  const results: WriteResult[] = []
  for (const n of numbers ?? Array.from({ length: m.chunkCount }, (_, i) => i + 1)) {
    results.push(await store.writeChunk(m, chunkOf(m, data, n), CREATE))
  }
  return results
}

export async function isHeld(store: StagingStore, id: string, n: number): Promise<boolean> {
  return (await store.chunkState(id, n)) === 'held'
}

export async function heldChunks(store: StagingStore, m: UploadManifest): Promise<number[]> {
  const held: number[] = []
  for (let n = 1; n <= m.chunkCount; n++) if (await isHeld(store, m.id, n)) held.push(n)
  return held
}

/**
 * Waits until the store has consumed everything written to `body` so far (it is reading the body,
 * which is still open), so that what the test checks next happens mid-chunk for sure.
 */
async function consumed(body: PassThrough): Promise<void> {
  for (let i = 0; i < 1000 && (body.readableLength > 0 || body.writableLength > 0); i++) {
    await new Promise((resolve) => setTimeout(resolve, 2))
  }
  if (body.readableLength > 0 || body.writableLength > 0) throw new Error('the store never read the chunk body')
  // A few more turns so that any write of what was read has been issued.
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setTimeout(resolve, 1))
}

/** The finished upload's bytes, as the store hands them over. */
export async function finishedBytes(store: StagingStore, id: string): Promise<Buffer> {
  const upload = await store.finished(id)
  if (!upload) throw new Error(`upload ${id} is not finished`)
  return readAll(upload.read())
}

export function describeStagingStore(name: string, makeStore: () => Promise<StagingUnderTest>): void {
  describe(`StagingStore contract: ${name}`, () => {
    let subject: StagingUnderTest
    let store: StagingStore

    beforeEach(async () => {
      subject = await makeStore()
      store = subject.store
      await store.init()
    })
    afterEach(async () => {
      await subject.cleanup()
    })

    describeChunkDigests(() => store, { CHUNK, CREATE, manifestFor: (data) => manifestFor(data), chunkOf, sliceOf, finishedBytes })

    describe('creation', () => {
      test('an upload exists once its first chunk is stored; find and get then return the stored manifest, not a later one', async () => {
        const data = bytes(5 * CHUNK + 100, 1)
        const m = manifestFor(data)
        expect(await store.state(m.id)).toBe('missing')
        expect(await store.get(m.id)).toBeNull()
        expect(await store.find(m)).toBeNull()
        expect(await store.chunkState(m.id, 1)).toBe('no-upload')
        expect(await store.writeChunk(m, chunkOf(m, data, 3), CREATE)).toEqual({ complete: false, written: true })
        expect(await store.state(m.id)).toBe('partial')
        expect(await store.get(m.id)).toEqual(m)
        expect(await store.find(m)).toEqual(m)
        expect(await heldChunks(store, m)).toEqual([3])

        // A later request under the same id with other details finds the stored manifest (the route refuses it with 409).
        const later = { ...m, filename: 'other.bin', totalSize: m.totalSize + 1, createdAt: new Date(0).toISOString() }
        expect(await store.find(later)).toEqual(m)
        expect(await store.get(m.id)).toEqual(m)
      })

      test('without `create`, a chunk of an upload that does not exist is refused (UploadExpired) and creates nothing', async () => {
        const data = bytes(2 * CHUNK, 2)
        const m = manifestFor(data)
        await expect(store.writeChunk(m, chunkOf(m, data, 1))).rejects.toBeInstanceOf(UploadExpired)
        expect(await store.state(m.id)).toBe('missing')
      })

      test('10 parallel first chunks of one id (different manifests) leave exactly one upload; every chunk that was accepted is held', async () => {
        const data = bytes(10 * CHUNK, 2)
        const base = manifestFor(data)
        const candidates = Array.from({ length: 10 }, (_, i) => ({ ...base, filename: `f${i}.bin`, createdAt: new Date(1000 * i).toISOString() }))
        const outcomes = await Promise.allSettled(candidates.map((m, i) => store.writeChunk(m, chunkOf(m, data, i + 1), CREATE)))
        for (const o of outcomes) if (o.status === 'rejected') expect(o.reason).toBeInstanceOf(ChunkBusy)
        const stored = await store.get(base.id)
        expect(stored).not.toBeNull()
        expect(candidates).toContainEqual(stored)
        const accepted = outcomes.flatMap((o, i) => (o.status === 'fulfilled' ? [i + 1] : []))
        expect(accepted.length).toBeGreaterThan(0)
        expect(await heldChunks(store, stored!)).toEqual(accepted)
        // The one upload works: every chunk written completes it with the original bytes.
        await writeAll(store, stored!, data)
        expect(await store.state(base.id)).toBe('complete')
        expect(sha256(await finishedBytes(store, base.id))).toBe(sha256(data))
      })

      test('a first chunk that fails (short, long, broken body) leaves no upload behind; a good one then creates it', async () => {
        const data = bytes(3 * CHUNK, 5)
        const m = manifestFor(data)
        await expect(store.writeChunk(m, chunkOf(m, data, 2, sliceOf(m, data, 2).subarray(1)), CREATE)).rejects.toBeInstanceOf(InvalidRequest)
        await expect(store.writeChunk(m, chunkOf(m, data, 2, Buffer.concat([sliceOf(m, data, 2), Buffer.alloc(1)])), CREATE)).rejects.toBeInstanceOf(InvalidRequest)
        const body = new PassThrough()
        body.on('error', () => undefined)
        const pending = store.writeChunk(m, chunkOf(m, data, 2, body), CREATE)
        body.write(sliceOf(m, data, 2).subarray(0, 100))
        await consumed(body)
        body.destroy(new Error('connection reset'))
        await expect(pending).rejects.toThrow()
        expect(await store.state(m.id)).toBe('missing')
        expect(await store.find(m)).toBeNull()
        expect(await store.usage(m.owner)).toEqual({ uploads: 0, bytes: 0 })
        expect(await store.writeChunk(m, chunkOf(m, data, 2), CREATE)).toEqual({ complete: false, written: true })
        expect(await heldChunks(store, m)).toEqual([2])
      })

      test('usage counts what an owner keeps staged (in progress or finished) and its declared bytes; remove frees it', async () => {
        const a = bytes(3 * CHUNK, 6)
        const b = bytes(CHUNK + 7, 7)
        const ma = manifestFor(a)
        const mb = manifestFor(b)
        const other = manifestFor(a, { owner: 'editor' })
        expect(await store.usage('admin')).toEqual({ uploads: 0, bytes: 0 })
        await writeAll(store, ma, a, [1])
        await writeAll(store, mb, b)
        await writeAll(store, other, a, [1])
        expect(await store.usage('admin')).toEqual({ uploads: 2, bytes: a.length + b.length })
        expect(await store.usage('editor')).toEqual({ uploads: 1, bytes: a.length })
        await store.remove(ma.id)
        await store.remove(mb.id, { expired: true })
        expect(await store.usage('admin')).toEqual({ uploads: 0, bytes: 0 })
      })

      test('limits apply when a chunk would create an upload: past the count or the bytes TooManyUploads and nothing created; started uploads go on', async () => {
        const data = bytes(2 * CHUNK, 8)
        const limits = { create: { uploads: 2, bytes: 5 * CHUNK } }
        const [m1, m2, m3] = [manifestFor(data), manifestFor(data), manifestFor(data)]
        expect((await store.writeChunk(m1, chunkOf(m1, data, 1), limits)).written).toBe(true)
        expect((await store.writeChunk(m2, chunkOf(m2, data, 1), limits)).written).toBe(true)
        await expect(store.writeChunk(m3, chunkOf(m3, data, 1), limits)).rejects.toBeInstanceOf(TooManyUploads)
        expect(await store.state(m3.id)).toBe('missing')
        // Started uploads are never refused for the limit, with or without `create`.
        expect(await store.writeChunk(m1, chunkOf(m1, data, 2), limits)).toEqual({ complete: true, written: true })
        expect(await store.writeChunk(m2, chunkOf(m2, data, 2))).toEqual({ complete: true, written: true })
        // Another owner has limits of its own.
        const theirs = manifestFor(data, { owner: 'editor' })
        expect((await store.writeChunk(theirs, chunkOf(theirs, data, 1), limits)).written).toBe(true)
        await store.remove(m1.id)
        // Room for one more upload, but not for its bytes: 2 + 4 chunks > 5.
        const big = bytes(4 * CHUNK, 9)
        const mb = manifestFor(big)
        await expect(store.writeChunk(mb, chunkOf(mb, big, 1), limits)).rejects.toBeInstanceOf(TooManyUploads)
        expect(await store.state(mb.id)).toBe('missing')
        expect((await store.writeChunk(m3, chunkOf(m3, data, 1), limits)).written).toBe(true)
      })

      test('parallel first chunks of one owner never pass the count limit', async () => {
        const data = bytes(2 * CHUNK, 10)
        const ms = Array.from({ length: 6 }, () => manifestFor(data))
        const outcomes = await Promise.allSettled(ms.map((m) => store.writeChunk(m, chunkOf(m, data, 1), { create: { uploads: 3 } })))
        expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(3)
        for (const o of outcomes) if (o.status === 'rejected') expect(o.reason).toBeInstanceOf(TooManyUploads)
        expect(await store.usage('admin')).toEqual({ uploads: 3, bytes: 3 * data.length })
      })

      test('uploads are kept apart', async () => {
        const a = bytes(3 * CHUNK, 3)
        const b = bytes(3 * CHUNK, 4)
        const ma = manifestFor(a)
        const mb = manifestFor(b)
        await writeAll(store, ma, a, [1, 2])
        await writeAll(store, mb, b, [3])
        expect(await heldChunks(store, ma)).toEqual([1, 2])
        expect(await heldChunks(store, mb)).toEqual([3])
      })
    })

    describe('writeChunk', () => {
      test('marks a chunk held only after all of its bytes arrived', async () => {
        const data = bytes(3 * CHUNK, 5)
        const m = manifestFor(data)
        const body = new PassThrough()
        const slice = sliceOf(m, data, 2)
        const pending = store.writeChunk(m, chunkOf(m, data, 2, body), CREATE)
        body.write(slice.subarray(0, slice.length - 1))
        await consumed(body)
        expect(await isHeld(store, m.id, 2)).toBe(false)
        body.end(slice.subarray(slice.length - 1))
        expect(await pending).toEqual({ complete: false, written: true })
        expect(await isHeld(store, m.id, 2)).toBe(true)
        expect(await heldChunks(store, m)).toEqual([2])
      })

      test('chunkState tells a missing chunk from an upload that does not exist', async () => {
        const data = bytes(3 * CHUNK, 55)
        const m = manifestFor(data)
        expect(await store.chunkState(m.id, 1)).toBe('no-upload')
        await store.writeChunk(m, chunkOf(m, data, 1), CREATE)
        expect(await store.chunkState(m.id, 1)).toBe('held')
        expect(await store.chunkState(m.id, 2)).toBe('missing')
        await store.remove(m.id)
        expect(await store.chunkState(m.id, 1)).toBe('no-upload')
      })

      test('a body that fails half way leaves the chunk missing, and a retry then succeeds', async () => {
        const data = bytes(3 * CHUNK, 6)
        const m = manifestFor(data)
        const body = new PassThrough()
        body.on('error', () => undefined)
        const pending = store.writeChunk(m, chunkOf(m, data, 1, body), CREATE)
        body.write(sliceOf(m, data, 1).subarray(0, 100))
        await consumed(body)
        body.destroy(new Error('connection reset'))
        await expect(pending).rejects.toThrow()
        expect(await isHeld(store, m.id, 1)).toBe(false)
        expect(await store.writeChunk(m, chunkOf(m, data, 1), CREATE)).toEqual({ complete: false, written: true })
        expect(await isHeld(store, m.id, 1)).toBe(true)
      })

      test('a short body is refused and leaves the chunk unmarked', async () => {
        const data = bytes(3 * CHUNK, 7)
        const m = manifestFor(data)
        await expect(store.writeChunk(m, chunkOf(m, data, 2, sliceOf(m, data, 2).subarray(1)), CREATE)).rejects.toBeInstanceOf(InvalidRequest)
        await expect(store.writeChunk(m, chunkOf(m, data, 2, Buffer.alloc(0)), CREATE)).rejects.toBeInstanceOf(InvalidRequest)
        expect(await heldChunks(store, m)).toEqual([])
        // The lock (if any) is released: the real bytes go in afterwards.
        expect((await store.writeChunk(m, chunkOf(m, data, 2), CREATE)).written).toBe(true)
      })

      test('a long body is refused, unmarked, and writes nothing past its range (the neighbour chunk keeps its bytes)', async () => {
        const data = bytes(3 * CHUNK + 10, 8)
        const m = manifestFor(data)
        // Chunk 2 is held first; then chunk 1 arrives with CHUNK bytes of its own plus 500 bytes that
        // would land at the start of chunk 2 if the store wrote past the declared range.
        await writeAll(store, m, data, [2])
        const long = Buffer.concat([sliceOf(m, data, 1), Buffer.alloc(500, 0xee)])
        await expect(store.writeChunk(m, chunkOf(m, data, 1, long), CREATE)).rejects.toBeInstanceOf(InvalidRequest)
        // The same with the long body in one single piece.
        await expect(store.writeChunk(m, chunkOf(m, data, 1, Readable.from([long])), CREATE)).rejects.toBeInstanceOf(InvalidRequest)
        expect(await heldChunks(store, m)).toEqual([2])
        // Last chunk longer than declared: nothing may go past the end of the file either.
        const lastLong = Buffer.concat([sliceOf(m, data, 3), Buffer.alloc(100, 0xee)])
        await expect(store.writeChunk(m, chunkOf(m, data, 3, lastLong), CREATE)).rejects.toBeInstanceOf(InvalidRequest)
        expect(await heldChunks(store, m)).toEqual([2])

        const results = await writeAll(store, m, data, [3, 1])
        expect(results.at(-1)).toEqual({ complete: true, written: true })
        const out = await finishedBytes(store, m.id)
        expect(out.length).toBe(data.length)
        expect(sha256(out)).toBe(sha256(data))
      })

      test('a chunk already held is never rewritten: a retry with other bytes is discarded as a duplicate', async () => {
        const data = bytes(2 * CHUNK, 9)
        const m = manifestFor(data)
        await writeAll(store, m, data, [1])
        const other = Buffer.alloc(CHUNK, 0x55)
        expect(await store.writeChunk(m, chunkOf(m, data, 1, other), CREATE)).toEqual({ complete: false, written: false })
        await writeAll(store, m, data, [2])
        expect(sha256(await finishedBytes(store, m.id))).toBe(sha256(data))
      })

      test('the same chunk twice at once with different bytes: exactly one of them is stored, never a mix', async () => {
        for (let round = 0; round < 5; round++) {
          const data = bytes(3 * CHUNK, 20 + round)
          const m = manifestFor(data)
          const a = Buffer.alloc(CHUNK, 0xaa)
          const b = Buffer.alloc(CHUNK, 0xbb)
          const outcomes = await Promise.allSettled([
            store.writeChunk(m, chunkOf(m, data, 2, a), CREATE),
            store.writeChunk(m, chunkOf(m, data, 2, b), CREATE),
          ])
          const stored = outcomes.filter((o) => o.status === 'fulfilled' && o.value.written)
          expect(stored).toHaveLength(1)
          for (const o of outcomes) {
            if (o.status === 'rejected') expect(o.reason).toBeInstanceOf(ChunkBusy)
            else if (!o.value.written) expect(o.value).toEqual({ complete: false, written: false })
          }
          const winner = outcomes[0].status === 'fulfilled' && outcomes[0].value.written ? a : b
          await writeAll(store, m, data, [1, 3])
          const out = await finishedBytes(store, m.id)
          expect(out.subarray(CHUNK, 2 * CHUNK).equals(winner)).toBe(true)
          expect(out.subarray(0, CHUNK).equals(sliceOf(m, data, 1))).toBe(true)
          expect(out.subarray(2 * CHUNK).equals(sliceOf(m, data, 3))).toBe(true)
        }
      })

      test('while one request is still sending a chunk, a second copy is refused (ChunkBusy) or discarded, and the first one wins', async () => {
        const data = bytes(3 * CHUNK, 30)
        const m = manifestFor(data)
        await writeAll(store, m, data, [3])
        const first = new PassThrough()
        const pending = store.writeChunk(m, chunkOf(m, data, 1, first), CREATE)
        first.write(Buffer.alloc(10, 0xaa))
        await consumed(first)
        const second = await store.writeChunk(m, chunkOf(m, data, 1, Buffer.alloc(CHUNK, 0xbb)), CREATE).then(
          (value) => value,
          (error: unknown) => error,
        )
        if (second instanceof Error) expect(second).toBeInstanceOf(ChunkBusy)
        else expect(second).toEqual({ complete: false, written: false })
        first.end(Buffer.alloc(CHUNK - 10, 0xaa))
        expect(await pending).toEqual({ complete: false, written: true })
        // After the first one finished, the same chunk again is a duplicate.
        expect((await store.writeChunk(m, chunkOf(m, data, 1, Buffer.alloc(CHUNK, 0xcc)), CREATE)).written).toBe(false)
        await writeAll(store, m, data, [2])
        const out = await finishedBytes(store, m.id)
        expect(out.subarray(0, CHUNK).equals(Buffer.alloc(CHUNK, 0xaa))).toBe(true)
      })
    })

    describe('completion', () => {
      test('in any order, the upload completes once every chunk is held, and not before', async () => {
        const data = bytes(6 * CHUNK + 333, 40)
        const m = manifestFor(data)
        const order = [4, 1, 6, 2, 5, 3]
        for (const [i, n] of order.entries()) {
          const result = await store.writeChunk(m, chunkOf(m, data, n), CREATE)
          expect(result).toEqual({ complete: i === order.length - 1, written: true })
          expect(await store.state(m.id)).toBe(i === order.length - 1 ? 'complete' : 'partial')
        }
        // Once complete, every later write (even of other bytes) says complete and changes nothing.
        expect(await store.writeChunk(m, chunkOf(m, data, 1, Buffer.alloc(CHUNK, 1)), CREATE)).toEqual({ complete: true, written: false })
        expect(await isHeld(store, m.id, 1)).toBe(true)
        expect(sha256(await finishedBytes(store, m.id))).toBe(sha256(data))
      })

      test('parallel last chunks: the upload completes exactly once, every late answer sees it complete, bytes intact', async () => {
        for (let round = 0; round < 5; round++) {
          const data = bytes(8 * CHUNK + 77, 50 + round)
          const m = manifestFor(data)
          await writeAll(store, m, data, [1, 2, 3, 4, 5])
          const last = [6, 7, 8, 6, 7, 8]
          const outcomes = await Promise.allSettled(last.map((n) => store.writeChunk(m, chunkOf(m, data, n), CREATE)))
          for (const o of outcomes) if (o.status === 'rejected') expect(o.reason).toBeInstanceOf(ChunkBusy)
          const fulfilled = outcomes.flatMap((o) => (o.status === 'fulfilled' ? [o.value] : []))
          // Each chunk was stored by exactly one request.
          expect(fulfilled.filter((r) => r.written)).toHaveLength(3)
          expect(fulfilled.some((r) => r.complete)).toBe(true)
          expect(await store.state(m.id)).toBe('complete')
          // Anyone asking afterwards (retries, finishIfReady) sees the same completed upload.
          const late = await Promise.all([
            ...[6, 7, 8].map((n) => store.writeChunk(m, chunkOf(m, data, n), CREATE)),
          ])
          for (const r of late) expect(r).toEqual({ complete: true, written: false })
          expect(await Promise.all(Array.from({ length: 10 }, () => store.finishIfReady(m)))).toEqual(Array(10).fill(true))
          expect(sha256(await finishedBytes(store, m.id))).toBe(sha256(data))
        }
      })

      test('finishIfReady: false while a chunk is missing (and the upload stays open), true once complete', async () => {
        const data = bytes(3 * CHUNK, 60)
        const m = manifestFor(data)
        expect(await store.finishIfReady(m)).toBe(false)
        await writeAll(store, m, data, [1])
        expect(await store.finishIfReady(m)).toBe(false)
        expect(await store.finished(m.id)).toBeNull()
        await writeAll(store, m, data, [3])
        expect(await store.finishIfReady(m)).toBe(false)
        expect(await store.state(m.id)).toBe('partial')
        expect((await store.writeChunk(m, chunkOf(m, data, 2), CREATE)).complete).toBe(true)
        expect(await store.finishIfReady(m)).toBe(true)
        expect(await store.finishIfReady(m)).toBe(true)
        expect(await store.state(m.id)).toBe('complete')
      })

      test('a one-chunk file (smaller than the chunk size) completes with its single chunk', async () => {
        const data = bytes(10, 61)
        const m = manifestFor(data)
        expect(m.chunkCount).toBe(1)
        expect(await store.writeChunk(m, chunkOf(m, data, 1), CREATE)).toEqual({ complete: true, written: true })
        expect((await finishedBytes(store, m.id)).equals(data)).toBe(true)
      })
    })

    describe('remove, expiry and clearExpired', () => {
      test('remove without expiry: the upload is gone and can start afresh', async () => {
        const data = bytes(2 * CHUNK, 70)
        const m = manifestFor(data)
        await writeAll(store, m, data, [1])
        await store.remove(m.id)
        expect(await store.state(m.id)).toBe('missing')
        expect(await store.get(m.id)).toBeNull()
        expect(await isHeld(store, m.id, 1)).toBe(false)
        await store.remove(m.id) // idempotent
        expect(await store.find(m)).toBeNull()
        await writeAll(store, m, data, [2])
        expect(await heldChunks(store, m)).toEqual([2])
      })

      test('remove with expiry leaves a tombstone: find and writes throw UploadExpired until clearExpired; then it starts afresh', async () => {
        const data = bytes(2 * CHUNK, 71)
        const m = manifestFor(data)
        await writeAll(store, m, data, [1])
        await store.remove(m.id, { expired: true })
        expect(await store.state(m.id)).toBe('expired')
        expect(await store.get(m.id)).toBeNull()
        await expect(store.find(m)).rejects.toBeInstanceOf(UploadExpired)
        await expect(store.writeChunk(m, chunkOf(m, data, 2), CREATE)).rejects.toBeInstanceOf(UploadExpired)
        expect(await store.state(m.id)).toBe('expired')
        await store.clearExpired(m.id)
        expect(await store.state(m.id)).toBe('missing')
        expect(await store.find(m)).toBeNull()
        await writeAll(store, m, data, [2])
        expect(await heldChunks(store, m)).toEqual([2])
        await writeAll(store, m, data)
        expect(await store.state(m.id)).toBe('complete')
      })

      test('sweep expires uploads idle longer than the TTL (by the given clock) and keeps recent ones', async () => {
        const ttl = 3600_000
        const old = bytes(2 * CHUNK, 72)
        const mo = manifestFor(old)
        await writeAll(store, mo, old, [1])
        const idle = await store.sweep(ttl, Date.now())
        expect(idle.expired).toEqual([])
        expect(await store.state(mo.id)).toBe('partial')

        const later = Date.now() + 2 * ttl
        const swept = await store.sweep(ttl, later)
        expect(swept.expired).toEqual([mo.id])
        expect(await store.state(mo.id)).toBe('expired')
        await expect(store.find(mo)).rejects.toBeInstanceOf(UploadExpired)
      })
    })

    describe('ids and hand-over', () => {
      test('finished hands over the complete upload and keeps it staged until remove', async () => {
        const data = bytes(4 * CHUNK + 5, 80)
        const m = manifestFor(data)
        await writeAll(store, m, data)
        const upload = await store.finished(m.id)
        expect(upload).not.toBeNull()
        expect(upload!.manifest).toEqual(m)
        expect(upload!.size).toBe(data.length)
        expect(typeof upload!.location.kind).toBe('string')
        expect(sha256(await readAll(upload!.read()))).toBe(sha256(data))
        // Still staged: a second hand-over works until remove.
        expect(sha256(await finishedBytes(store, m.id))).toBe(sha256(data))
        expect(await store.state(m.id)).toBe('complete')
        await store.remove(m.id)
        expect(await store.finished(m.id)).toBeNull()
      })

      test('list gives the owner\'s staged uploads only, with the bytes held and whether complete', async () => {
        const data = bytes(5 * CHUNK + 7, 81)
        const partial = manifestFor(data)
        await writeAll(store, partial, data, [1, 3])
        const done = manifestFor(data)
        await writeAll(store, done, data)
        const other = manifestFor(data, { owner: 'someone-else' })
        await writeAll(store, other, data, [2])
        const mine = await store.list('admin')
        expect(mine.map((u) => u.manifest.id).sort()).toEqual([partial.id, done.id].sort())
        const p = mine.find((u) => u.manifest.id === partial.id)!
        expect(p).toMatchObject({ manifest: partial, receivedBytes: 2 * CHUNK, complete: false })
        expect(Number.isNaN(Date.parse(p.updatedAt))).toBe(false)
        expect(mine.find((u) => u.manifest.id === done.id)).toMatchObject({ receivedBytes: data.length, complete: true })
        expect((await store.list('someone-else')).map((u) => u.manifest.id)).toEqual([other.id])
        await store.remove(partial.id)
        expect((await store.list('admin')).map((u) => u.manifest.id)).toEqual([done.id])
        expect(await store.list('nobody')).toEqual([])
      })

      test('saveCompletion is read back by completion, and goes with the upload', async () => {
        const data = bytes(2 * CHUNK, 82)
        const m = manifestFor(data)
        await writeAll(store, m, data)
        expect(await store.completion(m.id)).toBeNull()
        const completion = { sha256: sha256(data), metadata: { scan: 'clean', n: 1 } }
        await store.saveCompletion(m.id, completion)
        expect(await store.completion(m.id)).toEqual(completion)
        await store.remove(m.id)
        expect(await store.completion(m.id)).toBeNull()
        await expect(store.saveCompletion(m.id, completion)).rejects.toThrow()
      })

      test('readHeld (where the store has it) serves held ranges before and after completion', async () => {
        if (!store.readHeld) return
        const data = bytes(4 * CHUNK + 3, 83)
        const m = manifestFor(data)
        await writeAll(store, m, data, [2, 3])
        const range = { start: CHUNK, end: 3 * CHUNK - 1 }
        expect(await readAll(store.readHeld(m.id, range))).toEqual(data.subarray(CHUNK, 3 * CHUNK))
        await writeAll(store, m, data, [1, 4])
        expect(await store.state(m.id)).toBe('complete')
        expect(await readAll(store.readHeld(m.id, range))).toEqual(data.subarray(CHUNK, 3 * CHUNK))
        expect(await readAll(store.readHeld(m.id, { start: 0, end: data.length - 1 }))).toEqual(data)
      })

      test('an upload id that is not a server id is refused, never used as a path', async () => {
        await expect(store.get('../../etc')).rejects.toBeInstanceOf(InvalidRequest)
        await expect(store.state('../x')).rejects.toBeInstanceOf(InvalidRequest)
        await expect(store.remove('../x')).rejects.toBeInstanceOf(InvalidRequest)
        await expect(store.chunkState('../x', 1)).rejects.toBeInstanceOf(InvalidRequest)
        await expect(store.finished('../x')).rejects.toBeInstanceOf(InvalidRequest)
      })
    })
  })
}
