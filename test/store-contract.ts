/**
 * The contract every UploadStore implementation meets (see src/store/types.ts), as a reusable suite
 * in the spirit of @tus/server's shared DataStore tests: a new store (S3, ...) runs
 * `describeUploadStore('S3UploadStore', makeS3Store)` and gets the same guarantees checked.
 *
 * Everything here goes through the public interface only; implementation-specific checks (folder
 * layout, start-up recovery) live next to the implementation's own tests.
 */
import { randomBytes } from 'node:crypto'
import { PassThrough, Readable } from 'node:stream'
import { afterEach, beforeEach, describe, expect, test } from '@jest/globals'
import { ChunkBusy, InvalidRequest, UploadExpired } from '../src/errors.js'
import { chunkCount, chunkLength, chunkOffset } from '../src/shared/arithmetic.js'
import type { ChunkWrite, UploadManifest, UploadStore, WriteResult } from '../src/store/types.js'
import { bytes, sha256 } from './support/resumable-client.js'

export interface StoreUnderTest {
  store: UploadStore
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

export async function writeAll(store: UploadStore, m: UploadManifest, data: Buffer, numbers?: number[]): Promise<WriteResult[]> {
  const results: WriteResult[] = []
  for (const n of numbers ?? Array.from({ length: m.chunkCount }, (_, i) => i + 1)) {
    results.push(await store.writeChunk(m, chunkOf(m, data, n)))
  }
  return results
}

async function heldChunks(store: UploadStore, m: UploadManifest): Promise<number[]> {
  const held: number[] = []
  for (let n = 1; n <= m.chunkCount; n++) if (await store.hasChunk(m.id, n)) held.push(n)
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

/** The committed bytes under `key`, read back through the store. */
async function committed(store: UploadStore, key: string): Promise<Buffer> {
  return readAll(store.readFile(key))
}

export function describeUploadStore(name: string, makeStore: () => Promise<StoreUnderTest>): void {
  describe(`UploadStore contract: ${name}`, () => {
    let subject: StoreUnderTest
    let store: UploadStore

    beforeEach(async () => {
      subject = await makeStore()
      store = subject.store
      await store.init()
    })
    afterEach(async () => {
      await subject.cleanup()
    })

    describe('open', () => {
      test('creates the upload and is idempotent: a second open returns the stored manifest, not the new one', async () => {
        const data = bytes(5 * CHUNK + 100, 1)
        const m = manifestFor(data)
        expect(await store.state(m.id)).toBe('missing')
        expect(await store.get(m.id)).toBeNull()
        expect(await store.open(m)).toEqual(m)
        expect(await store.state(m.id)).toBe('partial')
        expect(await store.get(m.id)).toEqual(m)
        expect(await heldChunks(store, m)).toEqual([])

        const later = { ...m, filename: 'other.bin', totalSize: m.totalSize + 1, createdAt: new Date(0).toISOString() }
        expect(await store.open(later)).toEqual(m)
        expect(await store.get(m.id)).toEqual(m)
      })

      test('10 parallel opens of one id (different manifests) leave exactly one manifest, which all of them return', async () => {
        const data = bytes(4 * CHUNK, 2)
        const base = manifestFor(data)
        const candidates = Array.from({ length: 10 }, (_, i) => ({ ...base, filename: `f${i}.bin`, createdAt: new Date(1000 * i).toISOString() }))
        const results = await Promise.all(candidates.map((m) => store.open(m)))
        const stored = await store.get(base.id)
        expect(stored).not.toBeNull()
        expect(candidates).toContainEqual(stored)
        for (const r of results) expect(r).toEqual(stored)
        // The one upload works: every chunk written completes it with the original bytes.
        await writeAll(store, stored!, data)
        expect(await store.state(base.id)).toBe('complete')
      })

      test('opening an upload also keeps other uploads apart', async () => {
        const a = bytes(3 * CHUNK, 3)
        const b = bytes(3 * CHUNK, 4)
        const ma = await store.open(manifestFor(a))
        const mb = await store.open(manifestFor(b))
        await writeAll(store, ma, a, [1, 2])
        expect(await heldChunks(store, ma)).toEqual([1, 2])
        expect(await heldChunks(store, mb)).toEqual([])
      })
    })

    describe('writeChunk', () => {
      test('marks a chunk held only after all of its bytes arrived', async () => {
        const data = bytes(3 * CHUNK, 5)
        const m = await store.open(manifestFor(data))
        const body = new PassThrough()
        const slice = sliceOf(m, data, 2)
        const pending = store.writeChunk(m, chunkOf(m, data, 2, body))
        body.write(slice.subarray(0, slice.length - 1))
        await consumed(body)
        expect(await store.hasChunk(m.id, 2)).toBe(false)
        body.end(slice.subarray(slice.length - 1))
        expect(await pending).toEqual({ complete: false, written: true })
        expect(await store.hasChunk(m.id, 2)).toBe(true)
        expect(await heldChunks(store, m)).toEqual([2])
      })

      test('chunkState tells a missing chunk from an upload that does not exist', async () => {
        const data = bytes(3 * CHUNK, 55)
        const m = manifestFor(data)
        expect(await store.chunkState(m.id, 1)).toBe('no-upload')
        await store.open(m)
        expect(await store.chunkState(m.id, 1)).toBe('missing')
        await store.writeChunk(m, chunkOf(m, data, 1))
        expect(await store.chunkState(m.id, 1)).toBe('held')
        expect(await store.chunkState(m.id, 2)).toBe('missing')
        await store.remove(m.id)
        expect(await store.chunkState(m.id, 1)).toBe('no-upload')
      })

      test('a body that fails half way leaves the chunk missing, and a retry then succeeds', async () => {
        const data = bytes(3 * CHUNK, 6)
        const m = await store.open(manifestFor(data))
        const body = new PassThrough()
        body.on('error', () => undefined)
        const pending = store.writeChunk(m, chunkOf(m, data, 1, body))
        body.write(sliceOf(m, data, 1).subarray(0, 100))
        await consumed(body)
        body.destroy(new Error('connection reset'))
        await expect(pending).rejects.toThrow()
        expect(await store.hasChunk(m.id, 1)).toBe(false)
        expect(await store.writeChunk(m, chunkOf(m, data, 1))).toEqual({ complete: false, written: true })
        expect(await store.hasChunk(m.id, 1)).toBe(true)
      })

      test('a short body is refused and leaves the chunk unmarked', async () => {
        const data = bytes(3 * CHUNK, 7)
        const m = await store.open(manifestFor(data))
        await expect(store.writeChunk(m, chunkOf(m, data, 2, sliceOf(m, data, 2).subarray(1)))).rejects.toBeInstanceOf(InvalidRequest)
        await expect(store.writeChunk(m, chunkOf(m, data, 2, Buffer.alloc(0)))).rejects.toBeInstanceOf(InvalidRequest)
        expect(await heldChunks(store, m)).toEqual([])
        // The lock (if any) is released: the real bytes go in afterwards.
        expect((await store.writeChunk(m, chunkOf(m, data, 2))).written).toBe(true)
      })

      test('a long body is refused, unmarked, and writes nothing past its range (the neighbour chunk keeps its bytes)', async () => {
        const data = bytes(3 * CHUNK + 10, 8)
        const m = await store.open(manifestFor(data))
        // Chunk 2 is held first; then chunk 1 arrives with CHUNK bytes of its own plus 500 bytes that
        // would land at the start of chunk 2 if the store wrote past the declared range.
        await writeAll(store, m, data, [2])
        const long = Buffer.concat([sliceOf(m, data, 1), Buffer.alloc(500, 0xee)])
        await expect(store.writeChunk(m, chunkOf(m, data, 1, long))).rejects.toBeInstanceOf(InvalidRequest)
        // The same with the long body in one single piece.
        await expect(store.writeChunk(m, chunkOf(m, data, 1, Readable.from([long])))).rejects.toBeInstanceOf(InvalidRequest)
        expect(await heldChunks(store, m)).toEqual([2])
        // Last chunk longer than declared: nothing may go past the end of the file either.
        const lastLong = Buffer.concat([sliceOf(m, data, 3), Buffer.alloc(100, 0xee)])
        await expect(store.writeChunk(m, chunkOf(m, data, 3, lastLong))).rejects.toBeInstanceOf(InvalidRequest)
        expect(await heldChunks(store, m)).toEqual([2])

        const results = await writeAll(store, m, data, [3, 1])
        expect(results.at(-1)).toEqual({ complete: true, written: true })
        await store.commit(m.id, `contract/${m.id}/long.bin`)
        const out = await committed(store, `contract/${m.id}/long.bin`)
        expect(out.length).toBe(data.length)
        expect(sha256(out)).toBe(sha256(data))
      })

      test('a chunk already held is never rewritten: a retry with other bytes is discarded as a duplicate', async () => {
        const data = bytes(2 * CHUNK, 9)
        const m = await store.open(manifestFor(data))
        await writeAll(store, m, data, [1])
        const other = Buffer.alloc(CHUNK, 0x55)
        expect(await store.writeChunk(m, chunkOf(m, data, 1, other))).toEqual({ complete: false, written: false })
        await writeAll(store, m, data, [2])
        await store.commit(m.id, `contract/${m.id}/dup.bin`)
        expect(sha256(await committed(store, `contract/${m.id}/dup.bin`))).toBe(sha256(data))
      })

      test('the same chunk twice at once with different bytes: exactly one of them is stored, never a mix', async () => {
        for (let round = 0; round < 5; round++) {
          const data = bytes(3 * CHUNK, 20 + round)
          const m = await store.open(manifestFor(data))
          const a = Buffer.alloc(CHUNK, 0xaa)
          const b = Buffer.alloc(CHUNK, 0xbb)
          const outcomes = await Promise.allSettled([
            store.writeChunk(m, chunkOf(m, data, 2, a)),
            store.writeChunk(m, chunkOf(m, data, 2, b)),
          ])
          const stored = outcomes.filter((o) => o.status === 'fulfilled' && o.value.written)
          expect(stored).toHaveLength(1)
          for (const o of outcomes) {
            if (o.status === 'rejected') expect(o.reason).toBeInstanceOf(ChunkBusy)
            else if (!o.value.written) expect(o.value).toEqual({ complete: false, written: false })
          }
          const winner = outcomes[0].status === 'fulfilled' && outcomes[0].value.written ? a : b
          await writeAll(store, m, data, [1, 3])
          await store.commit(m.id, `contract/${m.id}/race.bin`)
          const out = await committed(store, `contract/${m.id}/race.bin`)
          expect(out.subarray(CHUNK, 2 * CHUNK).equals(winner)).toBe(true)
          expect(out.subarray(0, CHUNK).equals(sliceOf(m, data, 1))).toBe(true)
          expect(out.subarray(2 * CHUNK).equals(sliceOf(m, data, 3))).toBe(true)
        }
      })

      test('while one request is still sending a chunk, a second copy is refused (ChunkBusy) or discarded, and the first one wins', async () => {
        const data = bytes(2 * CHUNK, 30)
        const m = await store.open(manifestFor(data))
        const first = new PassThrough()
        const pending = store.writeChunk(m, chunkOf(m, data, 1, first))
        first.write(Buffer.alloc(10, 0xaa))
        await consumed(first)
        const second = await store.writeChunk(m, chunkOf(m, data, 1, Buffer.alloc(CHUNK, 0xbb))).then(
          (value) => value,
          (error: unknown) => error,
        )
        if (second instanceof Error) expect(second).toBeInstanceOf(ChunkBusy)
        else expect(second).toEqual({ complete: false, written: false })
        first.end(Buffer.alloc(CHUNK - 10, 0xaa))
        expect(await pending).toEqual({ complete: false, written: true })
        // After the first one finished, the same chunk again is a duplicate.
        expect((await store.writeChunk(m, chunkOf(m, data, 1, Buffer.alloc(CHUNK, 0xcc)))).written).toBe(false)
        await writeAll(store, m, data, [2])
        await store.commit(m.id, `contract/${m.id}/held.bin`)
        const out = await committed(store, `contract/${m.id}/held.bin`)
        expect(out.subarray(0, CHUNK).equals(Buffer.alloc(CHUNK, 0xaa))).toBe(true)
      })
    })

    describe('completion', () => {
      test('in any order, the upload completes once every chunk is held, and not before', async () => {
        const data = bytes(6 * CHUNK + 333, 40)
        const m = await store.open(manifestFor(data))
        const order = [4, 1, 6, 2, 5, 3]
        for (const [i, n] of order.entries()) {
          const result = await store.writeChunk(m, chunkOf(m, data, n))
          expect(result).toEqual({ complete: i === order.length - 1, written: true })
          expect(await store.state(m.id)).toBe(i === order.length - 1 ? 'complete' : 'partial')
        }
        // Once complete, every later write (even of other bytes) says complete and changes nothing.
        expect(await store.writeChunk(m, chunkOf(m, data, 1, Buffer.alloc(CHUNK, 1)))).toEqual({ complete: true, written: false })
        expect(await store.hasChunk(m.id, 1)).toBe(true)
        await store.commit(m.id, `contract/${m.id}/order.bin`)
        expect(sha256(await committed(store, `contract/${m.id}/order.bin`))).toBe(sha256(data))
      })

      test('parallel last chunks: the upload completes exactly once, every late answer sees it complete, bytes intact', async () => {
        for (let round = 0; round < 5; round++) {
          const data = bytes(8 * CHUNK + 77, 50 + round)
          const m = await store.open(manifestFor(data))
          await writeAll(store, m, data, [1, 2, 3, 4, 5])
          const last = [6, 7, 8, 6, 7, 8]
          const outcomes = await Promise.allSettled(last.map((n) => store.writeChunk(m, chunkOf(m, data, n))))
          for (const o of outcomes) if (o.status === 'rejected') expect(o.reason).toBeInstanceOf(ChunkBusy)
          const fulfilled = outcomes.flatMap((o) => (o.status === 'fulfilled' ? [o.value] : []))
          // Each chunk was stored by exactly one request.
          expect(fulfilled.filter((r) => r.written)).toHaveLength(3)
          expect(fulfilled.some((r) => r.complete)).toBe(true)
          expect(await store.state(m.id)).toBe('complete')
          // Anyone asking afterwards (retries, finishIfReady) sees the same completed upload.
          const late = await Promise.all([
            ...[6, 7, 8].map((n) => store.writeChunk(m, chunkOf(m, data, n))),
          ])
          for (const r of late) expect(r).toEqual({ complete: true, written: false })
          expect(await Promise.all(Array.from({ length: 10 }, () => store.finishIfReady(m)))).toEqual(Array(10).fill(true))
          await store.commit(m.id, `contract/${m.id}/parallel.bin`)
          expect(sha256(await committed(store, `contract/${m.id}/parallel.bin`))).toBe(sha256(data))
        }
      })

      test('finishIfReady: false while a chunk is missing (and the upload stays open), true once complete', async () => {
        const data = bytes(3 * CHUNK, 60)
        const m = await store.open(manifestFor(data))
        expect(await store.finishIfReady(m)).toBe(false)
        await writeAll(store, m, data, [1, 3])
        expect(await store.finishIfReady(m)).toBe(false)
        expect(await store.state(m.id)).toBe('partial')
        expect((await store.writeChunk(m, chunkOf(m, data, 2))).complete).toBe(true)
        expect(await store.finishIfReady(m)).toBe(true)
        expect(await store.finishIfReady(m)).toBe(true)
        expect(await store.state(m.id)).toBe('complete')
      })

      test('a one-chunk file (smaller than the chunk size) completes with its single chunk', async () => {
        const data = bytes(10, 61)
        const m = await store.open(manifestFor(data))
        expect(m.chunkCount).toBe(1)
        expect(await store.writeChunk(m, chunkOf(m, data, 1))).toEqual({ complete: true, written: true })
        await store.commit(m.id, `contract/${m.id}/tiny.bin`)
        expect((await committed(store, `contract/${m.id}/tiny.bin`)).equals(data)).toBe(true)
      })
    })

    describe('remove, expiry and forget', () => {
      test('remove without expiry: the upload is gone and can start afresh', async () => {
        const data = bytes(2 * CHUNK, 70)
        const m = await store.open(manifestFor(data))
        await writeAll(store, m, data, [1])
        await store.remove(m.id)
        expect(await store.state(m.id)).toBe('missing')
        expect(await store.get(m.id)).toBeNull()
        expect(await store.hasChunk(m.id, 1)).toBe(false)
        await store.remove(m.id) // idempotent
        await store.open(m)
        expect(await heldChunks(store, m)).toEqual([])
      })

      test('remove with expiry leaves a tombstone: open throws UploadExpired until forget; then it starts afresh', async () => {
        const data = bytes(2 * CHUNK, 71)
        const m = await store.open(manifestFor(data))
        await writeAll(store, m, data, [1])
        await store.remove(m.id, { expired: true })
        expect(await store.state(m.id)).toBe('expired')
        expect(await store.get(m.id)).toBeNull()
        await expect(store.open(m)).rejects.toBeInstanceOf(UploadExpired)
        await expect(store.writeChunk(m, chunkOf(m, data, 2))).rejects.toBeInstanceOf(UploadExpired)
        expect(await store.state(m.id)).toBe('expired')
        await store.forget(m.id)
        expect(await store.state(m.id)).toBe('missing')
        await store.open(m)
        expect(await heldChunks(store, m)).toEqual([])
        await writeAll(store, m, data)
        expect(await store.state(m.id)).toBe('complete')
      })

      test('sweep expires uploads idle longer than the TTL (by the given clock) and keeps recent ones', async () => {
        const ttl = 3600_000
        const old = bytes(2 * CHUNK, 72)
        const mo = await store.open(manifestFor(old))
        await writeAll(store, mo, old, [1])
        const idle = await store.sweep(ttl, Date.now())
        expect(idle.expired).toEqual([])
        expect(await store.state(mo.id)).toBe('partial')

        const later = Date.now() + 2 * ttl
        const swept = await store.sweep(ttl, later)
        expect(swept.expired).toEqual([mo.id])
        expect(await store.state(mo.id)).toBe('expired')
        await expect(store.open(mo)).rejects.toBeInstanceOf(UploadExpired)
      })

      test('sweep never touches committed files, and a completed upload not yet removed only loses its staged copy', async () => {
        const ttl = 1000
        const data = bytes(3 * CHUNK, 73)
        const m = await store.open(manifestFor(data))
        await writeAll(store, m, data)
        const key = `contract/${m.id}/kept.bin`
        await store.commit(m.id, key)
        const swept = await store.sweep(ttl, Date.now() + 1000 * ttl)
        expect(swept.expired).toContain(m.id)
        expect(await store.statFile(key)).toMatchObject({ size: data.length })
        expect(sha256(await committed(store, key))).toBe(sha256(data))
      })
    })

    describe('committed files', () => {
      test('commit places the file under its key and keeps the staged upload until remove', async () => {
        const data = bytes(4 * CHUNK + 5, 80)
        const m = await store.open(manifestFor(data))
        await writeAll(store, m, data)
        const key = `contract/${m.id}/a.bin`
        expect(await store.statFile(key)).toBeNull()
        await store.commit(m.id, key)
        expect(await store.statFile(key)).toMatchObject({ size: data.length })
        expect(Number.isFinite((await store.statFile(key))!.modifiedAt.getTime())).toBe(true)
        expect(sha256(await committed(store, key))).toBe(sha256(data))
        // Still staged: a crash before the record update loses nothing, and a second commit works.
        expect(await store.state(m.id)).toBe('complete')
        expect(await store.get(m.id)).toEqual(m)
        await store.commit(m.id, `contract/${m.id}/b.bin`)
        expect(sha256(await committed(store, `contract/${m.id}/b.bin`))).toBe(sha256(data))
        await store.remove(m.id)
        expect(await store.state(m.id)).toBe('missing')
        // Removing the staged upload does not touch what was committed.
        expect(sha256(await committed(store, key))).toBe(sha256(data))
      })

      test('commit over an existing key replaces it whole (the old bytes are never mixed in)', async () => {
        const first = bytes(5 * CHUNK, 81)
        const second = bytes(2 * CHUNK + 1, 82)
        const key = `contract/${newId()}/same.bin`
        for (const data of [first, second]) {
          const m = await store.open(manifestFor(data))
          await writeAll(store, m, data)
          await store.commit(m.id, key)
          await store.remove(m.id)
        }
        expect(await store.statFile(key)).toMatchObject({ size: second.length })
        expect(sha256(await committed(store, key))).toBe(sha256(second))
      })

      test('readFile serves an inclusive byte range', async () => {
        const data = bytes(3 * CHUNK, 83)
        const m = await store.open(manifestFor(data))
        await writeAll(store, m, data)
        const key = `contract/${m.id}/range.bin`
        await store.commit(m.id, key)
        expect((await readAll(store.readFile(key, { start: 10, end: 19 }))).equals(data.subarray(10, 20))).toBe(true)
        expect((await readAll(store.readFile(key, { start: data.length - 1, end: data.length - 1 }))).equals(data.subarray(-1))).toBe(true)
      })

      test('deleteFile removes the file, and is a no-op for a missing one', async () => {
        const data = bytes(CHUNK, 84)
        const m = await store.open(manifestFor(data))
        await writeAll(store, m, data)
        const key = `contract/${m.id}/gone.bin`
        await store.commit(m.id, key)
        await store.deleteFile(key)
        expect(await store.statFile(key)).toBeNull()
        await store.deleteFile(key)
        await store.deleteFile(`contract/${newId()}/never.bin`)
      })

      test.each([
        ['../escape.bin'],
        ['contract/../../escape.bin'],
        ['/etc/passwd'],
        ['contract\\..\\escape.bin'],
        [''],
        ['contract//x.bin'],
        ['./x.bin'],
        ['contract/..'],
        ['a\0b'],
      ])('keys that could leave the storage root are refused: %j', async (key) => {
        const data = bytes(CHUNK, 85)
        const m = await store.open(manifestFor(data))
        await writeAll(store, m, data)
        await expect(store.commit(m.id, key)).rejects.toBeInstanceOf(InvalidRequest)
        await expect(store.statFile(key)).rejects.toBeInstanceOf(InvalidRequest)
        await expect(store.deleteFile(key)).rejects.toBeInstanceOf(InvalidRequest)
        expect(() => store.readFile(key)).toThrow(InvalidRequest)
      })

      test('an upload id that is not a server id is refused, never used as a path', async () => {
        await expect(store.get('../../etc')).rejects.toBeInstanceOf(InvalidRequest)
        await expect(store.state('../x')).rejects.toBeInstanceOf(InvalidRequest)
        await expect(store.remove('../x')).rejects.toBeInstanceOf(InvalidRequest)
      })
    })
  })
}
