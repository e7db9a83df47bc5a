/**
 * In headless Chromium with the real resumablejs, against the example app: an upload left behind by
 * a closed page is listed when the form opens again, picking the same file continues it (only the
 * missing chunks are sent) and Save stores it with its SHA-256; Discard removes one; a refusal by
 * onUploadComplete (the example app's stand-in virus scan) is shown with its message.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { BrowserContext, Page, Request as PwRequest } from 'playwright-core'
import { startTestApp, type TestApp } from './support/app.js'
import { browserMissing, launchBrowser, type Browser } from './support/browser.js'
import { bytes, sha256 } from './support/resumable-client.js'
import type { DocumentParams } from './support/document.js'

const MiB = 1024 * 1024
const CHUNK_PATH = '/admin/api/resumable/Document/file'
const LONG = 180_000
const STATUS = '[data-testid=resumable-status]'
const ITEM = '[data-testid=resumable-unfinished-item]'

const missing = browserMissing()
const describeBrowser = missing ? describe.skip : describe
if (missing) test.todo(`RECOVERY BROWSER TESTS DID NOT RUN: ${missing}`)

interface Sent { page: string; chunk: number; status: number | null; done: boolean; failed: boolean }

/** The chunk POSTs of a page, with their outcome. */
function trackPosts(page: Page, label: string, into: Sent[]): void {
  const byRequest = new Map<PwRequest, Sent>()
  page.on('request', (req) => {
    const url = new URL(req.url())
    if (url.pathname !== CHUNK_PATH || req.method() !== 'POST') return
    const sent: Sent = { page: label, chunk: Number(url.searchParams.get('resumableChunkNumber')), status: null, done: false, failed: false }
    byRequest.set(req, sent)
    into.push(sent)
  })
  page.on('response', (res) => { const s = byRequest.get(res.request()); if (s) s.status = res.status() })
  page.on('requestfinished', (req) => { const s = byRequest.get(req); if (s) s.done = true })
  page.on('requestfailed', (req) => { const s = byRequest.get(req); if (s) { s.done = true; s.failed = true } })
}

async function throttle(context: BrowserContext, page: Page, bytesPerSecond: number): Promise<void> {
  const cdp = await context.newCDPSession(page)
  await cdp.send('Network.enable')
  await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 20, downloadThroughput: -1, uploadThroughput: bytesPerSecond })
}

async function logIn(page: Page, base: string): Promise<void> {
  await page.goto(`${base}/admin/login`)
  await page.fill('input[name=email]', 'admin@example.com')
  await page.fill('input[name=password]', 'password')
  await Promise.all([page.waitForURL((url) => !url.pathname.endsWith('/login')), page.click('form[action$="/login"] button')])
}

async function openNewForm(page: Page, base: string): Promise<void> {
  await page.goto(`${base}/admin/resources/Document/actions/new`)
  await page.waitForSelector('[data-testid=resumable-input]', { state: 'attached' })
}

async function waitForState(page: Page, ...wanted: string[]): Promise<string> {
  await page.waitForFunction(([sel, w]) => (w as string[]).includes(document.querySelector(sel as string)?.getAttribute('data-state') ?? ''),
    [STATUS, wanted] as const, { timeout: LONG, polling: 100 })
  return (await page.getAttribute(STATUS, 'data-state')) ?? ''
}

async function eventually<T>(fn: () => Promise<T | null | undefined | false>, what: string, timeoutMs = 20_000): Promise<T> {
  const until = Date.now() + timeoutMs
  for (;;) {
    const value = await fn()
    if (value) return value
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => { setTimeout(resolve, 100) })
  }
}

