/**
 * The file's SHA-256 on S3 (s3rver, shared state on SQLite): the chunks' bytes are hashed as they
 * stream to the parts, in order, with no read of the assembled object; chunks the hashing thread
 * never saw (another host) make it read the object once, and the digest is still right.
 */
import { afterAll, describe, expect, test } from '@jest/globals'
import { PrefixHashes } from '../src/integrity/prefix-hash.js'
import type { StagingStore } from '../src/store/staging.js'
import { chunkOf, CREATE, manifestFor } from './staging-contract.js'
import { bytes, sha256 } from './support/resumable-client.js'
import { openSubject } from './support/s3-storage.js'
import { s3rverInstalled, startS3rver, type S3Server } from './support/s3rver.js'
import { REQUIRED } from './support/services.js'

const PART = 5 * 1024 * 1024
let server: S3Server | null = null
afterAll(async () => {
  await server?.destroy()
})

function counted(store: StagingStore): { store: StagingStore; fullReads: () => number } {
  let reads = 0
  const counting = Object.create(store) as StagingStore
  counting.finished = async (id: string) => {
    reads++
    return store.finished(id)
  }
  return { store: counting, fullReads: () => reads }
}

const suite = s3rverInstalled() ? describe : describe.skip
if (!s3rverInstalled()) {
  test('s3rver is not installed: the S3 file hash tests did not run', () => {
    if (REQUIRED) throw new Error('s3rver is required under CI=true')
  })
}

suite('file SHA-256 on S3', () => {
  test('chunks arriving out of order and several at once are hashed as they stream: the right digest, no read of the object', async () => {
    server ??= await startS3rver()
    const subject = await openSubject(server!, 'sqlite', null)
    try {
      const { store, fullReads } = counted(subject.storage.staging)
      const data = bytes(4 * PART + 1234, 21)
      const m = manifestFor(data, {}, PART)
      const hashes = new PrefixHashes()
      const write = (n: number) => store.writeChunk(m, { ...chunkOf(m, data, n), sink: hashes.sink(store, m, n) }, CREATE)
      await write(3)
      await Promise.all([write(1), write(4)])
      expect((await write(2)).complete).toBe(true)
      expect(await hashes.digest(store, m)).toBe(sha256(data))
      expect(fullReads()).toBe(0)
      // A process that saw none of it reads the object once.
      expect(await new PrefixHashes().digest(store, m)).toBe(sha256(data))
      expect(fullReads()).toBe(1)
      await hashes.close()
    } finally {
      await subject.cleanup()
    }
  }, 120_000)

  test('the buffers that carry the bytes to the hashing thread come back and are filled again, as the chunks stream and when the object is read', async () => {
    server ??= await startS3rver()
    const subject = await openSubject(server!, 'sqlite', null)
    try {
      const { store, fullReads } = counted(subject.storage.staging)
      const data = bytes(8 * PART, 22)
      const m = manifestFor(data, {}, PART)
      const hashes = new PrefixHashes()
      const before = hashes.batchBuffers()
      for (let n = 1; n <= m.chunkCount; n++) await store.writeChunk(m, { ...chunkOf(m, data, n), sink: hashes.sink(store, m, n) }, CREATE)
      expect(await hashes.digest(store, m)).toBe(sha256(data))
      // 40 MiB went through in 1 MiB batches: without reuse, 40 buffers; reused, about one chunk's worth.
      const streamed = hashes.batchBuffers() - before
      expect(streamed).toBeLessThanOrEqual(PART / (1024 * 1024) + 3)
      expect(await hashes.stats()).toEqual({ keptBytes: 0, uploads: 0 })
      // Read back from the object (a process that saw no chunk): the same buffers again, 40 MiB more.
      expect(await new PrefixHashes().digest(store, m)).toBe(sha256(data))
      expect(fullReads()).toBe(1)
      expect(hashes.batchBuffers() - before).toBeLessThanOrEqual(16)
      await hashes.close()
    } finally {
      await subject.cleanup()
    }
  }, 120_000)
})
