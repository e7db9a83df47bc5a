/**
 * Thumbnails live in a folder of their own (`.thumbnails/` at the storage root) that no saved file
 * may use, on local storage and on S3: a saved file named like a thumbnail of another (here
 * `photo.png.thumb.webp` beside `photo.png`, the name earlier thumbnails had) is never served as
 * that thumbnail, overwritten or deleted with it; a key in the thumbnails' folder is refused by
 * `uploadPath` checks and by the file storage; thumbnails are still served and go with their file.
 */
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3'
import sharp from 'sharp'
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import { InvalidRequest } from '../src/errors.js'
import { isThumbnailKey, thumbnailKey } from '../src/preview/thumbnail-keys.js'
import { FilesWithThumbnails } from '../src/preview/thumbnail-storage.js'
import { LocalFileStorage } from '../src/store/local/files.js'
import type { FinishedUpload } from '../src/store/staging.js'
import type { UploadManifest } from '../src/store/types.js'
import { assertSafeKey } from '../src/upload/upload-path.js'
import { Readable } from 'node:stream'
import { login, startTestApp, type Agent, type TestApp } from './support/app.js'
import { uploadAll, type FileSpec } from './support/resumable-client.js'
import { s3rverInstalled, startS3rver, type S3Server } from './support/s3rver.js'

const MiB = 1024 * 1024
const download = (id: unknown) => `/admin/api/resumable/Document/file/download/${id}`
const edit = (id: unknown) => `/admin/api/resources/Document/records/${id}/edit`

function binary(res: NodeJS.ReadableStream, callback: (error: Error | null, body: Buffer) => void): void {
  const pieces: Buffer[] = []
  res.on('data', (piece: Buffer) => pieces.push(piece))
  res.on('end', () => callback(null, Buffer.concat(pieces)))
}

function inMemory(bytes: Buffer): FinishedUpload {
  return {
    manifest: { type: 'application/octet-stream' } as UploadManifest,
    size: bytes.length,
    location: { kind: 'memory' },
    read: () => Readable.from([bytes]),
  }
}

