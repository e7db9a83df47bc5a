/* eslint-disable @typescript-eslint/no-explicit-any -- page scripts use browser APIs (axe, WebCodecs) this project has no types for */
/**
 * The dashboard in headless Chromium against the example app: the component in another language
 * (AdminJS's own language menu), keyboard-only use with the focus and announcements that go with
 * it, axe-core on the edit, show and list pages, and previews through the staff-only download
 * route (an image that decodes, a video that seeks with Range requests). The media are made by the
 * browser itself (a canvas PNG, a WebCodecs VP8 video muxed by webm-muxer), so no fixture ships.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { FileChooser, Page } from 'playwright-core'
import { login, type Agent } from './support/app.js'
import { browserMissing, launchBrowser, type Browser } from './support/browser.js'
import { listen, logIn, throttleUploads, type Listening } from './support/browser-app.js'
import { bytes, uploadAll } from './support/resumable-client.js'
import { pdfFile } from './support/samples.js'

const require = createRequire(import.meta.url)
const AXE = require.resolve('axe-core/axe.min.js')
// Its package exports only the ES module; the page takes the script build (a `WebMMuxer` global).
const WEBM_MUXER = join(process.cwd(), 'node_modules', 'webm-muxer', 'build', 'webm-muxer.js')
const MiB = 1024 * 1024
const CHUNK_SIZE = 256 * 1024
const MAX_UPLOAD = 16 * MiB
const LONG = 180_000
const SCREENSHOT = join(process.cwd(), 'docs', 'preview.png')
const STATUS = '[data-testid=resumable-status]'
const ROOT = '[data-testid=resumable-root]'
/**
 * What axe checks: the elements our components render (the edit field, the show value without
 * AdminJS's ValueGroup label, the list cell's contents). AdminJS 7.8's own markup around them has
 * serious and critical violations of its own (breadcrumb and label contrast, unlabelled list
 * checkboxes and filter inputs, an unnamed icon button); they are printed, not asserted.
 */
const OURS = [
  ROOT, '[data-testid=resumable-show]', '[data-testid=resumable-show-empty]',
  '[data-testid=resumable-list-link]', '[data-testid=resumable-list-preview]', '[data-testid=resumable-list-empty]',
].join(', ')

const missing = browserMissing()
const describeBrowser = missing ? describe.skip : describe
if (missing) test.todo(`DASHBOARD BROWSER TESTS DID NOT RUN: ${missing}`)

// ---------------------------------------------------------------------------------------------

async function waitForState(page: Page, wanted: string): Promise<void> {
  await page.waitForFunction(([sel, w]) => document.querySelector(sel)?.getAttribute('data-state') === w, [STATUS, wanted] as const, { timeout: LONG, polling: 50 })
}

/** The `data-testid` of the focused element (or its tag when it has none). */
async function focused(page: Page): Promise<string> {
  return page.evaluate(() => {
    const el = document.activeElement as HTMLElement | null
    return el?.getAttribute('data-testid') ?? el?.tagName.toLowerCase() ?? ''
  })
}

/**
 * Resolves with the next file chooser the page opens. Set up right after the page is created:
 * Playwright turns interception on asynchronously, and a chooser opened before that is a native
 * dialog no test sees.
 */
function fileChoosers(page: Page): () => Promise<FileChooser> {
  const waiting: Array<(chooser: FileChooser) => void> = []
  page.on('filechooser', (chooser) => waiting.shift()?.(chooser))
  return () => new Promise((resolve) => { waiting.push(resolve) })
}

interface Violation { id: string; impact: string | null; help: string; targets: string[] }

/** axe-core's serious and critical violations inside `scope` (a selector) or the whole page. */
async function axeViolations(page: Page, scope?: string): Promise<Violation[]> {
  if (!(await page.evaluate(() => 'axe' in window))) await page.addScriptTag({ path: AXE })
  const all = await page.evaluate(async (selector) => {
    const axe = (window as unknown as { axe: { run(context: unknown, options: unknown): Promise<{ violations: any[] }> } }).axe
    const context = selector ? { include: [...document.querySelectorAll(selector)].map((el) => el) } : document
    const result = await axe.run(context, { resultTypes: ['violations'] })
    return result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, targets: v.nodes.map((n: any) => String(n.target)) }))
  }, scope ?? null)
  return all.filter((v) => v.impact === 'serious' || v.impact === 'critical')
}

