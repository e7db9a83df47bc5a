/* eslint-disable @typescript-eslint/no-explicit-any -- page scripts use axe, which this project has no types for */
/**
 * The Gallery as a person sees it, in headless Chromium against the example app: thumbnails that
 * load on edit, list and show; reordering by keyboard and by dragging a row with the mouse changes
 * the saved order; a complete upload attached from the recovery list on the Gallery; a refused file next
 * to a good one (the Save message names it, the good row stays good, the message goes once the row
 * is removed), in English and German; a record whose files are not in the storage says so. Screenshots
 * go to test/.tmp/screenshots (untracked); the README's copies in docs/ are picked from them by hand.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Page } from 'playwright-core'
import sharp from 'sharp'
import { browserMissing, launchBrowser, type Browser } from './support/browser.js'
import { listen, logIn, type Listening } from './support/browser-app.js'
import { login } from './support/app.js'
import { formatSize } from '../components/format.js'
import { throttleUploads } from './support/browser-app.js'
import { bytes, chunkBytes, chunkParams, countOf, sha256, uploadAll, XHR, type FileSpec } from './support/resumable-client.js'
import type { Agent } from './support/app.js'

const require = createRequire(import.meta.url)
const AXE = require.resolve('axe-core/axe.min.js')
const LONG = 240_000
const SHOTS = join(process.cwd(), 'test', '.tmp', 'screenshots')
const OURS = '[data-testid=resumable-files], [data-testid=resumable-show-list], [data-testid=resumable-save-error], [data-testid=resumable-missing], [data-testid=resumable-root]'

const missing = browserMissing()
const describeBrowser = missing ? describe.skip : describe
if (missing) test.todo(`GALLERY DASHBOARD BROWSER TESTS DID NOT RUN: ${missing}`)

const parse = (v: unknown): unknown[] => (typeof v === 'string' ? JSON.parse(v) : v) as unknown[]

async function until<T>(fn: () => Promise<T | null | false | undefined>, what: string, timeoutMs = LONG / 3): Promise<T> {
  const end = Date.now() + timeoutMs
  for (;;) {
    const value = await fn()
    if (value) return value
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => { setTimeout(resolve, 50) })
  }
}

/** naturalWidth of every image matching `selector`, once each has finished loading (0 = broken). */
async function loadedWidths(page: Page, selector: string, count: number): Promise<number[]> {
  await page.waitForFunction(([sel, n]) => {
    const imgs = [...document.querySelectorAll(sel)] as HTMLImageElement[]
    return imgs.length === n && imgs.every((img) => img.complete)
  }, [selector, count] as const, { timeout: LONG / 3, polling: 100 })
  return page.$$eval(selector, (imgs) => (imgs as HTMLImageElement[]).map((img) => img.naturalWidth))
}

async function axeInOurs(page: Page): Promise<string[]> {
  if (!(await page.evaluate(() => 'axe' in window))) await page.addScriptTag({ path: AXE })
  return page.evaluate(async (scope) => {
    const axe = (window as any).axe
    // Colours mid-transition (a button just enabled or disabled) are not the page's: wait for the
    // finite animations to end, as on a slow machine axe could otherwise sample one half-way.
    const finite = document.getAnimations().filter((a) => Number.isFinite(Number(a.effect?.getComputedTiming().endTime)))
    await Promise.all(finite.map((a) => a.finished.catch(() => undefined)))
    const nodes = [...document.querySelectorAll(scope)]
    if (!nodes.length) return []
    const result = await axe.run({ include: nodes }, { resultTypes: ['violations'] })
    return result.violations.filter((v: any) => v.impact === 'serious' || v.impact === 'critical').map((v: any) => `${v.id}: ${v.nodes.map((n: any) => n.target).join(' ')}`)
  }, OURS)
}

async function shot(page: Page, name: string): Promise<void> {
  mkdirSync(SHOTS, { recursive: true })
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true })
}

