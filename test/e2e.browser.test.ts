/**
 * End to end: the real AdminJS pages, the real resumablejs in headless Chromium, the
 * example app in-process (its `.adminjs` components bundle built by createApp), a throttled
 * network so pausing and reloading happen mid-upload, and the database row and stored bytes checked
 * at the end.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { BrowserContext, Page, Request as PwRequest } from 'playwright-core'
import { startTestApp, type TestApp } from './support/app.js'
import { browserMissing, launchBrowser, type Browser } from './support/browser.js'
import { bytes, sha256 } from './support/resumable-client.js'
import { htmlFile, pdfFile } from './support/samples.js'
import { startS3rver, type S3Server } from './support/s3rver.js'
import type { DocumentParams } from './support/document.js'

const MiB = 1024 * 1024
const CHUNK_SIZE = MiB
const CHUNK_PATH = '/admin/api/resumable/Document/file'
const SCREENSHOT = join(process.cwd(), 'docs', 'edit-page.png')
const LONG = 180_000

const missing = browserMissing()

// ---------------------------------------------------------------------------------------------
// Helpers

interface Listening {
  app: TestApp
  server: Server
  base: string
  close(): Promise<void>
}

async function listen(env: Record<string, string>): Promise<Listening> {
  const app = await startTestApp({ env })
  const server = app.app.listen(0, '127.0.0.1')
  await new Promise<void>((resolve, reject) => {
    server.once('listening', () => resolve())
    server.once('error', reject)
  })
  // Long chunk POSTs over a throttled link: no server-side request timeout.
  server.requestTimeout = 0
  const { port } = server.address() as AddressInfo
  return {
    app,
    server,
    base: `http://127.0.0.1:${port}`,
    async close() {
      server.closeAllConnections()
      await new Promise<void>((resolve) => { server.close(() => resolve()) })
      await app.close()
    },
  }
}

interface ChunkEvent {
  phase: string
  method: string
  chunk: number
  status: number | null
  failed: boolean
  done: boolean
}

/** Every request Resumable.js makes to the chunk route, by phase, chunk number and outcome. */
class ChunkTraffic {
  phase = 'first'
  readonly events: ChunkEvent[] = []
  private readonly byRequest = new Map<PwRequest, ChunkEvent>()

  constructor(page: Page) {
    page.on('request', (req) => {
      const url = new URL(req.url())
      if (url.pathname !== CHUNK_PATH) return
      const event: ChunkEvent = {
        phase: this.phase,
        method: req.method(),
        chunk: Number(url.searchParams.get('resumableChunkNumber')),
        status: null,
        failed: false,
        done: false,
      }
      this.byRequest.set(req, event)
      this.events.push(event)
    })
    page.on('response', (res) => {
      const event = this.byRequest.get(res.request())
      if (event) event.status = res.status()
    })
    page.on('requestfinished', (req) => {
      const event = this.byRequest.get(req)
      if (event) event.done = true
    })
    page.on('requestfailed', (req) => {
      const event = this.byRequest.get(req)
      if (event) {
        event.failed = true
        event.done = true
      }
    })
  }

  posts(filter: Partial<ChunkEvent> = {}): ChunkEvent[] {
    return this.events.filter((e) => e.method === 'POST'
      && Object.entries(filter).every(([k, v]) => e[k as keyof ChunkEvent] === v))
  }

  inFlightPosts(): number {
    return this.posts().filter((e) => !e.done).length
  }

  /** A POST that got its 200 and completed: the server holds that chunk. */
  succeededPosts(phase?: string): ChunkEvent[] {
    return this.posts().filter((e) => e.done && !e.failed && e.status === 200 && (!phase || e.phase === phase))
  }

  all(): ChunkEvent[] {
    return this.events
  }
}

/** Throttles the page's uploads (Chromium's DevTools network emulation). */
async function throttleUploads(context: BrowserContext, page: Page, bytesPerSecond: number): Promise<void> {
  const cdp = await context.newCDPSession(page)
  await cdp.send('Network.enable')
  await cdp.send('Network.emulateNetworkConditions', {
    offline: false,
    latency: 20,
    downloadThroughput: -1,
    uploadThroughput: bytesPerSecond,
  })
}

async function logIn(page: Page, base: string, email = 'admin@example.com'): Promise<void> {
  await page.goto(`${base}/admin/login`)
  await page.fill('input[name=email]', email)
  await page.fill('input[name=password]', 'password')
  await Promise.all([
    page.waitForURL((url) => !url.pathname.endsWith('/login')),
    page.click('form[action$="/login"] button'),
  ])
}