/** Asserts none in our components; prints what axe finds in AdminJS's markup around them. */
async function checkAccessibility(page: Page, where: string): Promise<Violation[]> {
  const ours = await axeViolations(page, OURS)
  const elsewhere = (await axeViolations(page)).map((v) => `${v.id} (${v.impact}, ${v.targets.length})`)
  if (elsewhere.length) console.info(`axe, ${where}, whole page (AdminJS's markup included): ${elsewhere.join(', ')}`)
  return ours
}

/** A PNG drawn on a canvas and a 6 s VP8 WebM with a keyframe every second, made in the page. */
async function makeMedia(page: Page): Promise<{ png: Buffer; webm: Buffer }> {
  await page.addScriptTag({ path: WEBM_MUXER })
  const [png, webm] = await page.evaluate(async () => {
    const toBase64 = (data: Uint8Array): string => {
      let s = ''
      for (let i = 0; i < data.length; i += 1) s += String.fromCharCode(data[i])
      return btoa(s)
    }
    const picture = document.createElement('canvas')
    picture.width = 640
    picture.height = 360
    const p = picture.getContext('2d')!
    const sky = p.createLinearGradient(0, 0, 0, 360)
    sky.addColorStop(0, '#4268F6')
    sky.addColorStop(1, '#A8E6CF')
    p.fillStyle = sky
    p.fillRect(0, 0, 640, 360)
    p.fillStyle = '#2E7D32'
    p.beginPath()
    p.moveTo(0, 300); p.lineTo(180, 170); p.lineTo(320, 280); p.lineTo(470, 140); p.lineTo(640, 290); p.lineTo(640, 360); p.lineTo(0, 360)
    p.fill()
    p.fillStyle = '#FFD54F'
    p.beginPath()
    p.arc(520, 80, 40, 0, 2 * Math.PI)
    p.fill()
    const pngBlob = await new Promise<Blob>((resolve) => { picture.toBlob((b) => resolve(b!), 'image/png') })

    const W = 320
    const H = 180
    const FPS = 10
    type MuxerNS = { Muxer: new (o: unknown) => any; ArrayBufferTarget: new () => { buffer: ArrayBuffer } }
    const { Muxer, ArrayBufferTarget } = (window as unknown as { WebMMuxer: MuxerNS }).WebMMuxer
    const muxer = new Muxer({ target: new ArrayBufferTarget(), video: { codec: 'V_VP8', width: W, height: H, frameRate: FPS } })
    const VE = (window as any).VideoEncoder
    const VF = (window as any).VideoFrame
    const encoder = new VE({ output: (chunk: unknown, meta: unknown) => muxer.addVideoChunk(chunk, meta), error: (e: Error) => { throw e } })
    encoder.configure({ codec: 'vp8', width: W, height: H, bitrate: 2_000_000, framerate: FPS })
    const canvas = new OffscreenCanvas(W, H)
    const g = canvas.getContext('2d')!
    let seed = 7
    const random = () => { seed = (seed * 16807) % 2147483647; return seed / 2147483647 }
    for (let i = 0; i < FPS * 6; i += 1) {
      g.fillStyle = `hsl(${(i * 7) % 360} 70% 50%)`
      g.fillRect(0, 0, W, H)
      // Noise keeps the frames large, so the file is big enough that a seek needs a new request.
      for (let k = 0; k < 300; k += 1) {
        g.fillStyle = `rgb(${random() * 255},${random() * 255},${random() * 255})`
        g.fillRect(random() * W, random() * H, 8, 8)
      }
      const frame = new VF(canvas, { timestamp: (i * 1e6) / FPS })
      encoder.encode(frame, { keyFrame: i % FPS === 0 })
      frame.close()
    }
    await encoder.flush()
    muxer.finalize()
    return [toBase64(new Uint8Array(await pngBlob.arrayBuffer())), toBase64(new Uint8Array(muxer.target.buffer))]
  })
  return { png: Buffer.from(png, 'base64'), webm: Buffer.from(webm, 'base64') }
}

