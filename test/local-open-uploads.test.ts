/**
 * OpenUploads: the per-process copy of each upload's manifest and a read-only handle on its `received` marks.
 * What it must never do is answer with an upload that is no longer the one on disk.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { mkdir, rename, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, test } from '@jest/globals'
import { directIo, pooledIo } from '../src/store/local/io.js'
import { OpenUploads } from '../src/store/local/open-uploads.js'
import type { UploadManifest } from '../src/store/types.js'

const ID = 'a'.repeat(40)

function manifest(totalSize: number): UploadManifest {
  return {
    version: 1, id: ID, owner: 'admin', resourceId: 'Document', propertyPath: 'file', filename: 'f.bin',
    rawFilenameHash: 'h', type: 'application/octet-stream', totalSize, chunkSize: 10, forceChunkSize: false,
    chunkCount: Math.max(1, Math.floor(totalSize / 10)), createdAt: new Date(0).toISOString(),
  }
}

describe.each([['direct', directIo], ['pooled', pooledIo]] as const)('OpenUploads (%s metadata calls)', (_name, io) => {
  let root: string
  let dir: string

  /** Creates the upload the way the store does: a folder renamed into place with both files. */
  async function create(totalSize: number, marks = Buffer.alloc(Math.max(1, Math.floor(totalSize / 10)))): Promise<void> {
    const temp = join(root, `.creating-${Math.random()}`)
    await mkdir(temp)
    await writeFile(join(temp, 'manifest.json'), JSON.stringify(manifest(totalSize)))
    await writeFile(join(temp, 'received'), marks)
    await rename(temp, dir)
  }

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'adminjs-resumable-open-'))
    dir = join(root, ID)
  })
  afterEach(() => {
    rmSync(root, { recursive: true, force: true })
  })

  test('no upload: null, and nothing kept', async () => {
    const uploads = new OpenUploads({ io })
    expect(await uploads.acquire(ID, dir)).toBeNull()
    expect(uploads.peek(ID)).toBeNull()
  })

  test('reads the manifest once and the marks through its handle as they change', async () => {
    await create(30)
    const uploads = new OpenUploads({ io })
    const first = await uploads.acquire(ID, dir)
    expect(first?.manifest.totalSize).toBe(30)
    uploads.release(first!)
    // Manifests never change while their upload exists: the copy in memory is used.
    await writeFile(join(dir, 'manifest.json'), JSON.stringify({ ...manifest(30), filename: 'edited.bin' }))
    await writeFile(join(dir, 'received'), Buffer.from([1, 0, 1]), { flag: 'r+' })
    const second = await uploads.acquire(ID, dir)
    expect(second).toBe(first)
    expect(second?.manifest.filename).toBe('f.bin')
    const marks = Buffer.alloc(3)
    await second!.received.read(marks, 0, 3, 0)
    expect([...marks]).toEqual([1, 0, 1])
    uploads.release(second!)
  })

  test('an upload removed and started again (new files at the same path) is read afresh', async () => {
    await create(30)
    const uploads = new OpenUploads({ io })
    const old = await uploads.acquire(ID, dir)
    uploads.release(old!)
    await rm(dir, { recursive: true })
    await create(50)
    const now = await uploads.acquire(ID, dir)
    expect(now?.manifest.totalSize).toBe(50)
    expect(uploads.peek(ID)?.totalSize).toBe(50)
    // The old handle is closed once nobody uses it.
    expect(old!.received.fd).toBe(-1)
    uploads.release(now!)
  })

  test('an upload moved away (cancelled) is gone; its handle closes only after its last user', async () => {
    await create(30)
    const uploads = new OpenUploads({ io })
    const inUse = await uploads.acquire(ID, dir)
    await rename(dir, join(root, '.trash'))
    expect(await uploads.acquire(ID, dir)).toBeNull()
    expect(uploads.peek(ID)).toBeNull()
    expect(inUse!.received.fd).not.toBe(-1)
    const marks = Buffer.alloc(3)
    await inUse!.received.read(marks, 0, 3, 0)
    uploads.release(inUse!)
    await new Promise((resolve) => setImmediate(resolve))
    expect(inUse!.received.fd).toBe(-1)
  })

  test('drop() forgets an upload at once and closes its handle after the last release', async () => {
    await create(30)
    const uploads = new OpenUploads({ io })
    const a = await uploads.acquire(ID, dir)
    const b = await uploads.acquire(ID, dir)
    expect(b).toBe(a)
    uploads.drop(ID)
    expect(uploads.peek(ID)).toBeNull()
    uploads.release(a!)
    expect(a!.received.fd).not.toBe(-1)
    uploads.release(b!)
    await new Promise((resolve) => setImmediate(resolve))
    expect(a!.received.fd).toBe(-1)
  })

  test('bounded: past the limit an idle upload is closed, and with none idle the new one is served but not kept', async () => {
    const other = 'b'.repeat(40)
    const otherDir = join(root, other)
    await create(30)
    await mkdir(otherDir)
    await writeFile(join(otherDir, 'manifest.json'), JSON.stringify({ ...manifest(20), id: other }))
    await writeFile(join(otherDir, 'received'), Buffer.alloc(2))
    const uploads = new OpenUploads({ io, limit: 1 })

    const first = await uploads.acquire(ID, dir)
    const second = await uploads.acquire(other, otherDir)
    expect(second?.manifest.id).toBe(other)
    expect(uploads.peek(other)).toBeNull()
    uploads.release(second!)
    await new Promise((resolve) => setImmediate(resolve))
    expect(second!.received.fd).toBe(-1)

    uploads.release(first!)
    const third = await uploads.acquire(other, otherDir)
    expect(uploads.peek(other)?.id).toBe(other)
    expect(uploads.peek(ID)).toBeNull()
    await new Promise((resolve) => setImmediate(resolve))
    expect(first!.received.fd).toBe(-1)
    uploads.release(third!)
  })

  test('idle uploads are closed after idleMs', async () => {
    await create(30)
    const uploads = new OpenUploads({ io, limit: 8, idleMs: 50 })
    const upload = await uploads.acquire(ID, dir)
    uploads.release(upload!)
    await new Promise((resolve) => setTimeout(resolve, 200))
    expect(uploads.peek(ID)).toBeNull()
    expect(upload!.received.fd).toBe(-1)
  })

  test('writers share one pair of writable handles, closed as soon as the last writer is done', async () => {
    await create(30)
    await writeFile(join(dir, 'data'), Buffer.alloc(30))
    const uploads = new OpenUploads({ io })
    const upload = await uploads.acquire(ID, dir)
    const [a, b] = await Promise.all([uploads.openWriter(upload!, dir), uploads.openWriter(upload!, dir)])
    expect(b).toBe(a)
    await a.received.write(Buffer.from([1]), 0, 1, 2)
    await uploads.closeWriter(upload!)
    expect(a.data.fd).not.toBe(-1)
    await uploads.closeWriter(upload!)
    expect([a.data.fd, a.received.fd]).toEqual([-1, -1])
    // The read-only handle sees what the writer wrote; a later writer gets fresh handles.
    const marks = Buffer.alloc(3)
    await upload!.received.read(marks, 0, 3, 0)
    expect([...marks]).toEqual([0, 0, 1])
    const c = await uploads.openWriter(upload!, dir)
    expect(c).not.toBe(a)
    await uploads.closeWriter(upload!)
    uploads.release(upload!)
  })

  test('a writer that cannot open (no data file) fails and leaves nothing open', async () => {
    await create(30)
    const uploads = new OpenUploads({ io })
    const upload = await uploads.acquire(ID, dir)
    await expect(uploads.openWriter(upload!, dir)).rejects.toMatchObject({ code: 'ENOENT' })
    await writeFile(join(dir, 'data'), Buffer.alloc(30))
    const writer = await uploads.openWriter(upload!, dir)
    await uploads.closeWriter(upload!)
    expect(writer.data.fd).toBe(-1)
    uploads.release(upload!)
  })

  test('a writer arriving while the last one closes gets handles of its own, never closed under it', async () => {
    await create(30)
    await writeFile(join(dir, 'data'), Buffer.alloc(30))
    const uploads = new OpenUploads({ io })
    const upload = await uploads.acquire(ID, dir)
    const first = await uploads.openWriter(upload!, dir)
    const closing = uploads.closeWriter(upload!)
    const second = await uploads.openWriter(upload!, dir)
    await closing
    expect(second).not.toBe(first)
    await second.data.write(Buffer.from([7]), 0, 1, 0)
    await uploads.closeWriter(upload!)
    uploads.release(upload!)
  })
})
