/**
 * Thumbnails (src/preview/thumbnail.ts) through the example app's download route: `?thumb=1` on an
 * image answers a small WebP made once with sharp and kept in the storage's thumbnails' folder; a
 * second request reads the kept copy; deleting the record's file deletes its thumbnail; a file
 * that is not an image is never thumbnailed.
 */
import { existsSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import sharp from 'sharp'
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import { login, startTestApp, type Agent, type TestApp } from './support/app.js'
import { uploadAll, type FileSpec } from './support/resumable-client.js'

const CHUNK = 64 * 1024
const download = (id: unknown) => `/admin/api/resumable/Document/file/download/${id}`

function binary(res: NodeJS.ReadableStream, callback: (error: Error | null, body: Buffer) => void): void {
  const pieces: Buffer[] = []
  res.on('data', (piece: Buffer) => pieces.push(piece))
  res.on('end', () => callback(null, Buffer.concat(pieces)))
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true }).map(String).filter((f) => statSync(join(dir, f)).isFile())
}

describe('thumbnails', () => {
  let t: TestApp
  let admin: Agent
  let id: unknown
  let original: Buffer

  beforeAll(async () => {
    t = await startTestApp()
    admin = await login(t.app, 'admin@example.com')
    // A real, large-ish photo-like PNG: noise does not compress, so the original is big.
    const raw = Buffer.alloc(1600 * 1200 * 3)
    for (let i = 0; i < raw.length; i += 1) raw[i] = (i * 2654435761) >>> 24
    original = await sharp(raw, { raw: { width: 1600, height: 1200, channels: 3 } }).png().toBuffer()
    const file: FileSpec = { identifier: 'thumb-photo', filename: 'photo.png', type: 'image/png', data: original, chunkSize: CHUNK }
    const reference = await uploadAll(admin, file)
    const saved = await admin.post('/admin/api/resources/Document/actions/new').field('title', 'photo').field('file', reference)
    expect(saved.body.record.errors).toEqual({})
    id = saved.body.record.params.id
  })
  afterAll(async () => {
    await t?.close()
  })

  test('a small WebP of at most 320 px, made once and kept in the thumbnails\' folder', async () => {
    const before = filesUnder(t.uploadDir)
    expect(before.some((f) => f.startsWith('.thumbnails/'))).toBe(false)
    const first = await admin.get(`${download(id)}?thumb=1`).buffer(true).parse(binary as never)
    expect(first.status).toBe(200)
    expect(first.headers['content-type']).toBe('image/webp')
    const body = first.body as Buffer
    expect(body.length).toBeLessThan(original.length / 10)
    const meta = await sharp(body).metadata()
    expect([meta.format, Math.max(meta.width ?? 0, meta.height ?? 0)]).toEqual(['webp', 320])
    expect(meta.width! / meta.height!).toBeCloseTo(1600 / 1200, 1)
    const kept = filesUnder(t.uploadDir).filter((f) => f.startsWith('.thumbnails/'))
    expect(kept).toHaveLength(1)
    const keptPath = join(t.uploadDir, kept[0])
    const second = await admin.get(`${download(id)}?thumb=1`).buffer(true).parse(binary as never)
    expect(Buffer.compare(second.body as Buffer, body)).toBe(0)
    expect(existsSync(keptPath)).toBe(true)
    // The plain download is still the original, byte for byte.
    const whole = await admin.get(download(id)).buffer(true).parse(binary as never)
    expect(Buffer.compare(whole.body as Buffer, original)).toBe(0)
  })

  test('removing the record\'s file removes its thumbnail too', async () => {
    await admin.get(`${download(id)}?thumb=1`)
    expect(filesUnder(t.uploadDir).some((f) => f.startsWith('.thumbnails/'))).toBe(true)
    const cleared = await admin.post(`/admin/api/resources/Document/records/${id}/edit`).field('title', 'no photo').field('file', '__clear__')
    expect(cleared.body.record.errors).toEqual({})
    expect(filesUnder(t.uploadDir).filter((f) => f.includes('photo'))).toEqual([])
  })
})