const STATUS = '[data-testid=resumable-status]'
const PROGRESS = '[data-testid=resumable-progress]'
/** The edit component's phases in which an upload has stopped short (components/upload-state.ts). */
const STOPPED = ['failed', 'expired', 'auth-required', 'refused']

async function state(page: Page): Promise<string | null> {
  return page.getAttribute(STATUS, 'data-state')
}

async function percent(page: Page): Promise<number> {
  const value = await page.getAttribute(PROGRESS, 'data-percent')
  return value === null ? -1 : Number(value)
}

/** Waits for the upload to reach `min` percent (or to fail, which the caller then sees). */
async function waitForPercent(page: Page, min: number): Promise<void> {
  await page.waitForFunction(([sel, status, threshold, stopped]) => {
    const s = document.querySelector(status as string)?.getAttribute('data-state') ?? ''
    if ((stopped as string[]).includes(s) || s === 'complete') return true
    return Number(document.querySelector(sel as string)?.getAttribute('data-percent') ?? -1) >= (threshold as number)
  }, [PROGRESS, STATUS, min, STOPPED] as const, { timeout: LONG, polling: 50 })
  expect(await state(page)).toBe('uploading')
}

async function waitForState(page: Page, wanted: string): Promise<void> {
  await page.waitForFunction(([status, w, stopped]) => {
    const s = document.querySelector(status as string)?.getAttribute('data-state') ?? ''
    return s === w || (stopped as string[]).includes(s)
  }, [STATUS, wanted, STOPPED] as const, { timeout: LONG, polling: 100 })
  if ((await state(page)) !== wanted) {
    const text = await page.locator('[data-testid=resumable-error]').innerText().catch(() => '')
    throw new Error(`upload ended in state "${await state(page)}" instead of "${wanted}": ${text}`)
  }
}

async function eventually<T>(fn: () => Promise<T | null | undefined | false>, what: string, timeoutMs = 15_000): Promise<T> {
  const until = Date.now() + timeoutMs
  for (;;) {
    const value = await fn()
    if (value) return value
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => { setTimeout(resolve, 100) })
  }
}

async function openNewForm(page: Page, base: string, title: string): Promise<void> {
  await page.goto(`${base}/admin/resources/Document/actions/new`)
  await page.waitForSelector('[data-testid=resumable-input]', { state: 'attached' })
  await page.fill('input[name=title]', title)
}

/** Clicks AdminJS's Save (the form's submit button) and waits for the redirect away from the form. */
async function save(page: Page): Promise<void> {
  const from = page.url()
  await page.click('form button[type=submit]')
  await page.waitForURL((url) => url.href !== from, { timeout: 30_000 })
}

function row(t: TestApp, id: number) {
  return t.Document.findByPk(id, { raw: true }) as Promise<DocumentParams | null>
}

// ---------------------------------------------------------------------------------------------

const describeBrowser = missing ? describe.skip : describe

if (missing) {
  // Loud in the summary too, not just in a console line.
  test.todo(`BROWSER END-TO-END TESTS DID NOT RUN: ${missing}`)
}

