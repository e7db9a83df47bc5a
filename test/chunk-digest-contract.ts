/**
 * The per-chunk SHA-256 part of the StagingStore contract (src/store/staging.ts), run by
 * describeStagingStore against every store: a chunk's digest is checked as it is stored, kept with
 * the upload, and decides whether a test GET's chunk is held.
 */
import { createHash, randomBytes } from 'node:crypto'
import { describe, expect, test } from '@jest/globals'
import { ChunkDigestMismatch } from '../src/errors.js'
import type { StagingStore } from '../src/store/staging.js'
import type { ChunkWrite, UploadManifest } from '../src/store/types.js'

export interface DigestHelpers {
  CHUNK: number
  CREATE: { create: object }
  manifestFor(data: Buffer): UploadManifest
  chunkOf(m: UploadManifest, data: Buffer, n: number, body?: Buffer): ChunkWrite
  sliceOf(m: UploadManifest, data: Buffer, n: number): Buffer
  finishedBytes(store: StagingStore, id: string): Promise<Buffer>
}

const hex = (b: Buffer) => createHash('sha256').update(b).digest('hex')

export function describeChunkDigests(current: () => StagingStore, h: DigestHelpers): void {
  describe('chunk digests', () => {
    /** Chunk `n` as the edit component sends it: `body` (default: its real bytes) under the real bytes' digest. */
    const signed = (m: UploadManifest, data: Buffer, n: number, body?: Buffer): ChunkWrite => ({
      ...h.chunkOf(m, data, n, body),
      sha256: hex(h.sliceOf(m, data, n)),
    })

    test('a damaged chunk is refused and not held; sent again whole, the upload completes with the right bytes', async () => {
      const store = current()
      const data = randomBytes(3 * h.CHUNK)
      const m = h.manifestFor(data)
      await store.writeChunk(m, signed(m, data, 1), h.CREATE)
      const damaged = Buffer.from(h.sliceOf(m, data, 2))
      damaged[17] ^= 0xff
      await expect(store.writeChunk(m, signed(m, data, 2, damaged), h.CREATE)).rejects.toBeInstanceOf(ChunkDigestMismatch)
      expect(await store.chunkState(m.id, 2)).toBe('missing')
      expect(await store.chunkState(m.id, 2, { sha256: hex(damaged) })).toBe('missing')
      await store.writeChunk(m, signed(m, data, 3), h.CREATE)
      expect(await store.state(m.id)).toBe('partial')
      expect(await store.writeChunk(m, signed(m, data, 2), h.CREATE)).toEqual({ complete: true, written: true })
      const out = await h.finishedBytes(store, m.id)
      expect(hex(out)).toBe(hex(data))
    })

    test('a damaged first chunk creates no upload', async () => {
      const store = current()
      const data = randomBytes(2 * h.CHUNK)
      const m = h.manifestFor(data)
      await expect(store.writeChunk(m, signed(m, data, 1, randomBytes(h.CHUNK)), h.CREATE)).rejects.toBeInstanceOf(ChunkDigestMismatch)
      expect(await store.state(m.id)).toBe('missing')
      expect(await store.get(m.id)).toBeNull()
    })

    test('held answers for the digest the chunk was kept under, not for another one', async () => {
      const store = current()
      const data = randomBytes(3 * h.CHUNK)
      const m = h.manifestFor(data)
      await store.writeChunk(m, signed(m, data, 1), h.CREATE)
      await store.writeChunk(m, signed(m, data, 2), h.CREATE)
      expect(await store.chunkState(m.id, 2, { sha256: hex(h.sliceOf(m, data, 2)) })).toBe('held')
      expect(await store.chunkState(m.id, 2, { sha256: hex(randomBytes(8)) })).toBe('missing')
      expect(await store.chunkState(m.id, 2)).toBe('held')
      // The same chunk under the same digest again is a duplicate.
      expect((await store.writeChunk(m, signed(m, data, 2), h.CREATE)).written).toBe(false)
    })

    test('a held chunk kept under another digest (or none) is replaced by the re-sent chunk', async () => {
      const store = current()
      const data = randomBytes(3 * h.CHUNK)
      const m = h.manifestFor(data)
      // Kept without a digest (a plain Resumable.js client), with other bytes. It starts the upload:
      // on S3 an upload started with a digest refuses chunks without one.
      const stale = randomBytes(h.CHUNK)
      await store.writeChunk(m, h.chunkOf(m, data, 2, stale), h.CREATE)
      await store.writeChunk(m, signed(m, data, 1), h.CREATE)
      expect(await store.chunkState(m.id, 2, { sha256: hex(h.sliceOf(m, data, 2)) })).toBe('missing')
      // A store may say that it replaced a held chunk (the local one does, for the file hash).
      expect(await store.writeChunk(m, signed(m, data, 2), h.CREATE)).toMatchObject({ complete: false, written: true })
      expect(await store.chunkState(m.id, 2, { sha256: hex(h.sliceOf(m, data, 2)) })).toBe('held')
      await store.writeChunk(m, signed(m, data, 3), h.CREATE)
      expect((await h.finishedBytes(store, m.id)).equals(data)).toBe(true)
    })

    test('a damaged replacement leaves the chunk missing, never held with mixed bytes', async () => {
      const store = current()
      const data = randomBytes(2 * h.CHUNK)
      const m = h.manifestFor(data)
      await store.writeChunk(m, h.chunkOf(m, data, 1, randomBytes(h.CHUNK)), h.CREATE)
      await expect(store.writeChunk(m, signed(m, data, 1, randomBytes(h.CHUNK)), h.CREATE)).rejects.toBeInstanceOf(ChunkDigestMismatch)
      expect(await store.chunkState(m.id, 1)).toBe('missing')
      await store.writeChunk(m, signed(m, data, 1), h.CREATE)
      await store.writeChunk(m, signed(m, data, 2), h.CREATE)
      expect((await h.finishedBytes(store, m.id)).equals(data)).toBe(true)
    })
  })
}