async function save(page: Page): Promise<void> {
  const from = page.url()
  await page.click('form button[type=submit]')
  await page.waitForURL((url) => url.href !== from, { timeout: 30_000 })
}

/** Starts the page in `language` (the example app keeps the menu's choice in localStorage). */
async function startIn(page: Page, language: string): Promise<void> {
  await page.evaluate((lang) => window.localStorage.setItem('adminjs-language', lang), language)
  await page.reload()
}

const GALLERY_CHUNKS = '/admin/api/resumable/Gallery/images'

/** Sends every chunk of `file` to the Gallery's chunk route, as Resumable.js does; returns the reference. */
async function uploadToGallery(agent: Agent, file: FileSpec): Promise<string> {
  let reference = ''
  for (let n = 1; n <= countOf(file); n++) {
    const params = chunkParams(file, n)
    const req = agent.post(GALLERY_CHUNKS).query(params).set(XHR)
    for (const [k, v] of Object.entries(params)) req.field(k, v)
    const res = await req.attach('file', chunkBytes(file, n), { filename: 'blob', contentType: 'application/octet-stream' })
    if (res.status !== 200) throw new Error(`chunk ${n}: ${res.status} ${res.text}`)
    if (res.body.status === 'complete') reference = res.body.reference
  }
  if (!reference) throw new Error('upload never completed')
  return reference
}

/** The names of the edit page's rows (kept files and uploads), top to bottom. */
function rowNames(page: Page): Promise<string[]> {
  return page.locator('[data-testid=resumable-files] > li').evaluateAll((items) => items.map((li) =>
    (li.getAttribute('data-name') ?? li.querySelector('[data-name]')?.getAttribute('data-name') ?? '')))
}

async function toGerman(page: Page): Promise<void> {
  await page.getByRole('button', { name: 'English' }).hover()
  await page.getByText('German', { exact: true }).click()
}