describeBrowser('Document form in Chromium with the real resumablejs', () => {
  let files: string
  let main: Listening
  let browser: Browser
  const big = { path: '', name: 'big-upload.bin', size: 24 * MiB, sha: '' }
  const replacement = { path: '', name: 'replacement-v2.dat', size: 10 * MiB + 12345, sha: '' }
  let recordId: number | null = null

  beforeAll(async () => {
    files = mkdtempSync(join(tmpdir(), 'adminjs-resumable-e2e-files-'))
    for (const [file, seed] of [[big, 11], [replacement, 12]] as const) {
      const data = bytes(file.size, seed)
      file.path = join(files, file.name)
      writeFileSync(file.path, data)
      file.sha = sha256(data)
    }
    main = await listen({ CHUNK_SIZE: String(CHUNK_SIZE) })
    browser = await launchBrowser({ viewport: { width: 1280, height: 900 } })
  }, LONG)

  afterAll(async () => {
    await browser?.close()
    await main?.close()
    if (files) rmSync(files, { recursive: true, force: true })
  }, LONG)

  test('a 24 MiB file in 1 MiB chunks: pause stops the transfer, resume and a page reload go on without re-sending held chunks, Save stores it', async () => {
    const { context } = browser
    const page = await context.newPage()
    const traffic = new ChunkTraffic(page)
    await throttleUploads(context, page, 2 * MiB)
    await logIn(page, main.base)
    // A fresh database per run: fixed titles are unique.
    const title = 'Site survey footage'
    await openNewForm(page, main.base, title)

    expect(await state(page)).toBe('idle')
    await page.setInputFiles('[data-testid=resumable-input]', big.path)
    await waitForPercent(page, 12)

    // Pause: the state says so, in-flight chunks are aborted, nothing new is sent, progress holds.
    await page.click('[data-testid=resumable-pause]')
    await waitForState(page, 'paused')
    await eventually(async () => traffic.inFlightPosts() === 0, 'no chunk POST in flight after pause')
    const pausedAt = await percent(page)
    const requestsAtPause = traffic.all().length
    await page.waitForTimeout(2000)
    expect(await state(page)).toBe('paused')
    expect(await percent(page)).toBe(pausedAt)
    expect(traffic.all().length).toBe(requestsAtPause)
    expect(traffic.inFlightPosts()).toBe(0)
    expect(pausedAt).toBeLessThan(100)

    // Resume: it moves on from where it was.
    await page.click('[data-testid=resumable-resume]')
    await waitForPercent(page, pausedAt + 5)
    expect(traffic.all().length).toBeGreaterThan(requestsAtPause)

    // Reload mid-upload, pick the same file again: held chunks are only tested, never re-sent.
    await waitForPercent(page, 40)
    traffic.phase = 'reloaded'
    await page.reload()
    await page.waitForSelector('[data-testid=resumable-input]', { state: 'attached' })
    expect(await state(page)).toBe('idle')
    const heldBeforeReload = new Set(traffic.succeededPosts('first').map((e) => e.chunk))
    await page.fill('input[name=title]', title)
    await page.setInputFiles('[data-testid=resumable-input]', big.path)
    await waitForState(page, 'complete')
    expect(await percent(page)).toBe(100)

    const chunkCount = big.size / CHUNK_SIZE
    expect(heldBeforeReload.size).toBeGreaterThanOrEqual(4)
    expect(heldBeforeReload.size).toBeLessThan(chunkCount)
    const afterReload = traffic.all().filter((e) => e.phase === 'reloaded')
    for (const n of heldBeforeReload) {
      // Tested after the reload and answered "held" ...
      expect(afterReload.some((e) => e.method === 'GET' && e.chunk === n && e.status === 200)).toBe(true)
      // ... and never POSTed again.
      expect(afterReload.filter((e) => e.method === 'POST' && e.chunk === n)).toEqual([])
    }
    // Across both page loads, no chunk's POST succeeded twice; every chunk got to the server.
    const okPerChunk = new Map<number, number>()
    for (const e of traffic.succeededPosts()) okPerChunk.set(e.chunk, (okPerChunk.get(e.chunk) ?? 0) + 1)
    expect([...okPerChunk.values()].every((count) => count === 1)).toBe(true)
    for (let n = 1; n <= chunkCount; n += 1) {
      const held = okPerChunk.has(n) || afterReload.some((e) => e.method === 'GET' && e.chunk === n && e.status === 200)
      expect([n, held]).toEqual([n, true])
    }
    expect(traffic.all().every((e) => e.chunk >= 1 && e.chunk <= chunkCount)).toBe(true)
    // After the reload, a chunk is either reported held by its test GET or sent (once, successfully).
    const heldAfterReload = new Set(afterReload.filter((e) => e.method === 'GET' && e.status === 200).map((e) => e.chunk))
    const sentAfterReload = new Set(traffic.succeededPosts('reloaded').map((e) => e.chunk))
    expect([...sentAfterReload].filter((n) => heldAfterReload.has(n))).toEqual([])
    expect(heldAfterReload.size + sentAfterReload.size).toBe(chunkCount)
    expect(sentAfterReload.size).toBeLessThanOrEqual(chunkCount - heldBeforeReload.size)

    await save(page)
    const saved = await eventually(
      () => main.app.Document.findOne({ where: { title }, raw: true }) as Promise<DocumentParams | null>,
      'the saved Document row',
    )
    recordId = Number(saved.id)
    expect(saved.filePath).toBe(`documents/${saved.id}/${big.name}`)
    expect(saved.fileName).toBe(big.name)
    expect(Number(saved.fileSize)).toBe(big.size)
    expect(saved.fileMimeType).toBe('application/octet-stream')
    expect(sha256(readFileSync(join(main.app.uploadDir, saved.filePath)))).toBe(big.sha)
    // Staging is cleaned up once the file is committed.
    const staging = join(main.app.uploadDir, '.staging')
    expect(existsSync(staging) ? readdirNames(staging) : []).toEqual([])
    await page.close()
  }, LONG)

  test('edit page: replacing the file stores the new one and removes the old; deleting the record removes its file', async () => {
    if (recordId === null) throw new Error('needs the record saved by the previous test')
    const { context } = browser
    const page = await context.newPage()
    const traffic = new ChunkTraffic(page)
    await throttleUploads(context, page, 2 * MiB)
    await logIn(page, main.base)
    const before = await row(main.app, recordId)
    const oldPath = join(main.app.uploadDir, before!.filePath)
    expect(existsSync(oldPath)).toBe(true)

    await page.goto(`${main.base}/admin/resources/Document/records/${recordId}/edit`)
    await page.waitForSelector('[data-testid=resumable-input]', { state: 'attached' })
    await expect(page.locator('[data-testid=resumable-current]').innerText()).resolves.toBe(big.name)
    await page.setInputFiles('[data-testid=resumable-input]', replacement.path)
    await waitForPercent(page, 20)
    await page.click('[data-testid=resumable-pause]')
    await waitForState(page, 'paused')
    await eventually(async () => traffic.inFlightPosts() === 0, 'no chunk POST in flight after pause')
    // The README's screenshot: the edit page mid-upload, paused, with the current file above.
    // Rewritten only when missing or with UPDATE_SCREENSHOTS=1, so test runs leave the tree clean.
    const png = await page.screenshot({ fullPage: false })
    expect(png.subarray(1, 4).toString()).toBe('PNG')
    if (process.env.UPDATE_SCREENSHOTS === '1' || !existsSync(SCREENSHOT)) {
      mkdirSync(join(process.cwd(), 'docs'), { recursive: true })
      writeFileSync(SCREENSHOT, png)
    }
    await page.click('[data-testid=resumable-resume]')
    await waitForState(page, 'complete')

    await save(page)
    const after = await eventually(async () => {
      const r = await row(main.app, recordId!)
      return r && r.fileName === replacement.name ? r : null
    }, 'the record to point at the replacement')
    expect(after.filePath).toBe(`documents/${recordId}/${replacement.name}`)
    expect(Number(after.fileSize)).toBe(replacement.size)
    expect(sha256(readFileSync(join(main.app.uploadDir, after.filePath)))).toBe(replacement.sha)
    expect(existsSync(oldPath)).toBe(false)

    // The show page links the stored file; the browser (with its session) downloads the same bytes.
    await page.goto(`${main.base}/admin/resources/Document/records/${recordId}/show`)
    const download = await page.request.get(`${main.base}${CHUNK_PATH}/download/${recordId}`)
    expect(download.status()).toBe(200)
    expect(sha256(await download.body())).toBe(replacement.sha)

    // Delete through the UI: the header's Delete action, then the confirmation modal.
    const newPath = join(main.app.uploadDir, after.filePath)
    await page.click('[data-testid=action-delete]')
    await page.getByRole('button', { name: 'Confirm' }).click()
    await eventually(async () => (await row(main.app, recordId!)) === null, 'the record to be deleted')
    await eventually(async () => !existsSync(newPath), 'the stored file to be removed')
    await page.close()
  }, LONG)

  test('session expiry mid-upload: chunks get 401, the component says to log in again, and after logging in in another tab Retry completes the upload', async () => {
    const { context } = browser
    const page = await context.newPage()
    const traffic = new ChunkTraffic(page)
    await throttleUploads(context, page, 2 * MiB)
    await logIn(page, main.base)
    const title = 'Uploaded across a session expiry'
    await openNewForm(page, main.base, title)
    await page.setInputFiles('[data-testid=resumable-input]', big.path)
    await waitForPercent(page, 15)

    await main.app.sequelize.query('DELETE FROM "Sessions"')
    // A session deleted behind the store's back is seen within the session read cache's 2 s
    // (README, "Use it in your app"), counted from when a read in flight finished; requests started
    // after that must all be refused. One second on top for a read that finished late on busy cores.
    traffic.phase = 'grace'
    await page.waitForTimeout(3_000)
    traffic.phase = 'expired'
    await waitForState(page, 'auth-required')
    const error = page.locator('[data-testid=resumable-error]')
    await expect(error.getAttribute('data-kind')).resolves.toBe('auth')
    await expect(error.innerText()).resolves.toMatch(/log in again/i)
    // The same upload is to be retried: no invitation to drop another file meanwhile.
    await expect(page.locator('[data-testid=resumable-dropzone]').count()).resolves.toBe(0)
    expect(traffic.all().some((e) => (e.phase === 'grace' || e.phase === 'expired') && e.method === 'POST' && e.status === 401)).toBe(true)
    // No chunk was accepted without a session.
    expect(traffic.all().filter((e) => e.phase === 'expired' && e.status !== null && e.status !== 401)).toEqual([])

    // Log in again in another tab of the same browser: the cookie is shared.
    const tab = await context.newPage()
    await logIn(tab, main.base)
    await tab.close()

    traffic.phase = 'retried'
    await page.click('[data-testid=resumable-retry]')
    await waitForState(page, 'complete')
    expect(traffic.all().filter((e) => e.phase === 'retried' && e.status === 401)).toEqual([])
    await save(page)
    const saved = await eventually(
      () => main.app.Document.findOne({ where: { title }, raw: true }) as Promise<DocumentParams | null>,
      'the saved Document row',
    )
    expect(saved.fileName).toBe(big.name)
    expect(Number(saved.fileSize)).toBe(big.size)
    expect(sha256(readFileSync(join(main.app.uploadDir, saved.filePath)))).toBe(big.sha)
    await page.close()
  }, LONG)

  test('a file over MAX_UPLOAD_SIZE is refused in the browser with an error and no chunk request', async () => {
    const small = await listen({ CHUNK_SIZE: String(256 * 1024), MAX_UPLOAD_SIZE: String(MiB) })
    try {
      const page = await browser.context.newPage()
      const traffic = new ChunkTraffic(page)
      // Same host as the main app: this login replaces its cookie, so this test runs last.
      await logIn(page, small.base)
      await openNewForm(page, small.base, 'Too large')
      await expect(page.locator('[data-testid=resumable-dropzone]').innerText()).resolves.toMatch(/1\.00 MiB/)
      const tooBig = join(files, 'too-big.bin')
      writeFileSync(tooBig, bytes(MiB + 1, 3))
      await page.setInputFiles('[data-testid=resumable-input]', tooBig)
      await waitForState(page, 'refused')
      const error = page.locator('[data-testid=resumable-error]')
      await expect(error.getAttribute('data-kind')).resolves.toBe('validation')
      await expect(error.innerText()).resolves.toMatch(/too large/i)
      await page.waitForTimeout(1000)
      expect(traffic.all()).toEqual([])
      expect(await page.locator(PROGRESS).count()).toBe(0)

      // A file within the limit is still accepted afterwards and clears the error.
      const fits = join(files, 'fits.bin')
      writeFileSync(fits, bytes(MiB, 4))
      await page.setInputFiles('[data-testid=resumable-input]', fits)
      await waitForState(page, 'complete')
      expect(await page.locator('[data-testid=resumable-error]').count()).toBe(0)
      expect(traffic.succeededPosts().length).toBe(4)
      await page.close()
    } finally {
      await small.close()
    }
  }, LONG)

  test('a file whose content contradicts its type is refused by the server with 415, and the component shows why', async () => {
    const typed = await listen({ CHUNK_SIZE: String(256 * 1024), ALLOWED_TYPES: 'application/pdf' })
    try {
      const page = await browser.context.newPage()
      const traffic = new ChunkTraffic(page)
      // Same host as the main app: this login replaces its cookie, so this test runs last.
      await logIn(page, typed.base)
      await openNewForm(page, typed.base, 'Disguised')
      // Chromium declares application/pdf from the name; the bytes are an HTML page.
      const evil = join(files, 'evil.pdf')
      writeFileSync(evil, htmlFile(600 * 1024))
      await page.setInputFiles('[data-testid=resumable-input]', evil)
      await page.waitForFunction((status) => ['failed', 'complete'].includes(document.querySelector(status)?.getAttribute('data-state') ?? ''), STATUS, { timeout: LONG, polling: 100 })
      expect(await state(page)).toBe('failed')
      const error = page.locator('[data-testid=resumable-error]')
      await expect(error.getAttribute('data-kind')).resolves.toBe('server')
      await expect(error.innerText()).resolves.toMatch(/declared as application\/pdf, but its content is not/)
      // Under the code's own headline: the server's words are the detail.
      await expect(error.innerText()).resolves.toMatch(/^The server does not accept this type of file\./)
      expect(traffic.posts({ chunk: 1 }).map((e) => e.status)).toContain(415)
      const [row] = await typed.app.Document.findAll({ raw: true })
      expect(row).toBeUndefined()

      // A real PDF is accepted afterwards and saved with its checked type.
      const pdf = join(files, 'real.pdf')
      writeFileSync(pdf, pdfFile(600 * 1024))
      await page.setInputFiles('[data-testid=resumable-input]', pdf)
      await waitForState(page, 'complete')
      await save(page)
      const [saved] = (await typed.app.Document.findAll({ raw: true })) as unknown as DocumentParams[]
      expect(saved.fileMimeType).toBe('application/pdf')
      expect(sha256(readFileSync(join(typed.app.uploadDir, saved.filePath)))).toBe(sha256(readFileSync(pdf)))
      await page.close()
    } finally {
      await typed.close()
    }
  }, LONG)
})