describe('the thumbnails\' folder is reserved', () => {
  test.each(['.thumbnails/a.png', '.thumbnails/documents/1/a.png', '.Thumbnails/a.png', '.THUMBNAILS'])('%s is a thumbnail key, refused for a saved file', (key) => {
    expect(isThumbnailKey(key)).toBe(true)
    expect(() => assertSafeKey(key)).toThrow(/thumbnails' folder/)
  })

  test.each(['a/.thumbnails/b.png', '.thumbnailsx/a.png', 'thumbnails/a.png', 'documents/1/a.png.thumb.webp'])('%s is a file key like any other', (key) => {
    expect(isThumbnailKey(key)).toBe(false)
    expect(assertSafeKey(key)).toBe(key)
  })

  test('the feature\'s file storage refuses a key in the thumbnails\' folder on every call and keeps thumbnails there', async () => {
    const root = mkdtempSync(join(tmpdir(), 'adminjs-resumable-thumbkeys-'))
    try {
      const local = new LocalFileStorage({ directory: root, stagingDirectory: join(root, '.staging') })
      const files = new FilesWithThumbnails(local)
      await files.init()
      const reserved = '.thumbnails/documents/1/a.png'
      await expect(files.place(inMemory(Buffer.from('x')), reserved)).rejects.toBeInstanceOf(InvalidRequest)
      await expect(files.stat(reserved)).rejects.toBeInstanceOf(InvalidRequest)
      await expect(files.delete(reserved)).rejects.toBeInstanceOf(InvalidRequest)
      expect(() => files.read(reserved)).toThrow(InvalidRequest)
      await expect(files.thumbnails.stat(reserved)).rejects.toBeInstanceOf(InvalidRequest)
      expect(readdirSync(root)).toEqual([])

      expect(await files.place(inMemory(Buffer.from('original')), 'documents/1/a.png')).toBe(true)
      expect(await files.thumbnails.place(inMemory(Buffer.from('small')), 'documents/1/a.png')).toBe(true)
      expect(statSync(join(root, thumbnailKey('documents/1/a.png'))).size).toBe(5)
      await files.delete('documents/1/a.png')
      expect(readdirSync(root)).toEqual([])
    } finally {
      rmSync(root, { recursive: true, force: true })
    }
  })
})

const installed = s3rverInstalled()

describe.each(['local', 's3'] as const)('thumbnails next to a file named like one, on %s storage', (kind) => {
  if (kind === 's3' && !installed) {
    test.todo('S3 thumbnail keys (s3rver is not installed)')
    return
  }
  let server: S3Server | null = null
  let t: TestApp
  let admin: Agent
  let photo: Buffer
  let lookalike: Buffer
  let photoId: unknown
  let lookalikeId: unknown
  const chunkSize = kind === 's3' ? 5 * MiB : 64 * 1024

  async function saveDocument(title: string, filename: string, type: string, data: Buffer): Promise<{ id: unknown; errors: unknown; body: Record<string, unknown> }> {
    const file: FileSpec = { identifier: `${data.length}-${title}-${kind}`, filename, type, data, chunkSize }
    const reference = await uploadAll(admin, file)
    const saved = await admin.post('/admin/api/resources/Document/actions/new').field('title', title).field('file', reference)
    return { id: saved.body.record?.params?.id, errors: saved.body.record?.errors, body: saved.body }
  }

  /** Every stored key below the storage root (local folder or bucket), staging left out. */
  async function storedKeys(): Promise<string[]> {
    if (kind === 'local') {
      return readdirSync(t.uploadDir, { recursive: true }).map(String)
        .filter((f) => !f.startsWith('.staging') && statSync(join(t.uploadDir, f)).isFile()).sort()
    }
    const s3 = new S3Client(server!.config)
    try {
      const out = await s3.send(new ListObjectsV2Command({ Bucket: server!.bucket }))
      // The feature's default prefix is `resumable/`.
      return (out.Contents ?? []).map((o) => o.Key!.replace(/^resumable\//, '')).filter((k) => !k.startsWith('staging/')).sort()
    } finally {
      s3.destroy()
    }
  }

  const get = (url: string) => admin.get(url).buffer(true).parse(binary as never)

  beforeAll(async () => {
    // S3 raises the chunk size to what its part limits need for MAX_UPLOAD_SIZE: 5 MiB for 1 GiB.
    const env: Record<string, string> = { CHUNK_SIZE: String(chunkSize), MAX_UPLOAD_SIZE: String(1024 * MiB) }
    if (kind === 's3') {
      server = await startS3rver()
      Object.assign(env, {
        S3_BUCKET: server!.bucket, S3_ENDPOINT: server!.endpoint, S3_REGION: 'us-east-1', S3_FORCE_PATH_STYLE: 'true',
        AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER', S3_DOWNLOAD: 'stream',
      })
    }
    t = await startTestApp({
      env,
      feature: {
        // One flat folder for every record, and a way to ask for a key in the thumbnails' folder.
        uploadPath: (_record, filename) => (filename.startsWith('reserved-') ? `.thumbnails/shared/${filename}` : `shared/${filename}`),
      },
    })
    admin = await login(t.app, 'admin@example.com')
    photo = await sharp({ create: { width: 800, height: 600, channels: 3, background: { r: 200, g: 30, b: 30 } } }).png().toBuffer()
    lookalike = await sharp({ create: { width: 40, height: 40, channels: 3, background: { r: 0, g: 0, b: 255 } } }).webp().toBuffer()
    // The look-alike is saved first, so a thumbnail kept next to its original would find it.
    const second = await saveDocument('lookalike', 'photo.png.thumb.webp', 'image/webp', lookalike)
    expect(second.errors).toEqual({})
    lookalikeId = second.id
    const first = await saveDocument('photo', 'photo.png', 'image/png', photo)
    expect(first.errors).toEqual({})
    photoId = first.id
  }, 60_000)
  afterAll(async () => {
    await t?.close()
    await server?.destroy()
  })

  test('the photo\'s thumbnail is made from the photo and kept in the thumbnails\' folder; the look-alike keeps its bytes', async () => {
    const thumb = await get(`${download(photoId)}?thumb=1`)
    expect(thumb.status).toBe(200)
    expect(thumb.headers['content-type']).toBe('image/webp')
    expect(Buffer.compare(thumb.body as Buffer, lookalike)).not.toBe(0)
    const meta = await sharp(thumb.body as Buffer).metadata()
    expect([meta.format, meta.width, meta.height]).toEqual(['webp', 320, 240])
    expect(await storedKeys()).toEqual(['.thumbnails/shared/photo.png', 'shared/photo.png', 'shared/photo.png.thumb.webp'])
    const kept = await get(download(lookalikeId))
    expect(Buffer.compare(kept.body as Buffer, lookalike)).toBe(0)
  })

  test('a Save whose uploadPath gives a key in the thumbnails\' folder is refused and stores nothing', async () => {
    const before = await storedKeys()
    const refused = await saveDocument('reserved', 'reserved-a.png', 'image/png', photo).catch((error: Error) => ({ error }))
    if ('error' in refused) throw refused.error
    expect(refused.errors).not.toEqual({})
    expect(await storedKeys()).toEqual(before)
  })

  test('clearing the photo removes the photo and its thumbnail, never the look-alike', async () => {
    const cleared = await admin.post(edit(photoId)).field('title', 'no photo').field('file', '__clear__')
    expect(cleared.body.record.errors).toEqual({})
    expect(await storedKeys()).toEqual(['shared/photo.png.thumb.webp'])
    const kept = await get(download(lookalikeId))
    expect(kept.status).toBe(200)
    expect(Buffer.compare(kept.body as Buffer, lookalike)).toBe(0)
  })
})