describeBrowser('recovery after a closed page, discard, and refusals shown (Chromium)', () => {
  let files: string
  let app: TestApp
  let server: Server
  let base: string
  let browser: Browser

  beforeAll(async () => {
    files = mkdtempSync(join(tmpdir(), 'adminjs-resumable-recovery-'))
    app = await startTestApp({ env: { CHUNK_SIZE: String(MiB), CHECKSUMS: 'on' } })
    server = app.app.listen(0, '127.0.0.1')
    await new Promise<void>((resolve) => { server.once('listening', () => resolve()) })
    server.requestTimeout = 0
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    browser = await launchBrowser({ viewport: { width: 1280, height: 900 } })
  }, LONG)

  afterAll(async () => {
    await browser?.close()
    server?.closeAllConnections()
    await new Promise<void>((resolve) => { if (server) server.close(() => resolve()); else resolve() })
    await app?.close()
    if (files) rmSync(files, { recursive: true, force: true })
  }, LONG)

  test('an upload of a closed page is listed with its percent; picking the same file sends only the missing chunks and completes; Discard removes another', async () => {
    const { context } = browser
    const video = join(files, 'video.mp4')
    const data = bytes(16 * MiB, 31)
    writeFileSync(video, data)
    const posts: Sent[] = []

    const first = await context.newPage()
    trackPosts(first, 'first', posts)
    await throttle(context, first, 2 * MiB)
    await logIn(first, base)
    await openNewForm(first, base)
    await first.setInputFiles('[data-testid=resumable-input]', video)
    await first.waitForFunction(() => Number(document.querySelector('[data-testid=resumable-progress]')?.getAttribute('data-percent') ?? 0) >= 30,
      undefined, { timeout: LONG, polling: 50 })
    await first.click('[data-testid=resumable-pause]')
    await waitForState(first, 'paused')
    await eventually(async () => posts.every((p) => p.done), 'no chunk POST in flight after pause')
    await first.close()
    const held = new Set(posts.filter((p) => p.status === 200 && !p.failed).map((p) => p.chunk))
    expect(held.size).toBeGreaterThanOrEqual(2)
    expect(held.size).toBeLessThan(16)

    // A new page: the form lists the upload from the server's state, with its percent.
    const second = await context.newPage()
    trackPosts(second, 'second', posts)
    await openNewForm(second, base)
    await second.fill('input[name=title]', 'Recovered video')
    const item = second.locator(ITEM)
    await item.waitFor({ timeout: 30_000 })
    const percent = Number(await item.getAttribute('data-percent'))
    const listed = await second.request.get(`${base}${CHUNK_PATH}/uploads`, { headers: { 'X-Requested-With': 'XMLHttpRequest' } })
    const [onServer] = (await listed.json()).uploads as Array<{ percent: number; receivedBytes: number }>
    expect(onServer.percent).toBe(percent)
    const heldOnServer = onServer.receivedBytes / MiB
    // What the server holds: at least every chunk whose POST was answered (an aborted one may have arrived too).
    expect(percent).toBeGreaterThanOrEqual(Math.floor((held.size / 16) * 100))
    expect(percent).toBeLessThan(100)
    await expect(item.innerText()).resolves.toMatch(new RegExp(`video\\.mp4, ${percent}%, started (just now|.* ago): pick the file again to continue, or discard`))
    await expect(item.innerText()).resolves.toMatch(/last modified/)

    // The same file again: it goes on from where the server stands.
    await second.setInputFiles('[data-testid=resumable-input]', video)
    await expect(second.locator(ITEM).count()).resolves.toBe(0)
    expect(await waitForState(second, 'complete', 'failed')).toBe('complete')
    const resent = posts.filter((p) => p.page === 'second' && p.status === 200).map((p) => p.chunk)
    expect(resent.filter((n) => held.has(n))).toEqual([])
    expect(new Set(resent).size).toBeLessThanOrEqual(16 - held.size)
    expect(new Set(resent).size).toBe(resent.length)
    // Exactly the chunks the server lacked, each once.
    expect(resent.length).toBe(16 - heldOnServer)

    const from = second.url()
    await second.click('form button[type=submit]')
    await second.waitForURL((url) => url.href !== from, { timeout: 30_000 })
    const saved = await eventually(
      () => app.Document.findOne({ where: { title: 'Recovered video' }, raw: true }) as Promise<DocumentParams | null>, 'the saved row')
    expect(sha256(readFileSync(join(app.uploadDir, saved.filePath)))).toBe(sha256(data))
    expect(saved.fileChecksum).toBe(sha256(data))
    const download = await second.request.head(`${base}${CHUNK_PATH}/download/${saved.id}`)
    expect(download.headers()['repr-digest']).toBe(`sha-256=:${Buffer.from(sha256(data), 'hex').toString('base64')}:`)

    // Another upload left behind, then discarded from the list.
    const other = join(files, 'other.bin')
    writeFileSync(other, bytes(8 * MiB, 32))
    await throttle(context, second, 2 * MiB)
    await openNewForm(second, base)
    const before = posts.filter((p) => p.status === 200).length
    await second.setInputFiles('[data-testid=resumable-input]', other)
    await eventually(async () => posts.filter((p) => p.status === 200).length > before, 'a chunk of other.bin to be stored', LONG)
    await second.click('[data-testid=resumable-pause]')
    await waitForState(second, 'paused')
    await eventually(async () => posts.every((p) => p.done), 'no chunk POST in flight after pause')
    await openNewForm(second, base)
    await second.locator(ITEM).waitFor({ timeout: 30_000 })
    await expect(second.locator(ITEM).innerText()).resolves.toMatch(/other\.bin/)
    await second.click('[data-testid=resumable-discard]')
    await eventually(async () => (await second.locator(ITEM).count()) === 0, 'the discarded upload to leave the list')
    const after = await second.request.get(`${base}${CHUNK_PATH}/uploads`, { headers: { 'X-Requested-With': 'XMLHttpRequest' } })
    expect((await after.json()).uploads).toEqual([])
    await second.close()
  }, LONG)

  test('a file refused by onUploadComplete (the example app\'s virus scan) fails with the hook\'s message', async () => {
    const page = await browser.context.newPage()
    await openNewForm(page, base)
    const eicar = join(files, 'eicar.txt')
    writeFileSync(eicar, 'X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*\n')
    await page.setInputFiles('[data-testid=resumable-input]', eicar)
    expect(await waitForState(page, 'failed', 'complete')).toBe('failed')
    const error = page.locator('[data-testid=resumable-error]')
    await expect(error.innerText()).resolves.toMatch(/The virus scan refused this file \(EICAR test signature\)\./)
    // Final: no Retry offered.
    await expect(page.locator('[data-testid=resumable-retry]').count()).resolves.toBe(0)
    await page.close()
  }, LONG)
})
