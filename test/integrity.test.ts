/**
 * The file's SHA-256: computed from the chunks as they arrive (in any order), kept with the upload,
 * written to `properties.checksum` on Save and sent by downloads, also across a restart mid-upload.
 * Through the real example app and router.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, test } from '@jest/globals'
import { login, startTestApp, type TestApp, type Agent } from './support/app.js'
import { bytes, countOf, postChunk, sha256, type FileSpec } from './support/resumable-client.js'
import { createStack } from './support/stack.js'
import { PrefixHashes } from '../src/integrity/prefix-hash.js'
import { LocalStagingStore } from '../src/store/local/index.js'
import type { StagingStore } from '../src/store/staging.js'
import { chunkOf, CREATE, manifestFor, sliceOf, writeAll } from './staging-contract.js'

const CHUNK = 64 * 1024

let seq = 0
function spec(size: number): FileSpec {
  seq += 1
  return { identifier: `${size}-sha-${seq}`, filename: `file-${seq}.bin`, data: bytes(size, 100 + seq), chunkSize: CHUNK }
}

async function send(agent: Agent, file: FileSpec, order: number[]): Promise<string> {
  let reference = ''
  for (const n of order) {
    const res = await postChunk(agent, file, n)
    expect([n, res.status]).toEqual([n, 200])
    if (res.body.reference) reference = res.body.reference
  }
  return reference
}

async function saveNew(agent: Agent, title: string, reference: string): Promise<Record<string, unknown>> {
  const res = await agent.post('/admin/api/resources/Document/actions/new').field('title', title).field('file', reference)
  expect(res.body.record?.errors ?? {}).toEqual({})
  return res.body.record.params as Record<string, unknown>
}

function expectDigestHeaders(headers: Record<string, string>, hex: string): void {
  const base64 = Buffer.from(hex, 'hex').toString('base64')
  expect(headers['repr-digest']).toBe(`sha-256=:${base64}:`)
  expect(headers.digest).toBe(`sha-256=${base64}`)
  expect(headers['x-checksum-sha256']).toBe(hex)
}

describe('SHA-256 of uploads', () => {
  let t: TestApp
  afterAll(async () => {
    await t?.close()
  })

  test('chunks in order, out of order and several at once: the column and the download headers equal the file\'s SHA-256', async () => {
    t = await startTestApp({ env: { CHUNK_SIZE: String(CHUNK), CHECKSUMS: 'on' } })
    const admin = await login(t.app, 'admin@example.com')
    const inOrder = spec(7 * CHUNK + 123)
    const shuffled = spec(9 * CHUNK + 5)
    const together = spec(12 * CHUNK)
    const cases: Array<[FileSpec, () => Promise<string>]> = [
      [inOrder, () => send(admin, inOrder, [1, 2, 3, 4, 5, 6, 7])],
      [shuffled, () => send(admin, shuffled, [9, 3, 1, 2, 8, 5, 4, 7, 6])],
      [together, async () => {
        const answers = await Promise.all(Array.from({ length: countOf(together) }, (_, i) => postChunk(admin, together, countOf(together) - i)))
        expect(answers.map((a) => a.status).every((s) => s === 200)).toBe(true)
        return answers.map((a) => a.body.reference as string | undefined).find(Boolean) ?? ''
      }],
    ]
    for (const [file, upload] of cases) {
      const reference = await upload()
      expect(reference).toMatch(/^[a-f0-9]{40}$/)
      const params = await saveNew(admin, file.filename, reference)
      expect(params.fileChecksum).toBe(sha256(file.data))
      const row = await t.Document.findByPk(Number(params.id), { raw: true }) as unknown as Record<string, unknown>
      expect(row.fileChecksum).toBe(sha256(file.data))
      const download = await admin.get(`/admin/api/resumable/Document/file/download/${params.id}`).buffer(true)
      expect(download.status).toBe(200)
      expect(sha256(download.body as Buffer)).toBe(sha256(file.data))
      expectDigestHeaders(download.headers as Record<string, string>, sha256(file.data))
      // A range is served with the digest of the whole file (RFC 9530's representation digest).
      const range = await admin.get(`/admin/api/resumable/Document/file/download/${params.id}`).set('Range', 'bytes=0-9')
      expect(range.status).toBe(206)
      expectDigestHeaders(range.headers as Record<string, string>, sha256(file.data))
    }
  })

  test('a restart mid-upload (the running hash is lost) still records the right SHA-256', async () => {
    const workDir = mkdtempSync(join(tmpdir(), 'adminjs-resumable-sha-'))
    const env = {
      UPLOAD_DIR: join(workDir, 'uploads'), DATABASE_FILE: join(workDir, 'db.sqlite'),
      SWEEP_INTERVAL_MS: '0', CHUNK_SIZE: String(CHUNK), CHECKSUMS: 'on',
    }
    const file = spec(8 * CHUNK + 77)
    try {
      const first = await createStack(env)
      try {
        const agent = await login(first.app, 'admin@example.com')
        // Held before the restart: a prefix and a chunk after a gap.
        expect(await send(agent, file, [1, 2, 6, 3])).toBe('')
      } finally {
        await first.close()
      }
      const second = await createStack(env)
      try {
        const agent = await login(second.app, 'admin@example.com')
        const reference = await send(agent, file, [8, 4, 5, 7])
        expect(reference).toMatch(/^[a-f0-9]{40}$/)
        const params = await saveNew(agent, 'after a restart', reference)
        expect(params.fileChecksum).toBe(sha256(file.data))
      } finally {
        await second.close()
      }
    } finally {
      rmSync(workDir, { recursive: true, force: true })
    }
  })

  test('without a checksum column nothing is hashed and downloads send no digest', async () => {
    const plain = await startTestApp({ env: { CHUNK_SIZE: String(CHUNK), CHECKSUMS: 'off' } })
    try {
      const admin = await login(plain.app, 'admin@example.com')
      const file = spec(3 * CHUNK)
      const params = await saveNew(admin, 'no checksum', await send(admin, file, [1, 2, 3]))
      expect(params.fileChecksum ?? null).toBeNull()
      const download = await admin.get(`/admin/api/resumable/Document/file/download/${params.id}`)
      expect(download.status).toBe(200)
      expect(download.headers['repr-digest']).toBeUndefined()
      expect(download.headers['x-checksum-sha256']).toBeUndefined()
    } finally {
      await plain.close()
    }
  })
})

describe('PrefixHashes', () => {
  /** The local store, counting full reads of finished files (the fallback the prefix hash avoids). */
  function counted(dir: string): { store: StagingStore; fullReads: () => number } {
    const local = new LocalStagingStore({ directory: dir })
    let reads = 0
    const finished = local.finished.bind(local)
    local.finished = async (id: string) => {
      reads++
      return finished(id)
    }
    return { store: local, fullReads: () => reads }
  }

  test('chunks arriving out of order are hashed as the prefix grows: no full read, the right digest', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'adminjs-resumable-prefix-'))
    try {
      const { store, fullReads } = counted(dir)
      await store.init()
      const data = bytes(6 * 1024 + 99, 7)
      const m = manifestFor(data)
      const hashes = new PrefixHashes()
      for (const n of [2, 1, 5, 3, 6, 4]) {
        await writeAll(store, m, data, [n])
        hashes.advance(store, m)
      }
      expect(await hashes.digest(store, m)).toBe(sha256(data))
      expect(fullReads()).toBe(0)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  test('local chunks are read back from staging by the thread, never kept in memory, whatever the order', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'adminjs-resumable-prefix-'))
    try {
      const { store, fullReads } = counted(dir)
      await store.init()
      const data = bytes(5 * 1024 + 17, 11)
      const m = manifestFor(data)
      const hashes = new PrefixHashes()
      // As the route stores a chunk: through a sink where the store asks for one, then announced.
      for (const n of [3, 5, 1, 2, 4]) {
        const sink = hashes.sink(store, m, n)
        expect(sink).toBeUndefined()
        await store.writeChunk(m, { ...chunkOf(m, data, n), sink }, CREATE)
        hashes.advance(store, m, n)
        // Chunks 3 and 5 arrive before the run reaches them: no byte of theirs is held for the hash.
        expect(await hashes.stats()).toEqual({ keptBytes: 0, uploads: 1 })
      }
      expect(await hashes.digest(store, m)).toBe(sha256(data))
      expect(fullReads()).toBe(0)
      expect((await hashes.stats()).uploads).toBe(0)
      await hashes.close()
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  test('a lost state (another process, a restart) falls back to reading what is missing, and a store without staged files to one full read', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'adminjs-resumable-prefix-'))
    try {
      const { store, fullReads } = counted(dir)
      await store.init()
      const data = bytes(5 * 1024 + 1, 8)
      const m = manifestFor(data)
      await writeAll(store, m, data)
      // This process never saw a chunk: the prefix is read back from staging in one go.
      expect(await new PrefixHashes().digest(store, m)).toBe(sha256(data))
      expect(fullReads()).toBe(0)
      const withoutFiles = Object.assign(Object.create(store) as StagingStore, { stagedFiles: undefined })
      expect(await new PrefixHashes().digest(withoutFiles, m)).toBe(sha256(data))
      expect(fullReads()).toBe(1)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  test('a chunk announced after the run took it in from the marks leaves the run alone; only a replacement restarts it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'adminjs-resumable-prefix-'))
    try {
      const { store, fullReads } = counted(dir)
      await store.init()
      const data = bytes(4 * 1024, 12)
      const m = manifestFor(data)
      const hashes = new PrefixHashes()
      // Announced as the route announces a stored chunk: the store says whether it replaced one.
      const announce = (n: number, result: { replaced?: boolean }) => hashes.advance(store, m, result.replaced ? n : undefined)
      const first = await store.writeChunk(m, chunkOf(m, data, 1), CREATE)
      const second = await store.writeChunk(m, chunkOf(m, data, 2), CREATE)
      const third = await store.writeChunk(m, chunkOf(m, data, 3), CREATE)
      expect([first.replaced, second.replaced, third.replaced]).toEqual([undefined, undefined, undefined])
      // Chunk 3's request answers first: the thread finds 1 to 3 held and hashes them all...
      announce(1, first)
      announce(3, third)
      expect((await hashes.stats()).uploads).toBe(1)
      // ...then chunk 2's late announcement, which is no reason to start over.
      announce(2, second)
      announce(4, await store.writeChunk(m, chunkOf(m, data, 4), CREATE))
      expect(await hashes.digest(store, m)).toBe(sha256(data))
      expect(fullReads()).toBe(0)

      // A held chunk sent again under another digest is a replacement, and says so.
      const other = manifestFor(data)
      await writeAll(store, other, data, [1, 2])
      const again = await store.writeChunk(other, { ...chunkOf(other, data, 2), sha256: sha256(sliceOf(other, data, 2)) }, CREATE)
      expect(again).toMatchObject({ written: true, replaced: true })
      await hashes.close()
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  test('a chunk replaced behind the hashed run (another digest) makes the run start over: the digest is of the bytes kept', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'adminjs-resumable-prefix-'))
    try {
      const store = new LocalStagingStore({ directory: dir })
      await store.init()
      const data = bytes(4 * 1024, 9)
      const m = manifestFor(data)
      const hashes = new PrefixHashes()
      await writeAll(store, m, data, [1])
      // Chunk 2 first kept with other bytes and no digest, and hashed into the run.
      await store.writeChunk(m, chunkOf(m, data, 2, bytes(1024, 10)), CREATE)
      hashes.advance(store, m, 2)
      await store.writeChunk(m, { ...chunkOf(m, data, 2), sha256: sha256(sliceOf(m, data, 2)) }, CREATE)
      hashes.advance(store, m, 2)
      await writeAll(store, m, data, [3, 4])
      hashes.advance(store, m, 4)
      expect(await hashes.digest(store, m)).toBe(sha256(data))
      await hashes.close()
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