describeBrowser('Document form in Chromium with the real resumablejs, files on S3 (s3rver)', () => {
  let server: S3Server | null = null
  let app: Listening
  let browser: Browser
  let dir: string
  // Two parts of S3's smallest part size: the last chunk absorbs the remainder.
  const upload = { path: '', name: 'survey on s3.bin', size: 11 * MiB + 777, sha: '' }

  beforeAll(async () => {
    server = await startS3rver()
    if (!server) return
    dir = mkdtempSync(join(tmpdir(), 'adminjs-resumable-e2e-s3-'))
    const data = bytes(upload.size, 31)
    upload.path = join(dir, upload.name)
    writeFileSync(upload.path, data)
    upload.sha = sha256(data)
    app = await listen({
      CHUNK_SIZE: String(5 * MiB),
      MAX_UPLOAD_SIZE: String(1024 * MiB),
      S3_BUCKET: `e2e-${process.pid}`,
      S3_ENDPOINT: server.endpoint,
      S3_REGION: 'us-east-1',
      S3_FORCE_PATH_STYLE: 'true',
      AWS_ACCESS_KEY_ID: 'S3RVER',
      AWS_SECRET_ACCESS_KEY: 'S3RVER',
    })
    browser = await launchBrowser({ viewport: { width: 1280, height: 900 } })
  }, LONG)

  afterAll(async () => {
    await browser?.close()
    await app?.close()
    await server?.destroy()
    if (dir) rmSync(dir, { recursive: true, force: true })
  }, LONG)

  test('a multi-part file is uploaded in 5 MiB parts, saved, and downloaded byte-identical through the presigned redirect', async () => {
    if (!server) throw new Error('s3rver is not installed (npm install)')
    const page = await browser.context.newPage()
    const traffic = new ChunkTraffic(page)
    await logIn(page, app.base)
    const title = 'Survey on S3'
    await openNewForm(page, app.base, title)
    await page.setInputFiles('[data-testid=resumable-input]', upload.path)
    await waitForState(page, 'complete')
    expect(new Set(traffic.succeededPosts().map((e) => e.chunk))).toEqual(new Set([1, 2]))
    await save(page)
    const saved = await eventually(
      () => app.app.Document.findOne({ where: { title }, raw: true }) as Promise<DocumentParams | null>,
      'the saved Document row',
    )
    expect(saved.filePath).toBe(`documents/${saved.id}/${upload.name}`)
    expect(Number(saved.fileSize)).toBe(upload.size)

    const cookie = (await browser.context.cookies(app.base)).map((c) => `${c.name}=${c.value}`).join('; ')
    const answer = await fetch(`${app.base}/admin/api/resumable/Document/file/download/${saved.id}`, { headers: { cookie }, redirect: 'manual' })
    expect(answer.status).toBe(302)
    const location = answer.headers.get('location')!
    expect(location.startsWith(server.endpoint)).toBe(true)
    const object = await fetch(location)
    expect(object.status).toBe(200)
    expect(sha256(Buffer.from(await object.arrayBuffer()))).toBe(upload.sha)
    await page.close()
  }, LONG)
})

function readdirNames(dir: string): string[] {
  return readdirSync(dir).filter((name) => !name.startsWith('.'))
}
