/**
 * Previews through the download route: `?inline=1` is honoured only for types a browser renders
 * without running anything (raster images, video, audio, PDF), always with nosniff and a
 * restrictive Content-Security-Policy; everything else stays an attachment. Same access check as a
 * download, Range included. Through the example app with a type list, so the served type is the
 * checked one.
 */
import request from 'supertest'
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import { previewKind } from '../src/shared/preview.js'
import { login, startTestApp, type Agent, type TestApp } from './support/app.js'
import { sha256, uploadAll, type FileSpec } from './support/resumable-client.js'
import { htmlFile, pdfFile, pngFile, signed, svgFile, wavFile } from './support/samples.js'

const CHUNK = 64 * 1024
const download = (id: unknown, inline = true) => `/admin/api/resumable/Document/file/download/${id}${inline ? '?inline=1' : ''}`

function binary(res: request.Response, callback: (error: Error | null, body: Buffer) => void): void {
  const pieces: Buffer[] = []
  res.on('data', (piece: Buffer) => pieces.push(piece))
  res.on('end', () => callback(null, Buffer.concat(pieces)))
}

function get(agent: Agent, url: string, range?: string) {
  const req = agent.get(url)
  if (range) req.set('Range', range)
  return req.buffer(true).parse(binary as never)
}

describe('previewKind', () => {
  test.each([
    ['image/png', 'image'], ['IMAGE/JPEG; q=1', 'image'], ['image/webp', 'image'],
    ['video/mp4', 'video'], ['video/webm', 'video'], ['audio/wav', 'audio'], ['audio/mpeg', 'audio'],
    ['application/pdf', 'pdf'],
    ['image/svg+xml', null], ['text/html', null], ['text/plain', null], ['application/xhtml+xml', null],
    ['application/octet-stream', null], ['image/x-unknown', null], ['', null], [undefined, null], ['video/', null],
  ])('%s → %s', (type, kind) => {
    expect(previewKind(type)).toBe(kind)
  })
})