/** Uploads through the chunk route and saves a Document with it; returns the record id. */
async function saveDocument(agent: Agent, title: string, filename: string, type: string, data: Buffer): Promise<number> {
  const reference = await uploadAll(agent, { identifier: `${data.length}-${filename}`, filename, type, data, chunkSize: CHUNK_SIZE })
  const saved = await agent.post('/admin/api/resources/Document/actions/new').field('title', title).field('file', reference)
  if (Object.keys(saved.body.record.errors).length) throw new Error(JSON.stringify(saved.body.record.errors))
  return Number(saved.body.record.params.id)
}

// ---------------------------------------------------------------------------------------------

describeBrowser('the dashboard in Chromium: translations, keyboard, axe, previews', () => {
  let files: string
  let main: Listening
  let browser: Browser
  let agent: Agent
  const upload = { path: '', size: 6 * MiB }
  const tooBig = { path: '' }
  const ids = { image: 0, video: 0, pdf: 0, plain: 0 }
  let media: { png: Buffer; webm: Buffer }

  beforeAll(async () => {
    files = mkdtempSync(join(tmpdir(), 'adminjs-resumable-dashboard-'))
    upload.path = join(files, 'survey.bin')
    writeFileSync(upload.path, bytes(upload.size, 21))
    tooBig.path = join(files, 'too-big.bin')
    writeFileSync(tooBig.path, '')
    truncateSync(tooBig.path, MAX_UPLOAD + 1)
    main = await listen({ CHUNK_SIZE: String(CHUNK_SIZE), MAX_UPLOAD_SIZE: String(MAX_UPLOAD) })
    browser = await launchBrowser()
    agent = await login(main.app.app, 'admin@example.com')
    const page = await browser.context.newPage()
    await logIn(page, main.base)
    media = await makeMedia(page)
    await page.close()
    ids.image = await saveDocument(agent, 'Mountain view', 'mountains.png', 'image/png', media.png)
    ids.video = await saveDocument(agent, 'Colour test', 'colours.webm', 'video/webm', media.webm)
    ids.pdf = await saveDocument(agent, 'Quarterly report', 'report.pdf', 'application/pdf', pdfFile(4000))
    ids.plain = await saveDocument(agent, 'Raw data', 'data.bin', 'application/octet-stream', bytes(1000, 5))
  }, LONG)

  afterAll(async () => {
    await browser?.close()
    await main?.close()
    if (files) rmSync(files, { recursive: true, force: true })
  }, LONG)

  test('AdminJS\'s language menu switches the form to German and back, every text of the component included', async () => {
    const page = await browser.context.newPage()
    await page.goto(`${main.base}/admin/resources/Document/records/${ids.plain}/edit`)
    const dropzone = page.locator('[data-testid=resumable-dropzone]')
    await expect(dropzone.innerText()).resolves.toMatch(/Drop a file here or click to choose one to replace the current file/)
    await expect(page.locator('[data-testid=resumable-clear]').innerText()).resolves.toBe('Remove')

    await page.getByRole('button', { name: 'English' }).hover()
    await page.getByText('German', { exact: true }).click()
    await expect(dropzone.innerText()).resolves.toMatch(/Datei hierher ziehen oder klicken, um eine auszuwählen, die die aktuelle Datei ersetzt/)
    await expect(dropzone.innerText()).resolves.toMatch(/höchstens 16\.0 MiB/)
    await expect(page.locator(ROOT).innerText()).resolves.toMatch(/Aktuelle Datei:/)
    await expect(page.locator('[data-testid=resumable-clear]').innerText()).resolves.toBe('Entfernen')
    await page.click('[data-testid=resumable-clear]')
    await expect(page.locator(ROOT).innerText()).resolves.toMatch(/Die Datei wird beim Speichern entfernt\./)
    await expect(page.locator('[data-testid=resumable-undo]').innerText()).resolves.toBe('Rückgängig')
    // Focus followed the button that went away.
    expect(await focused(page)).toBe('resumable-undo')

    // An upload in German: the status, the buttons and the progress bar's words for screen readers.
    await page.setInputFiles('[data-testid=resumable-input]', upload.path)
    await waitForState(page, 'complete')
    await expect(page.locator(STATUS).innerText()).resolves.toMatch(/Hochgeladen — zum Anhängen speichern/)
    await expect(page.locator('[data-testid=resumable-cancel]').innerText()).resolves.toBe('Verwerfen')
    await expect(page.locator('[data-testid=resumable-progress]').getAttribute('aria-valuetext')).resolves.toBe('100 % (6.00 MiB von 6.00 MiB)')
    await expect(page.locator('[data-testid=resumable-progress]').getAttribute('aria-label')).resolves.toBe('Hochladen von survey.bin')

    // A refused file: the message in German.
    await page.click('[data-testid=resumable-cancel]')
    await page.setInputFiles('[data-testid=resumable-input]', tooBig.path)
    await waitForState(page, 'refused')
    await expect(page.locator('[data-testid=resumable-error]').innerText()).resolves.toMatch(/Die Datei ist zu groß: höchstens 16\.0 MiB erlaubt\./)

    // And back: the same texts in English, without reloading.
    await page.getByRole('button', { name: 'Deutsch' }).hover()
    await page.getByText('Englisch', { exact: true }).click()
    await expect(page.locator('[data-testid=resumable-error]').innerText()).resolves.toMatch(/The file is too large: at most 16\.0 MiB allowed\./)
    await page.close()
  }, LONG)

  test('keyboard only: Tab to the drop area, Enter opens the picker, the upload runs, Enter and Space pause and resume it, focus follows', async () => {
    const { context } = browser
    const page = await context.newPage()
    const nextChooser = fileChoosers(page)
    await throttleUploads(context, page, 1 * MiB)
    await page.goto(`${main.base}/admin/resources/Document/actions/new`)
    await page.waitForSelector('[data-testid=resumable-dropzone]')
    await page.focus('input[name=title]')
    await page.keyboard.type('Typed, not clicked')
    for (let i = 0; i < 10 && (await focused(page)) !== 'resumable-dropzone'; i += 1) await page.keyboard.press('Tab')
    expect(await focused(page)).toBe('resumable-dropzone')
    // The file input itself is never a Tab stop: the drop area is the control.
    expect(await page.getAttribute('[data-testid=resumable-input]', 'tabindex')).toBe('-1')

    const [chooser] = await Promise.all([nextChooser(), page.keyboard.press('Enter')])
    await chooser.setFiles(upload.path)
    await waitForState(page, 'uploading')
    // The drop area went away with the idle phase: focus is on Pause, not lost to the page.
    await page.waitForFunction(() => document.activeElement?.getAttribute('data-testid') === 'resumable-pause')
    const bar = page.locator('[role=progressbar]')
    await expect(bar.getAttribute('aria-valuemin')).resolves.toBe('0')
    await expect(bar.getAttribute('aria-valuemax')).resolves.toBe('100')
    await expect(bar.getAttribute('aria-label')).resolves.toBe('Upload of survey.bin')
    await expect(bar.getAttribute('aria-valuetext')).resolves.toMatch(/^\d+% \([\d.]+ (B|KiB|MiB) of 6\.00 MiB\)$/)
    await expect(page.locator(STATUS).getAttribute('role')).resolves.toBe('status')
    await expect(page.locator(STATUS).getAttribute('aria-live')).resolves.toBe('polite')
    await expect(page.locator(STATUS).innerText()).resolves.toMatch(/Uploading…/)

    await page.keyboard.press('Enter')
    await waitForState(page, 'paused')
    expect(await focused(page)).toBe('resumable-resume')
    await expect(page.locator(STATUS).innerText()).resolves.toMatch(/Paused/)
    const pausedAt = Number(await bar.getAttribute('aria-valuenow'))
    expect(pausedAt).toBeLessThan(100)

    await page.keyboard.press('Space')
    await waitForState(page, 'uploading')
    expect(await focused(page)).toBe('resumable-pause')
    await waitForState(page, 'complete')
    await expect(bar.getAttribute('aria-valuenow')).resolves.toBe('100')
    // Pause went away with the upload: focus rests on the announcement of the result.
    expect(await focused(page)).toBe('resumable-status')
    await expect(page.locator(STATUS).innerText()).resolves.toMatch(/Uploaded — press Save to attach/)

    // Shift+Tab reaches the component's remaining buttons; Tab from the result goes on to
    // AdminJS's Save, and Enter saves.
    await page.keyboard.press('Shift+Tab')
    expect(await focused(page)).toBe('resumable-replace')
    await page.keyboard.press('Shift+Tab')
    expect(await focused(page)).toBe('resumable-cancel')
    await page.keyboard.press('Tab')
    expect(await focused(page)).toBe('resumable-replace')
    // The result is focusable from code only (tabindex -1): not an extra Tab stop.
    await page.keyboard.press('Tab')
    expect(await focused(page)).toBe('button-save')
    expect(await page.evaluate(() => (document.activeElement as HTMLButtonElement | null)?.type)).toBe('submit')
    await Promise.all([page.waitForURL((url) => !url.pathname.endsWith('/new'), { timeout: 30_000 }), page.keyboard.press('Enter')])
    const row = await main.app.Document.findOne({ where: { title: 'Typed, not clicked' }, raw: true }) as Record<string, any> | null
    expect(row?.fileName).toBe('survey.bin')
    expect(Number(row?.fileSize)).toBe(upload.size)
    await page.close()
  }, LONG)

  test('an error is announced (role=alert) and takes the focus when the field had it', async () => {
    const page = await browser.context.newPage()
    const nextChooser = fileChoosers(page)
    await page.goto(`${main.base}/admin/resources/Document/actions/new`)
    await page.focus('[data-testid=resumable-dropzone]')
    const [chooser] = await Promise.all([nextChooser(), page.keyboard.press('Space')])
    await chooser.setFiles(tooBig.path)
    await waitForState(page, 'refused')
    const error = page.locator('[data-testid=resumable-error]')
    await expect(error.getAttribute('role')).resolves.toBe('alert')
    // A refused file cannot be retried: the message itself takes the focus.
    expect(await focused(page)).toBe('resumable-error')
    await expect(error.innerText()).resolves.toMatch(/too large/)
    // Shift+Tab leads back to the drop area to pick another file.
    await page.keyboard.press('Shift+Tab')
    expect(await focused(page)).toBe('resumable-dropzone')
    expect(await axeViolations(page, ROOT)).toEqual([])
    await page.close()
  }, LONG)

  test('axe-core: no serious or critical violation on the edit, show and list pages', async () => {
    const { context } = browser
    const page = await context.newPage()
    await throttleUploads(context, page, 1 * MiB)
    const report: Record<string, Violation[]> = {}
    await page.goto(`${main.base}/admin/resources/Document/actions/new`)
    await page.waitForSelector('[data-testid=resumable-dropzone]')
    expect(await page.locator(OURS).count()).toBeGreaterThan(0)
    report['new, idle'] = await checkAccessibility(page, 'new, idle')
    await page.setInputFiles('[data-testid=resumable-input]', upload.path)
    await waitForState(page, 'uploading')
    await page.click('[data-testid=resumable-pause]')
    await waitForState(page, 'paused')
    report['new, paused upload'] = await checkAccessibility(page, 'new, paused upload')
    await page.click('[data-testid=resumable-cancel]')

    await page.goto(`${main.base}/admin/resources/Document/records/${ids.image}/edit`)
    await page.waitForSelector('[data-testid=resumable-current]')
    report['edit, with a file'] = await checkAccessibility(page, 'edit, with a file')
    for (const id of [ids.image, ids.video, ids.pdf, ids.plain]) {
      await page.goto(`${main.base}/admin/resources/Document/records/${id}/show`)
      await page.waitForSelector('[data-testid=resumable-show]')
      report[`show ${id}`] = await checkAccessibility(page, `show ${id}`)
    }
    await page.goto(`${main.base}/admin/resources/Document`)
    await page.waitForSelector('[data-testid=resumable-list-link]')
    expect(await page.locator('[data-testid=resumable-list-preview]').count()).toBeGreaterThan(0)
    report.list = await checkAccessibility(page, 'list')
    expect(report).toEqual(Object.fromEntries(Object.keys(report).map((k) => [k, []])))
    await page.close()
  }, LONG)

  test('show and list pages: the image renders from the staff-only route; the README\'s screenshot', async () => {
    const page = await browser.context.newPage()
    const images: Array<{ url: string; status: number; disposition: string | undefined }> = []
    page.on('response', (res) => {
      if (res.url().includes('/download/')) images.push({ url: res.url(), status: res.status(), disposition: res.headers()['content-disposition'] })
    })
    await page.goto(`${main.base}/admin/resources/Document/records/${ids.image}/show`)
    const img = page.locator('[data-testid=resumable-preview] img')
    await page.waitForFunction(() => (document.querySelector('[data-testid=resumable-preview] img') as HTMLImageElement | null)?.complete === true)
    expect(await img.evaluate((el: HTMLImageElement) => el.naturalWidth)).toBe(640)
    await expect(img.getAttribute('alt')).resolves.toBe('Preview of mountains.png')
    expect(images.some((r) => r.status === 200 && r.url.endsWith(`/download/${ids.image}?inline=1`) && /^inline;/.test(r.disposition ?? ''))).toBe(true)
    const png = await page.screenshot({ fullPage: false })
    expect(png.subarray(1, 4).toString()).toBe('PNG')
    // Rewritten only when missing or with UPDATE_SCREENSHOTS=1, so test runs leave the tree clean.
    if (process.env.UPDATE_SCREENSHOTS === '1' || !existsSync(SCREENSHOT)) {
      mkdirSync(join(process.cwd(), 'docs'), { recursive: true })
      writeFileSync(SCREENSHOT, png)
    }

    await page.goto(`${main.base}/admin/resources/Document`)
    await page.waitForSelector('[data-testid=resumable-list-preview]')
    await page.waitForFunction(() => [...document.querySelectorAll<HTMLImageElement>('[data-testid=resumable-list-preview]')].every((el) => el.complete))
    const widths = await page.locator('[data-testid=resumable-list-preview]').evaluateAll((els) => els.map((el) => (el as HTMLImageElement).naturalWidth))
    expect(widths.length).toBeGreaterThanOrEqual(1)
    // The list loads the route's small derivative (src/preview/thumbnail.ts), not the 640 px original.
    expect(widths.every((w) => w === 320)).toBe(true)

    // Logged out, the same URL gives no image: 401.
    const anonymous = await browser.context.request.fetch(`${main.base}/admin/api/resumable/Document/file/download/${ids.image}?inline=1`, { headers: { Cookie: '' } })
    expect(anonymous.status()).toBe(401)
    await page.close()
  }, LONG)

  test('show page: the video plays from the download route and seeks with a Range request answered 206', async () => {
    const page = await browser.context.newPage()
    const ranges: Array<{ range: string; status: number }> = []
    page.on('response', async (res) => {
      if (!res.url().includes(`/download/${ids.video}`)) return
      ranges.push({ range: (await res.request().allHeaders()).range ?? '', status: res.status() })
    })
    await page.goto(`${main.base}/admin/resources/Document/records/${ids.video}/show`)
    const video = page.locator('[data-testid=resumable-preview] video')
    await page.waitForFunction(() => ((document.querySelector('[data-testid=resumable-preview] video') as HTMLVideoElement | null)?.readyState ?? 0) >= 1, undefined, { timeout: 30_000 })
    expect(await video.evaluate((el: HTMLVideoElement) => el.duration)).toBeCloseTo(6, 0)
    const seeked = await video.evaluate((el: HTMLVideoElement) => new Promise<number>((resolve) => {
      el.addEventListener('seeked', () => resolve(el.currentTime), { once: true })
      el.currentTime = 5.2
    }))
    expect(seeked).toBeGreaterThan(4.9)
    expect(ranges.length).toBeGreaterThan(0)
    expect(ranges.every((r) => r.status === 206 && /^bytes=\d+-\d*$/.test(r.range))).toBe(true)
    // The seek needed bytes from the middle of the file: a Range that does not start at 0.
    expect(ranges.some((r) => !r.range.startsWith('bytes=0-'))).toBe(true)
    await page.close()
  }, LONG)

  test('show page: a PDF opens in the browser\'s viewer in a new tab, not as a download', async () => {
    const page = await browser.context.newPage()
    await page.goto(`${main.base}/admin/resources/Document/records/${ids.pdf}/show`)
    const link = page.locator('[data-testid=resumable-open-inline]')
    await expect(link.innerText()).resolves.toBe('Open in the browser')
    const [tab] = await Promise.all([browser.context.waitForEvent('page'), link.click()])
    await tab.waitForLoadState()
    expect(tab.url()).toBe(`${main.base}/admin/api/resumable/Document/file/download/${ids.pdf}?inline=1`)
    // The tab holds the PDF as a document of its own (the viewer), not the admin's page.
    expect(await tab.evaluate(() => document.contentType)).toBe('application/pdf')
    await tab.close()
    await page.close()
  }, LONG)
})
