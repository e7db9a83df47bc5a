/**
 * Per-chunk SHA-256 from the real edit component in headless Chromium: every test GET and POST
 * carries the digest of the chunk's own bytes; a chunk damaged in flight (its request body
 * rewritten by the test) is answered 460, sent again by Resumable.js, and the saved file is right.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Page } from 'playwright-core'
import { browserMissing, launchBrowser, type Browser } from './support/browser.js'
import { listen, logIn, type Listening } from './support/browser-app.js'
import { bytes, sha256 } from './support/resumable-client.js'
import type { DocumentParams } from './support/document.js'
import { expectChunkDigests } from './support/chunk-requests.js'

const MiB = 1024 * 1024
const CHUNK_PATH = '/admin/api/resumable/Document/file'
const STATUS = '[data-testid=resumable-status]'
const LONG = 180_000

const missing = browserMissing()
const describeBrowser = missing ? describe.skip : describe
if (missing) test.todo(`CHUNK DIGEST BROWSER TESTS DID NOT RUN: ${missing}`)

interface Seen {
  method: string
  chunk: number
  digest: string | null
  /** A POST's Content-Type and body length. */
  type?: string
  length?: number
  status: number | null
}

async function waitForComplete(page: Page): Promise<void> {
  await page.waitForFunction((status) => {
    const s = document.querySelector(status)?.getAttribute('data-state') ?? ''
    return ['complete', 'failed', 'expired', 'auth-required', 'refused'].includes(s)
  }, STATUS, { timeout: LONG, polling: 100 })
  expect(await page.getAttribute(STATUS, 'data-state')).toBe('complete')
}

describeBrowser('chunk digests from the edit component in Chromium', () => {
  let app: Listening
  let browser: Browser
  let files: string

  beforeAll(async () => {
    files = mkdtempSync(join(tmpdir(), 'adminjs-resumable-digest-'))
    app = await listen({ CHUNK_SIZE: String(MiB) })
    browser = await launchBrowser()
  }, LONG)
  afterAll(async () => {
    await browser?.close()
    await app?.close()
    if (files) rmSync(files, { recursive: true, force: true })
  }, LONG)

  test('every chunk request carries its digest; a chunk damaged in flight is retried and the saved file is right', async () => {
    const data = bytes(3 * MiB + 512 * 1024, 77)
    const path = join(files, 'checked.bin')
    writeFileSync(path, data)
    const chunkOf = (n: number) => data.subarray((n - 1) * MiB, n === 3 ? data.length : n * MiB)

    const page = await browser.context.newPage()
    const seen: Seen[] = []
    page.on('response', (res) => {
      const url = new URL(res.url())
      if (url.pathname !== CHUNK_PATH || !url.searchParams.get('resumableChunkNumber')) return
      seen.push({
        method: res.request().method(),
        chunk: Number(url.searchParams.get('resumableChunkNumber')),
        digest: url.searchParams.get('resumableChunkSha256'),
        status: res.status(),
        type: res.request().headers()['content-type'],
        length: res.request().postDataBuffer()?.length,
      })
    })
    let damaged = 0
    await page.route(`**${CHUNK_PATH}?*`, async (route) => {
      const request = route.request()
      const url = new URL(request.url())
      if (request.method() !== 'POST' || url.searchParams.get('resumableChunkNumber') !== '2' || damaged) {
        await route.continue()
        return
      }
      damaged++
      // One byte of the chunk's bytes flipped (the body is the chunk: the component sends it raw).
      const body = Buffer.from(request.postDataBuffer()!)
      body[body.length - 4096] ^= 0xff
      await route.continue({ postData: body })
    })

    await logIn(page, app.base)
    await page.goto(`${app.base}/admin/resources/Document/actions/new`)
    await page.waitForSelector('[data-testid=resumable-input]', { state: 'attached' })
    const title = 'digest in Chromium'
    await page.fill('input[name=title]', title)
    await page.setInputFiles('[data-testid=resumable-input]', path)
    await waitForComplete(page)

    expect(damaged).toBe(1)
    const posts = seen.filter((s) => s.method === 'POST')
    const tests = seen.filter((s) => s.method === 'GET')
    expect(tests.length).toBeGreaterThanOrEqual(3)
    expectChunkDigests(seen, (n) => sha256(chunkOf(n)), [1, 2, 3])
    // Each chunk goes as the raw body (Resumable.js's octet mode), not wrapped in a multipart form.
    for (const post of posts) {
      expect(post.type).toBe('application/octet-stream')
      expect(post.length).toBe(chunkOf(post.chunk).length)
    }
    const chunk2 = posts.filter((s) => s.chunk === 2).map((s) => s.status)
    expect(chunk2[0]).toBe(460)
    expect(chunk2.at(-1)).toBe(200)

    const from = page.url()
    await page.click('form button[type=submit]')
    await page.waitForURL((url) => url.href !== from, { timeout: 30_000 })
    const saved = (await app.app.Document.findOne({ where: { title }, raw: true })) as DocumentParams | null
    expect(saved).not.toBeNull()
    expect(saved!.fileChecksum).toBe(sha256(data))
    const cookie = (await browser.context.cookies(app.base)).map((c) => `${c.name}=${c.value}`).join('; ')
    const download = await fetch(`${app.base}/admin/api/resumable/Document/file/download/${saved!.id}`, { headers: { cookie } })
    expect(download.status).toBe(200)
    expect(sha256(Buffer.from(await download.arrayBuffer()))).toBe(sha256(data))
    await page.close()
  }, LONG)
})