describe('download route, inline', () => {
  let t: TestApp
  let admin: Agent
  let viewer: Agent
  const ids: Record<string, unknown> = {}
  const files: Record<string, FileSpec> = {
    // Declared as JPEG, the bytes are a PNG: the checked type (image/png) is what is served.
    image: { identifier: 'preview-image', filename: 'photo.jpg', type: 'image/jpeg', data: pngFile(3 * CHUNK + 100), chunkSize: CHUNK },
    video: { identifier: 'preview-video', filename: 'clip.mp4', type: 'video/mp4', data: signed('video/mp4', 2 * CHUNK + 500), chunkSize: CHUNK },
    audio: { identifier: 'preview-audio', filename: 'tone.wav', type: 'audio/wav', data: wavFile(1), chunkSize: CHUNK },
    pdf: { identifier: 'preview-pdf', filename: 'report.pdf', type: 'application/pdf', data: pdfFile(2000), chunkSize: CHUNK },
    html: { identifier: 'preview-html', filename: 'page.html', type: 'text/html', data: htmlFile(800), chunkSize: CHUNK },
    svg: { identifier: 'preview-svg', filename: 'logo.svg', type: 'image/svg+xml', data: svgFile(), chunkSize: CHUNK },
    text: { identifier: 'preview-text', filename: 'notes.txt', type: 'text/plain', data: Buffer.from('plain words\n'), chunkSize: CHUNK },
  }

  beforeAll(async () => {
    t = await startTestApp({ env: { ALLOWED_TYPES: 'image/*,video/*,audio/*,application/pdf,text/html,text/plain' } })
    admin = await login(t.app, 'admin@example.com')
    viewer = await login(t.app, 'viewer@example.com')
    for (const [name, file] of Object.entries(files)) {
      const reference = await uploadAll(admin, file)
      const saved = await admin.post('/admin/api/resources/Document/actions/new').field('title', name).field('file', reference)
      expect([name, saved.body.record.errors]).toEqual([name, {}])
      ids[name] = saved.body.record.params.id
    }
  })
  afterAll(async () => {
    await t?.close()
  })

  const storedType = async (name: string): Promise<string> => {
    const row = (await t.Document.findByPk(Number(ids[name]), { raw: true })) as unknown as { fileMimeType: string }
    return row.fileMimeType
  }

  test.each(['image', 'video', 'audio', 'pdf'])('%s: inline, its checked type, nosniff, a CSP without scripts, the exact bytes', async (name) => {
    const res = await get(admin, download(ids[name]))
    expect(res.status).toBe(200)
    const type = await storedType(name)
    expect(previewKind(type)).toBe(name)
    expect(res.headers['content-type']).toBe(type)
    expect(String(res.headers['content-disposition'])).toMatch(/^inline; filename="/)
    expect(res.headers['x-content-type-options']).toBe('nosniff')
    expect(res.headers['cross-origin-resource-policy']).toBe('same-origin')
    const csp = String(res.headers['content-security-policy'])
    expect(csp).toContain("default-src 'none'")
    expect(csp).not.toMatch(/script-src|unsafe-eval/)
    expect(csp).toMatch(/(^|; )sandbox($|;)/)
    expect(sha256(res.body as Buffer)).toBe(sha256(files[name].data))
  })

  test('the image declared as JPEG is served as the PNG its bytes are', async () => {
    expect(await storedType('image')).toBe('image/png')
    expect((await admin.get(download(ids.image))).headers['content-type']).toBe('image/png')
  })

  test.each(['html', 'svg', 'text'])('%s: ?inline=1 is ignored, it stays an attachment with nosniff and no CSP relaxation', async (name) => {
    const res = await get(admin, download(ids[name]))
    expect(res.status).toBe(200)
    expect(String(res.headers['content-disposition'])).toMatch(/^attachment; /)
    expect(res.headers['x-content-type-options']).toBe('nosniff')
    expect(res.headers['content-security-policy']).toBeUndefined()
    expect(res.headers['content-type']).toBe(await storedType(name))
  })

  test.each(['image', 'video'])('%s without ?inline=1 (or with another value) is an attachment', async (name) => {
    for (const url of [download(ids[name], false), `${download(ids[name], false)}?inline=true`, `${download(ids[name], false)}?inline=0`]) {
      const res = await admin.get(url)
      expect([url, String(res.headers['content-disposition']).split(';')[0]]).toEqual([url, 'attachment'])
      expect(res.headers['content-security-policy']).toBeUndefined()
    }
  })

  test('video: Range requests are answered 206 inline, as a player seeking sends them', async () => {
    const data = files.video.data
    const first = await get(admin, download(ids.video), 'bytes=0-')
    expect(first.status).toBe(206)
    expect(first.headers['content-range']).toBe(`bytes 0-${data.length - 1}/${data.length}`)
    expect(String(first.headers['content-disposition'])).toMatch(/^inline;/)
    const seek = await get(admin, download(ids.video), `bytes=${CHUNK}-${CHUNK + 999}`)
    expect(seek.status).toBe(206)
    expect(seek.headers['content-range']).toBe(`bytes ${CHUNK}-${CHUNK + 999}/${data.length}`)
    expect((seek.body as Buffer).equals(data.subarray(CHUNK, CHUNK + 1000))).toBe(true)
    expect(seek.headers['content-type']).toBe('video/mp4')
  })

  test('a viewer who may show the record gets the inline preview, Range included', async () => {
    const res = await get(viewer, download(ids.image))
    expect(res.status).toBe(200)
    expect(String(res.headers['content-disposition'])).toMatch(/^inline;/)
    const part = await get(viewer, download(ids.video), 'bytes=10-19')
    expect(part.status).toBe(206)
    expect((part.body as Buffer).equals(files.video.data.subarray(10, 20))).toBe(true)
  })

  test('anonymous and forged sessions get 401 JSON and no bytes, inline or not', async () => {
    for (const name of ['image', 'video', 'pdf']) {
      for (const res of [
        await request(t.app).get(download(ids[name])),
        await request(t.app).get(download(ids[name])).set('Range', 'bytes=0-'),
        await request(t.app).get(download(ids[name])).set('Cookie', 'adminjs=s%3Aforged.signature'),
      ]) {
        expect(res.status).toBe(401)
        expect(res.headers['content-disposition']).toBeUndefined()
        expect(res.body).toMatchObject({ status: 'error', code: 'not_authenticated' })
      }
    }
  })

  test('404 JSON for another resource, a property that is not a file, an unknown record', async () => {
    for (const url of [
      `/admin/api/resumable/Sessions/file/download/${ids.image}?inline=1`,
      `/admin/api/resumable/Nope/file/download/${ids.image}?inline=1`,
      `/admin/api/resumable/Document/title/download/${ids.image}?inline=1`,
      download(999999),
    ]) {
      const res = await admin.get(url)
      expect([url, res.status]).toEqual([url, 404])
      expect(res.body).toMatchObject({ status: 'error', code: 'not_found' })
      expect(res.headers['content-disposition']).toBeUndefined()
    }
  })
})
