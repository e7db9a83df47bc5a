/**
 * Where the edit component hashes its chunks, in headless Chromium: on a Web Worker, so that the
 * page's own thread never reads a chunk or calls crypto.subtle.digest; and on the page where no
 * worker can run (a Content-Security-Policy that refuses `blob:` workers, a worker that fails as it
 * starts). Whichever hashed them, every test GET and POST carries the digest of the chunk's bytes
 * and the saved file is the source.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { browserMissing, launchBrowser, type Browser } from './support/browser.js'
import { listen, logIn, type Listening } from './support/browser-app.js'
import { bytes, sha256 } from './support/resumable-client.js'
import type { DocumentParams } from './support/document.js'
import { expectChunkDigests, type ChunkRequest } from './support/chunk-requests.js'

const MiB = 1024 * 1024
const CHUNK_PATH = '/admin/api/resumable/Document/file'
const STATUS = '[data-testid=resumable-status]'
const LONG = 180_000

const missing = browserMissing()
const describeBrowser = missing ? describe.skip : describe
if (missing) test.todo(`CHUNK DIGEST WORKER BROWSER TESTS DID NOT RUN: ${missing}`)

interface PageCounts { digests: number, workers: number }

/** Counts, in the page's own realm, crypto.subtle.digest calls and workers constructed; `breakWorkers` makes every worker fail as it starts. */
function countOnPage({ breakWorkers }: { breakWorkers: boolean }): void {
  const counts = { digests: 0, workers: 0 }
  ;(window as unknown as { __counts: PageCounts }).__counts = counts
  const digest = SubtleCrypto.prototype.digest
  SubtleCrypto.prototype.digest = function (this: SubtleCrypto, ...args: Parameters<SubtleCrypto['digest']>) {
    counts.digests++
    return digest.apply(this, args)
  }
  const RealWorker = window.Worker
  window.Worker = class extends RealWorker {
    constructor(url: string | URL, options?: WorkerOptions) {
      counts.workers++
      super(breakWorkers ? URL.createObjectURL(new Blob(['throw new Error("broken on purpose")'])) : url, options)
    }
  }
}

describeBrowser('chunk digests on a worker, and on the page where no worker runs', () => {
  let app: Listening
  let browser: Browser
  let files: string
  let data: Buffer
  let path: string

  beforeAll(async () => {
    files = mkdtempSync(join(tmpdir(), 'adminjs-resumable-digest-worker-'))
    data = bytes(3 * MiB + 512 * 1024, 91)
    path = join(files, 'hashed.bin')
    writeFileSync(path, data)
    app = await listen({ CHUNK_SIZE: String(MiB) })
    browser = await launchBrowser()
  }, LONG)
  afterAll(async () => {
    await browser?.close()
    await app?.close()
    if (files) rmSync(files, { recursive: true, force: true })
  }, LONG)

  /** Uploads the file through the new-record form and saves it; the page's counts and the digests sent. */
  async function upload(title: string, { csp, breakWorkers = false }: { csp?: string, breakWorkers?: boolean }) {
    const page = await browser.context.newPage()
    await page.addInitScript(countOnPage, { breakWorkers })
    const digests: ChunkRequest[] = []
    page.on('request', (request) => {
      const url = new URL(request.url())
      if (url.pathname !== CHUNK_PATH || !url.searchParams.get('resumableChunkNumber')) return
      digests.push({ chunk: Number(url.searchParams.get('resumableChunkNumber')), method: request.method(), digest: url.searchParams.get('resumableChunkSha256') })
    })
    if (csp) {
      await page.route('**/admin/resources/Document/actions/new', async (route) => {
        const response = await route.fetch()
        await route.fulfill({ response, headers: { ...response.headers(), 'content-security-policy': csp } })
      })
    }
    await logIn(page, app.base)
    await page.goto(`${app.base}/admin/resources/Document/actions/new`)
    await page.waitForSelector('[data-testid=resumable-input]', { state: 'attached' })
    await page.fill('input[name=title]', title)
    await page.setInputFiles('[data-testid=resumable-input]', path)
    await page.waitForFunction((status) => {
      const s = document.querySelector(status)?.getAttribute('data-state') ?? ''
      return ['complete', 'failed', 'expired', 'auth-required', 'refused'].includes(s)
    }, STATUS, { timeout: LONG, polling: 100 })
    expect(await page.getAttribute(STATUS, 'data-state')).toBe('complete')
    const counts = await page.evaluate(() => (window as unknown as { __counts: PageCounts }).__counts)
    const from = page.url()
    await page.click('form button[type=submit]')
    await page.waitForURL((url) => url.href !== from, { timeout: 30_000 })
    await page.close()
    const saved = (await app.app.Document.findOne({ where: { title }, raw: true })) as DocumentParams | null
    return { counts, digests, saved }
  }

  function expectRightDigests(requests: ChunkRequest[]): void {
    const chunkOf = (n: number) => data.subarray((n - 1) * MiB, n === 3 ? data.length : n * MiB)
    expectChunkDigests(requests, (n) => sha256(chunkOf(n)), [1, 2, 3])
  }
  test('hashed on a worker: the page itself calls crypto.subtle.digest for no chunk', async () => {
    const { counts, digests, saved } = await upload('hashed on a worker', {})
    expectRightDigests(digests)
    expect(counts.workers).toBeGreaterThanOrEqual(1)
    expect(counts.digests).toBe(0)
    expect(saved?.fileChecksum).toBe(sha256(data))
  }, LONG)

  test('a Content-Security-Policy that refuses blob: workers: the page hashes the chunks itself', async () => {
    const { counts, digests, saved } = await upload('hashed on the page (CSP)', { csp: "worker-src 'none'" })
    expectRightDigests(digests)
    expect(counts.workers).toBeGreaterThanOrEqual(1)
    expect(counts.digests).toBeGreaterThanOrEqual(3)
    expect(saved?.fileChecksum).toBe(sha256(data))
  }, LONG)

  test('a worker that fails as it starts: the chunks it held are hashed on the page', async () => {
    const { counts, digests, saved } = await upload('hashed on the page (broken worker)', { breakWorkers: true })
    expectRightDigests(digests)
    expect(counts.workers).toBeGreaterThanOrEqual(1)
    expect(counts.digests).toBeGreaterThanOrEqual(3)
    expect(saved?.fileChecksum).toBe(sha256(data))
  }, LONG)
})
