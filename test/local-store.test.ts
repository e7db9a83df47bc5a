/**
 * The local backend: the shared StagingStore and FileStorage contracts (test/staging-contract.ts,
 * test/file-storage-contract.ts) on temp folders, then what only the local backend promises: its folder layout, leftovers after a crash, start-up recovery,
 * stale chunk locks, and that the storage root is never left.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { lstat, lutimes, mkdir, open, readFile, readdir, stat, symlink, utimes, writeFile } from 'node:fs/promises'
import { hostname, tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, test } from '@jest/globals'
import { ChunkBusy, InvalidRequest, TooManyUploads } from '../src/errors.js'
import { localBackend, type LocalStorageOptions } from '../src/store/local/index.js'
import type { LocalFileStorage } from '../src/store/local/files.js'
import type { LocalStagingStore } from '../src/store/local/staging.js'
import { bytes, sha256 } from './support/resumable-client.js'
import { describeFileStorage } from './file-storage-contract.js'
import {
  CHUNK, CREATE, chunkOf, describeStagingStore, isHeld, manifestFor, newId, sliceOf, writeAll,
} from './staging-contract.js'

function tempRoot(): string {
  return mkdtempSync(join(tmpdir(), 'adminjs-resumable-store-'))
}

for (const [label, options] of [
  ['staging inside the root', (root: string) => ({ directory: join(root, 'files') })],
  ['separate staging folder', (root: string) => ({ directory: join(root, 'files'), stagingDirectory: join(root, 'staging') })],
  ['metadata through the thread pool', (root: string) => ({ directory: join(root, 'files'), directMetadata: false })],
] as [string, (root: string) => LocalStorageOptions][]) {
  describeStagingStore(`LocalStagingStore (${label})`, async () => {
    const root = tempRoot()
    return {
      store: localBackend(options(root)).staging,
      cleanup: async () => rmSync(root, { recursive: true, force: true }),
    }
  })
}

describeFileStorage('LocalFileStorage (finished uploads from LocalStagingStore)', async () => {
  const root = tempRoot()
  const { staging, files } = localBackend({ directory: join(root, 'files'), stagingDirectory: join(root, 'staging') })
  await staging.init()
  return {
    files,
    async finishedUpload(data) {
      const m = manifestFor(data, {}, CHUNK)
      await writeAll(staging, m, data)
      return (await staging.finished(m.id))!
    },
    cleanup: async () => rmSync(root, { recursive: true, force: true }),
  }
})

/** Sets a path's times `ms` into the past. */
async function age(path: string, ms: number): Promise<void> {
  const then = new Date(Date.now() - ms)
  await utimes(path, then, then)
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(() => true, () => false)
}