describeBrowser('the Gallery as a person sees it (Chromium, real resumablejs)', () => {
  let dir: string
  let main: Listening
  let browser: Browser
  const photos = ['red.png', 'green.png', 'blue.png']
  const colours: Array<[number, number, number]> = [[200, 30, 30], [30, 160, 60], [40, 60, 210]]

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'adminjs-resumable-gallery-dash-'))
    for (const [i, name] of photos.entries()) {
      const [r, g, b] = colours[i]
      writeFileSync(join(dir, name), await sharp({ create: { width: 1200, height: 800, channels: 3, background: { r, g, b } } }).png().toBuffer())
    }
    // Refused for good: a web page under an image's name.
    writeFileSync(join(dir, 'evil.png'), '<!doctype html><html><body><script>alert(1)</script></body></html>\n'.repeat(20))
    main = await listen({ CHUNK_SIZE: String(64 * 1024) })
    browser = await launchBrowser()
  }, LONG)

  afterAll(async () => {
    await browser?.close()
    await main?.close()
    if (dir) rmSync(dir, { recursive: true, force: true })
  }, LONG)

  test('three images: thumbnails load on edit, list and show; Move up by keyboard changes the saved order', async () => {
    const page = await browser.context.newPage()
    await logIn(page, main.base)
    await startIn(page, 'en')
    await page.goto(`${main.base}/admin/resources/Gallery/actions/new`)
    await page.waitForSelector('[data-testid=resumable-input]', { state: 'attached' })
    await page.fill('input[name=title]', 'Colours')
    await page.setInputFiles('[data-testid=resumable-input]', photos.map((p) => join(dir, p)))
    await page.waitForFunction(() => {
      const rows = [...document.querySelectorAll('[data-testid=resumable-item]')]
      return rows.length === 3 && rows.every((r) => r.getAttribute('data-state') === 'complete')
    }, undefined, { timeout: LONG / 3, polling: 100 })
    // Each uploading row shows its picked image.
    expect((await loadedWidths(page, '[data-testid=resumable-item-thumb]', 3)).every((w) => w > 0)).toBe(true)
    expect(await axeInOurs(page)).toEqual([])
    await save(page)
    const row = await until(async () => main.app.sequelize.models.Gallery.findOne({ where: { title: 'Colours' }, raw: true }) as Promise<Record<string, unknown> | null>, 'the Gallery row')
    const id = Number(row.id)
    expect(parse(row.imageNames)).toEqual(photos)

    await page.goto(`${main.base}/admin/resources/Gallery`)
    const listWidths = await loadedWidths(page, '[data-testid=resumable-list-thumb]', 3)
    expect(listWidths.every((w) => w > 0)).toBe(true)
    // The list gets the small derivative, not the 1200 px original.
    expect(Math.max(...listWidths)).toBeLessThanOrEqual(320)
    await shot(page, 'gallery-list')

    await page.goto(`${main.base}/admin/resources/Gallery/records/${id}/show`)
    expect((await loadedWidths(page, '[data-testid=resumable-show-thumb]', 3)).every((w) => w > 0)).toBe(true)
    expect(await page.locator('[data-testid=resumable-show-link]').allInnerTexts()).toEqual(photos)
    expect(await axeInOurs(page)).toEqual([])
    await shot(page, 'gallery-show')

    await page.goto(`${main.base}/admin/resources/Gallery/records/${id}/edit`)
    expect((await loadedWidths(page, '[data-testid=resumable-stored-thumb]', 3)).every((w) => w > 0)).toBe(true)
    // Keyboard only: focus "Move blue.png up", Enter twice; the focus stays on the moved row's button.
    const blueUp = page.getByRole('button', { name: 'Move up: blue.png' })
    await blueUp.focus()
    await page.keyboard.press('Enter')
    await expect(page.locator('[data-testid=resumable-stored-item]').evaluateAll((n) => n.map((e) => e.getAttribute('data-name')))).resolves
      .toEqual(['red.png', 'blue.png', 'green.png'])
    await page.getByRole('button', { name: 'Move up: blue.png' }).focus()
    await page.keyboard.press('Enter')
    await expect(page.locator('[data-testid=resumable-stored-item]').evaluateAll((n) => n.map((e) => e.getAttribute('data-name')))).resolves
      .toEqual(['blue.png', 'red.png', 'green.png'])
    expect(await axeInOurs(page)).toEqual([])
    await shot(page, 'gallery-edit-reordered')
    await save(page)
    const after = await until(async () => {
      const r = await main.app.sequelize.models.Gallery.findByPk(id, { raw: true }) as Record<string, unknown> | null
      return r && parse(r.imageNames)[0] === 'blue.png' && r
    }, 'the saved order')
    expect(parse(after.imageNames)).toEqual(['blue.png', 'red.png', 'green.png'])
    expect(parse(after.imagePaths)).toEqual([`galleries/${id}/blue.png`, `galleries/${id}/red.png`, `galleries/${id}/green.png`])
    await page.close()
  }, LONG)

  test.each([
    ['en', /Not saved: evil\.png could not be uploaded\. Remove it from the list/, /Remove it from the list before you save/, /validation errors/],
    ['de', /Nicht gespeichert: evil\.png konnte nicht hochgeladen werden\. Entfernen Sie die Datei/, /Entfernen Sie die Datei vor dem Speichern/, /Validierungsfehler/],
  ])('%s: a refused file next to a good one: its row says why and what to do, Save names it, the good row stays good', async (language, saveText, rowText, noticeText) => {
    const page = await browser.context.newPage()
    await logIn(page, main.base)
    await startIn(page, 'en')
    await page.goto(`${main.base}/admin/resources/Gallery/actions/new`)
    await page.waitForSelector('[data-testid=resumable-input]', { state: 'attached' })
    if (language === 'de') await toGerman(page)
    await page.fill('input[name=title]', `Mixed ${language}`)
    await page.setInputFiles('[data-testid=resumable-input]', [join(dir, 'evil.png'), join(dir, 'red.png')])
    const evil = page.locator('[data-testid=resumable-item][data-name="evil.png"]')
    const good = page.locator('[data-testid=resumable-item][data-name="red.png"]')
    await until(async () => (await evil.getAttribute('data-state')) === 'failed' && (await good.getAttribute('data-state')) === 'complete', 'one failed, one complete')
    // The server's own reason on the row, and what to do.
    await expect(evil.locator('[data-testid=resumable-item-detail]').innerText()).resolves.toMatch(/content is not of that type/)
    await expect(evil.locator('[data-testid=resumable-item-error]').innerText()).resolves.toMatch(rowText)

    await page.click('form button[type=submit]')
    const message = page.locator('[data-testid=resumable-save-error]')
    await until(async () => (await message.innerText()).length > 0, 'the Save refusal')
    await expect(message.innerText()).resolves.toMatch(saveText)
    // AdminJS's notice is in the page's language too (it used to carry the server's English words).
    const notice = page.locator('[data-testid=notice-wrapper]')
    await until(async () => (await notice.count()) > 0 && (await notice.innerText()).length > 0, 'the notice')
    await expect(notice.innerText()).resolves.toMatch(noticeText)
    await expect(notice.innerText()).resolves.not.toMatch(/could not be uploaded/)
    // Retrying a file the server refused for its content cannot help: nothing offers it.
    await expect(message.innerText()).resolves.not.toMatch(/retry|erneut/i)
    expect(await evil.locator('[data-testid=resumable-item-retry]').count()).toBe(0)
    // The good row: still complete, its name not in the error colour, no error of its own.
    expect(await good.getAttribute('data-state')).toBe('complete')
    expect(await good.locator('[data-testid=resumable-item-error]').count()).toBe(0)
    const [goodColour, errorColour] = await Promise.all([
      good.locator('span').first().evaluate((el) => getComputedStyle(el).color),
      message.locator('span').first().evaluate((el) => getComputedStyle(el).color),
    ])
    expect(goodColour).not.toBe(errorColour)
    expect(await axeInOurs(page)).toEqual([])
    await shot(page, `gallery-failed-row-${language}`)

    // Removing the failed row takes the stale message away; Save now stores the good file.
    await evil.locator('[data-testid=resumable-item-remove]').click()
    await expect(message.innerText()).resolves.toBe('')
    await save(page)
    const row = await until(async () => main.app.sequelize.models.Gallery.findOne({ where: { title: `Mixed ${language}` }, raw: true }) as Promise<Record<string, unknown> | null>, 'the saved Gallery')
    expect(parse(row.imageNames)).toEqual(['red.png'])
    await page.close()
  }, LONG)

  test.each(['en', 'de'])('%s: a record whose files are not in the storage says so on list, show and edit', async (language) => {
    const Gallery = main.app.sequelize.models.Gallery
    const Document = main.app.Document
    const g = await Gallery.create({ title: `Moved ${language}`, imagePaths: ['galleries/0/gone.png'], imageNames: ['gone.png'], imageSizes: [10], imageMimeTypes: ['image/png'], imageRelativePaths: [null] }) as any
    const d = await Document.create({ title: `Moved doc ${language}`, filePath: 'documents/0/gone.pdf', fileName: 'gone.pdf', fileSize: 10, fileMimeType: 'application/pdf' }) as any
    const page = await browser.context.newPage()
    await logIn(page, main.base)
    await startIn(page, 'en')
    await page.goto(`${main.base}/admin/resources/Document`)
    // Picked once in the menu, the language holds across the full page loads below.
    if (language === 'de') await toGerman(page)
    const text = language === 'de' ? 'Datei im Speicher nicht gefunden' : 'File not found in storage'
    await page.goto(`${main.base}/admin/resources/Document/records/${d.id}/show`)
    await expect(page.locator('[data-testid=resumable-missing]').innerText()).resolves.toMatch(new RegExp(`gone\\.pdf · ${text}`))
    expect(await page.locator('[data-testid=resumable-show-download]').count()).toBe(0)
    expect(await axeInOurs(page)).toEqual([])
    await shot(page, `document-missing-show-${language}`)
    await page.goto(`${main.base}/admin/resources/Document`)
    await expect(page.locator('[data-testid=resumable-missing]').first().innerText()).resolves.toContain(text)
    await page.goto(`${main.base}/admin/resources/Gallery/records/${g.id}/show`)
    await expect(page.locator('[data-testid=resumable-missing]').innerText()).resolves.toContain(text)
    await page.goto(`${main.base}/admin/resources/Gallery`)
    await expect(page.locator('[data-testid=resumable-missing]').first().innerText()).resolves.toContain(text)
    await shot(page, `gallery-missing-list-${language}`)
    await page.close()
  }, LONG)

  test.each(['en', 'de'])('%s: a complete upload left unsaved is attached from the recovery list without picking the file', async (language) => {
    const agent = await login(main.app.app, 'admin@example.com')
    const data = bytes(3 * 64 * 1024 + 777, language === 'en' ? 31 : 32)
    const filename = `left-behind-${language}.bin`
    await uploadAll(agent, { identifier: `left-behind-${language}`, filename, type: 'application/octet-stream', data, chunkSize: 64 * 1024 })
    const page = await browser.context.newPage()
    await logIn(page, main.base)
    await startIn(page, 'en')
    await page.goto(`${main.base}/admin/resources/Document/actions/new`)
    if (language === 'de') await toGerman(page)
    const item = page.locator(`[data-testid=resumable-unfinished-item][data-complete=true]`).filter({ hasText: filename })
    await item.waitFor()
    await expect(item.innerText()).resolves.toMatch(language === 'de' ? /vollständig hochgeladen.*hängen Sie es an/ : /uploaded completely.*attach it, or discard/)
    // Nothing to pick: the file is on the server already.
    expect(await item.locator('[data-testid=resumable-unfinished-pick]').count()).toBe(0)
    await item.locator('[data-testid=resumable-unfinished-attach]').click()
    await page.waitForFunction(() => document.querySelector('[data-testid=resumable-status]')?.getAttribute('data-state') === 'complete')
    expect(await page.locator('[data-testid=resumable-unfinished-item]').filter({ hasText: filename }).count()).toBe(0)
    expect(await axeInOurs(page)).toEqual([])
    await shot(page, `document-attached-${language}`)
    await page.fill('input[name=title]', `Attached ${language}`)
    await save(page)
    const row = await until(async () => main.app.Document.findOne({ where: { title: `Attached ${language}` }, raw: true }) as Promise<Record<string, unknown> | null>, 'the saved Document')
    expect(row.fileName).toBe(filename)
    expect(sha256(readFileSync(join(main.app.uploadDir, String(row.filePath))))).toBe(sha256(data))
    await page.close()
  }, LONG)

  test('a reload mid-chunk: the bar and its words say what the server holds, and the recovery list agrees', async () => {
    const CHUNK = 64 * 1024
    const data = bytes(40 * CHUNK + 123, 41)
    const path = join(dir, 'reload-me.bin')
    writeFileSync(path, data)
    const page = await browser.context.newPage()
    await logIn(page, main.base)
    await startIn(page, 'en')
    await throttleUploads(browser.context, page, 48 * 1024)
    await page.goto(`${main.base}/admin/resources/Document/actions/new`)
    await page.waitForSelector('[data-testid=resumable-input]', { state: 'attached' })
    await page.setInputFiles('[data-testid=resumable-input]', path)
    const listed = async () => {
      const res = await page.request.get(`${main.base}/admin/api/resumable/Document/file/uploads`, { headers: { 'X-Requested-With': 'XMLHttpRequest' } })
      const body = await res.json() as { uploads: Array<{ filename: string; receivedBytes: number; percent: number }> }
      return body.uploads.find((u) => u.filename === 'reload-me.bin') ?? null
    }
    const bar = page.locator('[data-testid=resumable-progress]')
    const held = page.locator('[data-testid=resumable-held]')
    // Bytes on their way, no chunk whole yet: the page says nothing is kept, and the server has nothing.
    await until(async () => Number(await bar.getAttribute('data-percent')) > 0 && (await bar.getAttribute('data-held')) === '0', 'bytes in flight, none held')
    await expect(held.innerText()).resolves.toBe('Nothing is kept on the server until the first part (64.0 KiB) is complete.')
    expect(await listed()).toBeNull()
    // Some chunks whole, one in flight: pause, and compare what the page says with what the server lists.
    await until(async () => Number(await bar.getAttribute('data-held')) >= 5, 'a few chunks held')
    await page.click('[data-testid=resumable-pause]')
    await page.waitForFunction(() => document.querySelector('[data-testid=resumable-status]')?.getAttribute('data-state') === 'paused')
    // A chunk whose body had left the browser when the pause aborted it may still land on the
    // server: wait until the server's count is settled, then the page may only say less, never more,
    // and by at most the chunks that were in flight (simultaneousUploads: 3).
    let server = await until(listed, 'the upload listed by the server')
    for (let settled = false; !settled;) {
      await new Promise((resolve) => setTimeout(resolve, 1000))
      const again = (await listed())!
      settled = again.receivedBytes === server.receivedBytes
      server = again
    }
    const text = await held.innerText()
    const shown = /^Kept on the server: (.+) — a reload continues from there\.$/.exec(text)
    expect(shown).not.toBeNull()
    const heldPercent = Number(await bar.getAttribute('data-held'))
    const serverPercent = (server.receivedBytes / data.length) * 100
    expect(heldPercent).toBeLessThanOrEqual(serverPercent + 1)
    expect(serverPercent - heldPercent).toBeLessThanOrEqual((3 * CHUNK / data.length) * 100 + 1)
    if (serverPercent - heldPercent <= 1) expect(shown![1]).toBe(formatSize(server.receivedBytes))
    await shot(page, 'document-paused-held')
    // The reload: the recovery list offers it at the server's percent.
    await page.reload()
    const item = page.locator('[data-testid=resumable-unfinished-item]').filter({ hasText: 'reload-me.bin' })
    await item.waitFor()
    expect(Number(await item.getAttribute('data-percent'))).toBe(server.percent)
    await page.close()
  }, LONG)
  test('dragging a row with the mouse changes the saved order', async () => {
    const agent = await login(main.app.app, 'admin@example.com')
    const references = []
    for (const [i, name] of photos.entries()) {
      const data = readFileSync(join(dir, name))
      references.push(await uploadToGallery(agent, { identifier: `drag-${i}-${data.length}`, filename: name, type: 'image/png', data, chunkSize: 64 * 1024 }))
    }
    const created = agent.post('/admin/api/resources/Gallery/actions/new').field('title', 'Dragged')
    for (const [i, reference] of references.entries()) created.field(`images.${i}`, reference)
    const id = (await created).body.record.params.id
    const page = await browser.context.newPage()
    await logIn(page, main.base)
    await startIn(page, 'en')
    await page.goto(`${main.base}/admin/resources/Gallery/records/${id}/edit`)
    await page.locator('[data-testid=resumable-stored-item]').nth(2).waitFor()
    expect(await rowNames(page)).toEqual(photos)
    // Real mouse events: press on blue.png's name, move in steps onto red.png's row, release.
    const blue = page.locator('[data-testid=resumable-stored-item][data-name="blue.png"] span').first()
    const red = page.locator('[data-testid=resumable-stored-item][data-name="red.png"]')
    const from = (await blue.boundingBox())!
    const to = (await red.boundingBox())!
    await page.mouse.move(from.x + from.width / 2, from.y + from.height / 2)
    await page.mouse.down()
    await page.mouse.move(from.x + from.width / 2, from.y + from.height / 2 - 10, { steps: 3 })
    await page.mouse.move(to.x + to.width / 2, to.y + to.height / 2, { steps: 10 })
    await page.mouse.up()
    await until(async () => JSON.stringify(await rowNames(page)) === JSON.stringify(['blue.png', 'red.png', 'green.png']), 'the dragged order on the page')
    expect(await axeInOurs(page)).toEqual([])
    await shot(page, 'gallery-edit-dragged')
    await save(page)
    const after = await until(async () => {
      const r = await main.app.sequelize.models.Gallery.findByPk(id, { raw: true }) as Record<string, unknown> | null
      return r && parse(r.imageNames)[0] === 'blue.png' && r
    }, 'the saved order')
    expect(parse(after.imageNames)).toEqual(['blue.png', 'red.png', 'green.png'])
    expect(parse(after.imagePaths)).toEqual([`galleries/${id}/blue.png`, `galleries/${id}/red.png`, `galleries/${id}/green.png`])
    await page.close()
  }, LONG)

  test.each(['en', 'de'])('%s: on the Gallery, a complete upload left unsaved is attached from the recovery list without picking the file', async (language) => {
    const agent = await login(main.app.app, 'admin@example.com')
    const filename = `left-behind-${language}.png`
    const [r, g, b] = language === 'en' ? [250, 200, 0] : [0, 200, 250]
    const data = await sharp({ create: { width: 300, height: 200, channels: 3, background: { r, g, b } } }).png().toBuffer()
    await uploadToGallery(agent, { identifier: `gallery-left-behind-${language}-${data.length}`, filename, type: 'image/png', data, chunkSize: 64 * 1024 })
    const page = await browser.context.newPage()
    await logIn(page, main.base)
    await startIn(page, 'en')
    await page.goto(`${main.base}/admin/resources/Gallery/actions/new`)
    if (language === 'de') await toGerman(page)
    const item = page.locator('[data-testid=resumable-unfinished-item][data-complete=true]').filter({ hasText: filename })
    await item.waitFor()
    await expect(item.innerText()).resolves.toMatch(language === 'de' ? /vollständig hochgeladen.*hängen Sie es an/ : /uploaded completely.*attach it, or discard/)
    // Nothing to pick: the file is on the server already.
    expect(await item.locator('[data-testid=resumable-unfinished-pick]').count()).toBe(0)
    await item.locator('[data-testid=resumable-unfinished-attach]').click()
    const row = page.locator(`[data-testid=resumable-item][data-name="${filename}"]`)
    await until(async () => (await row.getAttribute('data-state')) === 'complete', 'the attached row')
    expect(await page.locator('[data-testid=resumable-unfinished-item]').filter({ hasText: filename }).count()).toBe(0)
    await expect(row.innerText()).resolves.toMatch(language === 'de' ? /Hochgeladen/ : /Uploaded — press Save to attach/)
    expect(await axeInOurs(page)).toEqual([])
    await shot(page, `gallery-attached-${language}`)
    await page.fill('input[name=title]', `Gallery attached ${language}`)
    await save(page)
    const saved = await until(async () => main.app.sequelize.models.Gallery.findOne({ where: { title: `Gallery attached ${language}` }, raw: true }) as Promise<Record<string, unknown> | null>, 'the saved Gallery')
    expect(parse(saved.imageNames)).toEqual([filename])
    const [key] = parse(saved.imagePaths) as string[]
    expect(sha256(readFileSync(join(main.app.uploadDir, key)))).toBe(sha256(data))
    await page.close()
  }, LONG)
})