describe('local backend specifics', () => {
  let root: string
  let files: string
  let staging: string
  let store: LocalStagingStore
  let storage: LocalFileStorage

  function backend(options: Partial<LocalStorageOptions> = {}) {
    return localBackend({ directory: files, stagingDirectory: staging, ...options })
  }

  /** Places the finished upload `id` under `key`, as Save does. */
  async function place(id: string, key: string): Promise<boolean> {
    const upload = await store.finished(id)
    if (!upload) throw new Error(`upload ${id} is not finished`)
    return storage.place(upload, key)
  }

  beforeEach(async () => {
    root = tempRoot()
    files = join(root, 'files')
    staging = join(files, '.staging')
    ;({ staging: store, files: storage } = backend({ lockStaleMs: 2000 }))
    await storage.init()
    await store.init()
  })
  afterEach(() => {
    rmSync(root, { recursive: true, force: true })
  })

  test('layout: manifest.json, a data file of the final size, one received byte per chunk; complete replaces data', async () => {
    const data = bytes(4 * CHUNK + 9, 1)
    const m = manifestFor(data)
    await writeAll(store, m, data, [3])
    const dir = join(staging, m.id)
    expect((await readdir(dir)).sort()).toEqual(['data', 'manifest.json', 'received'])
    expect(JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8'))).toEqual(m)
    expect((await stat(join(dir, 'data'))).size).toBe(data.length)
    expect([...(await readFile(join(dir, 'received')))]).toEqual([0, 0, 1, 0])
    const partial = await readFile(join(dir, 'data'))
    expect(partial.subarray(2 * CHUNK, 3 * CHUNK).equals(sliceOf(m, data, 3))).toBe(true)

    await writeAll(store, m, data, [1, 2, 4])
    // No lock file is left behind, and the finished file is `complete` (data was renamed).
    expect((await readdir(dir)).sort()).toEqual(['complete', 'manifest.json', 'received'])
    expect(sha256(await readFile(join(dir, 'complete')))).toBe(sha256(data))
  })

  test('10 parallel first chunks leave one upload folder and no half-created folders', async () => {
    const data = bytes(10 * CHUNK, 2)
    const base = manifestFor(data)
    await Promise.allSettled(Array.from({ length: 10 }, (_, i) => store.writeChunk({ ...base, filename: `n${i}.bin` }, chunkOf(base, data, i + 1), CREATE)))
    expect(await readdir(staging)).toEqual([base.id])
    expect(await readdir(join(staging, base.id))).toHaveLength(3)
  })

  test('a refused long body leaves the neighbour chunk\'s bytes in `data` untouched and releases its lock', async () => {
    const data = bytes(3 * CHUNK, 3)
    const m = manifestFor(data)
    await writeAll(store, m, data, [2])
    const before = await readFile(join(staging, m.id, 'data'))
    const long = Buffer.concat([sliceOf(m, data, 1), Buffer.alloc(CHUNK, 0xee)])
    await expect(store.writeChunk(m, chunkOf(m, data, 1, long))).rejects.toBeInstanceOf(InvalidRequest)
    const after = await readFile(join(staging, m.id, 'data'))
    expect(after.subarray(CHUNK, 2 * CHUNK).equals(sliceOf(m, data, 2))).toBe(true)
    expect(after.subarray(CHUNK).equals(before.subarray(CHUNK))).toBe(true)
    expect([...(await readFile(join(staging, m.id, 'received')))]).toEqual([0, 1, 0])
    expect((await readdir(join(staging, m.id))).filter((f) => f.startsWith('lock-'))).toEqual([])
  })

  describe('a copy in memory of an upload another process changed', () => {
    /** A 3-chunk upload this store created with chunk 1, then removed by a second store on the same folders. */
    async function removedElsewhere(seed: number) {
      const other = backend().staging
      const data = bytes(3 * CHUNK, seed)
      const m = manifestFor(data)
      await writeAll(store, m, data, [1])
      // Now known to this process (a later chunk reads it from disk and keeps it).
      expect(await store.get(m.id)).toEqual(m)
      await other.remove(m.id)
      return { other, data, m }
    }

    test('cancelled there: the next chunk here is a retryable 503, and the retry starts the upload afresh', async () => {
      const { data, m } = await removedElsewhere(21)

      // Answered from memory (from the disk, it would have been created afresh and taken the chunk).
      const again = await store.find({ ...m })
      expect(again).toEqual(m)
      await expect(store.writeChunk(again!, chunkOf(m, data, 2))).rejects.toBeInstanceOf(ChunkBusy)
      expect(await store.find({ ...m })).toBeNull()
      await writeAll(store, m, data, [2])
      expect([...(await readFile(join(staging, m.id, 'received')))]).toEqual([0, 1, 0])
    })

    test('started again there with another size: refused with 503 before a byte is written, then the disk decides', async () => {
      const { other, data, m } = await removedElsewhere(22)
      const bigger = bytes(5 * CHUNK, 23)
      const replaced = manifestFor(bigger, { id: m.id })
      await writeAll(other, replaced, bigger, [5])
      const before = await readFile(join(staging, m.id, 'data'))

      await expect(store.writeChunk(m, chunkOf(m, data, 2))).rejects.toBeInstanceOf(ChunkBusy)
      expect((await readFile(join(staging, m.id, 'data'))).equals(before)).toBe(true)
      expect([...(await readFile(join(staging, m.id, 'received')))]).toEqual([0, 0, 0, 0, 1])
      // What the route checks the request against is now the manifest on disk.
      expect(await store.find({ ...m })).toEqual(replaced)
    })
  })

  test('usage comes from the staging folder: a second process on it counts the same uploads, and sees removals', async () => {
    const data = bytes(2 * CHUNK, 25)
    const other = backend().staging
    expect(await other.usage('admin')).toEqual({ uploads: 0, bytes: 0 })
    const ms = [manifestFor(data), manifestFor(data)]
    for (const m of ms) await writeAll(store, m, data, [1])
    expect(await other.usage('admin')).toEqual({ uploads: 2, bytes: 2 * data.length })
    await store.remove(ms[0].id)
    expect(await other.usage('admin')).toEqual({ uploads: 1, bytes: data.length })
    // The limit holds across both: the second process refuses a third upload past a limit of 2.
    await writeAll(store, manifestFor(data), data, [1])
    const third = manifestFor(data)
    await expect(other.writeChunk(third, chunkOf(third, data, 1), { create: { uploads: 2 } })).rejects.toThrow(/unfinished uploads/)
  })

  describe('chunk locks', () => {
    test('a fresh lock held by this process makes a second writer of the chunk fail with ChunkBusy', async () => {
      const data = bytes(2 * CHUNK, 4)
      const m = manifestFor(data)
      await writeAll(store, m, data, [2])
      // A live lock of another process on another host (cannot be proven dead; fresh mtime).
      await writeFile(join(staging, m.id, 'lock-1'), 'some-other-host:1:abcdef')
      await expect(store.writeChunk(m, chunkOf(m, data, 1))).rejects.toBeInstanceOf(ChunkBusy)
      expect(await isHeld(store, m.id, 1)).toBe(false)
    })

    test('a lock not refreshed for longer than lockStaleMs is taken over', async () => {
      const data = bytes(2 * CHUNK, 5)
      const m = manifestFor(data)
      await writeAll(store, m, data, [2])
      const lock = join(staging, m.id, 'lock-1')
      await writeFile(lock, 'some-other-host:1:abcdef')
      await age(lock, 10_000)
      expect(await store.writeChunk(m, chunkOf(m, data, 1))).toEqual({ complete: true, written: true })
      expect(await exists(lock)).toBe(false)
    })

    test('a lock whose owner process on this host is gone is taken over at once', async () => {
      const data = bytes(2 * CHUNK, 6)
      const m = manifestFor(data)
      await writeAll(store, m, data, [1])
      const lock = join(staging, m.id, 'lock-2')
      // pid 2^22+1 is above Linux's pid_max: that process cannot exist.
      await writeFile(lock, `${hostname()}:4194305:deadbeef`)
      expect(await store.writeChunk(m, chunkOf(m, data, 2))).toEqual({ complete: true, written: true })
    })
  })

  describe('keys and the storage root', () => {
    test('keys that point into the staging folder or outside the root are refused; nothing outside is deleted', async () => {
      const data = bytes(CHUNK, 7)
      const m = manifestFor(data)
      await writeAll(store, m, data)
      const outside = join(root, 'outside.txt')
      await writeFile(outside, 'keep me')
      for (const key of [`.staging/${m.id}/complete`, `.staging/${m.id}/manifest.json`, '.staging', '../outside.txt', `${root}/outside.txt`]) {
        expect(() => storage.resolveKey(key)).toThrow(InvalidRequest)
        await expect(storage.delete(key)).rejects.toBeInstanceOf(InvalidRequest)
      }
      expect(await readFile(outside, 'utf8')).toBe('keep me')
      expect(await exists(join(staging, m.id, 'complete'))).toBe(true)
      expect(storage.resolveKey('documents/1/a.bin')).toBe(join(files, 'documents', '1', 'a.bin'))
    })

    test('deleteFile removes the folders the key created once empty, never the root or a non-empty folder', async () => {
      const keys = ['documents/7/a.bin', 'documents/8/b.bin', 'documents/8/c.bin']
      for (const [i, key] of keys.entries()) {
        const data = bytes(CHUNK, 10 + i)
        const m = manifestFor(data)
        await writeAll(store, m, data)
        await place(m.id, key)
        await store.remove(m.id)
      }
      await storage.delete('documents/7/a.bin')
      expect(await exists(join(files, 'documents', '7'))).toBe(false)
      expect(await exists(join(files, 'documents'))).toBe(true)
      await storage.delete('documents/8/b.bin')
      expect(await readdir(join(files, 'documents', '8'))).toEqual(['c.bin'])
      await storage.delete('documents/8/c.bin')
      expect(await exists(join(files, 'documents'))).toBe(false)
      expect(await exists(files)).toBe(true)
      expect(await exists(staging)).toBe(true)
    })
  })

  describe('place', () => {
    test('keeps the staged file, leaves no temp file beside the target or in staging', async () => {
      const data = bytes(3 * CHUNK, 20)
      const m = manifestFor(data)
      await writeAll(store, m, data)
      await place(m.id, 'documents/1/a.bin')
      expect(await readdir(join(files, 'documents', '1'))).toEqual(['a.bin'])
      expect(await readdir(staging)).toEqual([m.id])
      expect(sha256(await readFile(join(staging, m.id, 'complete')))).toBe(sha256(data))
      await store.remove(m.id)
      expect(await readdir(staging)).toEqual([])
      expect(sha256(await readFile(join(files, 'documents', '1', 'a.bin')))).toBe(sha256(data))
    })

    test('an upload that is not complete is not handed over', async () => {
      const data = bytes(2 * CHUNK, 23)
      const m = manifestFor(data)
      await writeAll(store, m, data, [1])
      expect(await store.finished(m.id)).toBeNull()
    })
  })

  describe('sweep', () => {
    test('expires by the last activity (received/manifest mtime), not by creation alone', async () => {
      const ttl = 60_000
      const data = bytes(3 * CHUNK, 30)
      const active = manifestFor(data)
      const idle = manifestFor(data)
      await writeAll(store, idle, data, [2])
      await writeAll(store, active, data, [2])
      for (const m of [active, idle]) {
        for (const f of ['manifest.json', 'received', 'data']) await age(join(staging, m.id, f), 10 * ttl)
      }
      // A chunk written now counts as activity.
      await writeAll(store, active, data, [1])
      const result = await store.sweep(ttl)
      expect(result.expired).toEqual([idle.id])
      expect(await store.state(active.id)).toBe('partial')
      expect(await store.state(idle.id)).toBe('expired')
      expect(await exists(join(staging, idle.id))).toBe(false)
      expect(await exists(join(staging, `${idle.id}.expired`))).toBe(true)
    })

    test('never touches committed files, even when their staged upload expires', async () => {
      const data = bytes(2 * CHUNK, 31)
      const m = manifestFor(data)
      await writeAll(store, m, data)
      await place(m.id, 'documents/9/keep.bin')
      const other = join(files, 'unrelated.txt')
      await writeFile(other, 'x')
      await age(other, 365 * 24 * 3600_000)
      await age(join(files, 'documents', '9', 'keep.bin'), 365 * 24 * 3600_000)
      const result = await store.sweep(1, Date.now() + 30 * 24 * 3600_000)
      expect(result.expired).toEqual([m.id])
      expect(sha256(await readFile(join(files, 'documents', '9', 'keep.bin')))).toBe(sha256(data))
      expect(await readFile(other, 'utf8')).toBe('x')
    })
  })

  describe('a staging folder shared with other files', () => {
    /** Entries another program keeps in the staging folder, a year old: none of them may go. */
    async function strangers(): Promise<string[]> {
      const paths = [join(staging, 'notes.txt'), join(staging, 'photos'), join(staging, newId()), join(staging, `${newId()}.bak`), join(staging, '.trash-of-someone')]
      await writeFile(paths[0], 'keep me')
      await mkdir(paths[1])
      await writeFile(join(paths[1], 'a.jpg'), 'jpeg')
      // Named like an upload, but no upload: a folder and a file.
      await mkdir(paths[2])
      await writeFile(join(paths[2], 'data'), 'theirs')
      await writeFile(paths[3], 'theirs')
      await writeFile(paths[4], 'theirs')
      for (const p of paths) await age(p, 365 * 24 * 3600_000)
      return paths
    }

    test("start-up and sweeps remove only the store's own entries: a stranger's old files and folders survive", async () => {
      const paths = await strangers()
      const data = bytes(2 * CHUNK, 45)
      const idle = manifestFor(data)
      await writeAll(store, idle, data, [1])
      for (const f of ['manifest.json', 'received', 'data']) await age(join(staging, idle.id, f), 365 * 24 * 3600_000)

      await backend().staging.init()
      const swept = await store.sweep(1000, Date.now() + 30 * 24 * 3600_000)
      expect(swept.expired).toEqual([idle.id])
      await store.sweep(1000, Date.now() + 365 * 24 * 3600_000)
      for (const p of paths) expect(await exists(p)).toBe(true)
      expect(await readFile(paths[0], 'utf8')).toBe('keep me')
      expect(await readFile(join(paths[1], 'a.jpg'), 'utf8')).toBe('jpeg')
      expect(await readFile(join(paths[2], 'data'), 'utf8')).toBe('theirs')
      expect(await exists(join(staging, idle.id))).toBe(false)
      // A stranger's folder named like an upload is no upload: nobody's usage, never a 410.
      expect(await store.state(paths[2].split('/').pop()!)).toBe('missing')
      expect(await store.usage('admin')).toEqual({ uploads: 0, bytes: 0 })
    })

    test.each([
      ['the storage directory itself', (files: string) => files],
      ['the folder above it', (files: string) => join(files, '..')],
      ['the file system root', () => '/'],
    ])('a staging folder that is %s is refused at start-up, naming stagingDirectory', (_label, where) => {
      expect(() => localBackend({ directory: files, stagingDirectory: where(files) })).toThrow(/stagingDirectory/)
    })

    test('a staging folder inside the storage directory, or beside it, is accepted', () => {
      expect(() => localBackend({ directory: files, stagingDirectory: join(files, '.staging') })).not.toThrow()
      expect(() => localBackend({ directory: files, stagingDirectory: join(root, 'staging') })).not.toThrow()
      expect(() => localBackend({ directory: files, stagingDirectory: join(root, '..files') })).not.toThrow()
    })
  })

  describe('owner limits across processes (reservations in the staging folder)', () => {
    const LIMIT_ONE = { create: { uploads: 1 } }

    /** A reservation as another process leaves it while it creates `id` for `owner`. */
    async function reservation(owner: string, id: string, size: number, holder: string, agedMs = 0): Promise<string> {
      const path = store.layout.reservation(owner, id, size)
      await symlink(holder, path)
      if (agedMs) {
        const then = new Date(Date.now() - agedMs)
        await lutimes(path, then, then)
      }
      return path
    }

    test('a creation in flight in another process counts: past the limit, TooManyUploads and nothing created; the other owner is not affected', async () => {
      await reservation('admin', newId(), 1000, 'some-other-host:1:abcdef')
      expect(await store.usage('admin')).toEqual({ uploads: 1, bytes: 1000 })
      const data = bytes(2 * CHUNK, 50)
      const m = manifestFor(data)
      await expect(store.writeChunk(m, chunkOf(m, data, 1), LIMIT_ONE)).rejects.toBeInstanceOf(TooManyUploads)
      expect(await store.state(m.id)).toBe('missing')
      const theirs = manifestFor(data, { owner: 'editor' })
      expect(await store.writeChunk(theirs, chunkOf(theirs, data, 1), LIMIT_ONE)).toEqual({ complete: false, written: true })
    })

    test('a reservation whose holder died (this host) or stopped refreshing it (another host) no longer counts, and start-up removes it', async () => {
      // pid 2^22+1 is above Linux's pid_max: that process cannot exist.
      const dead = await reservation('admin', newId(), 10, `${hostname()}:4194305:deadbeef`)
      const silent = await reservation('admin', newId(), 10, 'some-other-host:1:abcdef', 10_000)
      const restarted = backend({ lockStaleMs: 2000 }).staging
      expect(await restarted.usage('admin')).toEqual({ uploads: 0, bytes: 0 })
      const data = bytes(2 * CHUNK, 51)
      const m = manifestFor(data)
      expect(await restarted.writeChunk(m, chunkOf(m, data, 1), LIMIT_ONE)).toEqual({ complete: false, written: true })
      await restarted.init()
      expect(await lstat(dead).catch(() => null)).toBeNull()
      expect(await lstat(silent).catch(() => null)).toBeNull()
    })

    test('an owner lock left by a dead process is taken over at once; a created upload and a failed first chunk both leave no reservation or lock behind', async () => {
      await symlink(`${hostname()}:4194305:deadbeef`, store.layout.ownerLock('admin'))
      const data = bytes(2 * CHUNK, 52)
      const m = manifestFor(data)
      expect(await store.writeChunk(m, chunkOf(m, data, 1), LIMIT_ONE)).toEqual({ complete: false, written: true })
      const short = manifestFor(data, { owner: 'editor' })
      await expect(store.writeChunk(short, chunkOf(short, data, 1, sliceOf(short, data, 1).subarray(1)), LIMIT_ONE)).rejects.toBeInstanceOf(InvalidRequest)
      expect((await readdir(staging)).sort()).toEqual([m.id])
      // The chunk of an upload that exists is never refused for the limit.
      expect(await store.writeChunk(m, chunkOf(m, data, 1), LIMIT_ONE)).toEqual({ complete: false, written: false })
    })
  })

  describe('init after a crash', () => {
    test('removes half-created uploads, trash, commit links, stale locks and old tombstones; keeps live uploads', async () => {
      const data = bytes(2 * CHUNK, 40)
      const live = manifestFor(data)
      await writeAll(store, live, data, [1])
      const creating = join(staging, `.creating-${newId()}-0011223344556677`)
      await mkdir(creating)
      await writeFile(join(creating, 'manifest.json'), '{')
      const youngCreating = join(staging, `.creating-${newId()}-8899aabbccddeeff`)
      await mkdir(youngCreating)
      const trash = join(staging, `.trash-${newId()}-0011223344556677`)
      await mkdir(trash)
      await writeFile(join(trash, 'data'), 'x')
      const commitLink = join(staging, '.commit-0011223344556677')
      await writeFile(commitLink, 'x')
      const staleLock = join(staging, live.id, 'lock-2')
      await writeFile(staleLock, 'some-other-host:1:abcdef')
      const oldTombstone = join(staging, `${newId()}.expired`)
      await writeFile(oldTombstone, 'x')
      const newTombstone = join(staging, `${newId()}.expired`)
      await writeFile(newTombstone, 'x')

      for (const p of [creating, commitLink, staleLock]) await age(p, 5 * 60_000)
      await age(oldTombstone, 30 * 24 * 3600_000)
      // `.trash-*` goes whatever its age.

      const restarted = backend({ lockStaleMs: 2000 }).staging
      await restarted.init()
      const left = (await readdir(staging)).sort()
      expect(left).toEqual([live.id, newTombstone.split('/').pop()!, youngCreating.split('/').pop()!].sort())
      expect(await exists(staleLock)).toBe(false)
      // The live upload goes on where it was.
      expect(await isHeld(restarted, live.id, 1)).toBe(true)
      expect(await restarted.writeChunk(live, chunkOf(live, data, 2))).toEqual({ complete: true, written: true })
      expect(sha256(await readFile(join(staging, live.id, 'complete')))).toBe(sha256(data))
    })

    test('finishes an upload whose chunks are all marked but whose data was not renamed yet', async () => {
      const data = bytes(3 * CHUNK + 1, 41)
      const m = manifestFor(data)
      await writeAll(store, m, data, [1])
      // The crash: every chunk's bytes written and marked, the process died before the rename.
      const handle = await open(join(staging, m.id, 'data'), 'r+')
      await handle.write(data, 0, data.length, 0)
      await handle.close()
      await writeFile(join(staging, m.id, 'received'), Buffer.alloc(m.chunkCount, 1))
      expect(await exists(join(staging, m.id, 'complete'))).toBe(false)

      const restarted = backend().staging
      await restarted.init()
      expect(await restarted.state(m.id)).toBe('complete')
      expect(await exists(join(staging, m.id, 'data'))).toBe(false)
      expect(sha256(await readFile(join(staging, m.id, 'complete')))).toBe(sha256(data))
    })

    test('does not finish an upload with a chunk still unmarked', async () => {
      const data = bytes(3 * CHUNK, 42)
      const m = manifestFor(data)
      await writeAll(store, m, data, [1])
      await writeFile(join(staging, m.id, 'received'), Buffer.from([1, 0, 1]))
      const restarted = backend().staging
      await restarted.init()
      expect(await restarted.state(m.id)).toBe('partial')
    })
  })
})
