/**
 * Direct uploads (`storage.s3.upload: 'direct'`) through the real edit components in headless
 * Chromium with the real Resumable.js: each chunk is PUT from the page to the bucket (s3rver behind
 * the SigV4-verifying stack.proxy, so every signature is checked, with the bucket's CORS set), paused, the
 * page reloaded, the same file picked again: only the parts the route did not record are PUT again.
 * Save, then the download is byte-identical; the app process receives no file bytes. The same for a
 * `multiple` property, and across two app hosts on one database and bucket.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import { browserMissing, launchBrowser, type Browser } from './support/browser.js'
import { listen, logIn, throttleUploads, type Listening } from './support/browser-app.js'
import {
  LONG, MiB, STATUS, bigPng, download, eventually, list, openNewForm, settled, shot, startDirectStack, type DirectStack,
} from './support/direct-stack.js'
import { acceptedPuts, recordAppRequests, ReportedParts, type AppRequest } from './support/direct-traffic.js'
import { bytes } from './support/resumable-client.js'
import { s3rverInstalled } from './support/s3rver.js'

const missing = browserMissing() ?? (s3rverInstalled() ? null : 's3rver is not installed')
const suite = missing ? describe.skip : describe
if (missing) test.todo(`DIRECT UPLOAD BROWSER TESTS DID NOT RUN: ${missing}`)

let stack: DirectStack
let app: Listening
let appRequests: AppRequest[]
let browser: Browser
/** Two app hosts on one database and bucket. */
let hosts: Listening[]

beforeAll(async () => {
  if (missing) return
  stack = await startDirectStack()
  app = await listen(stack.env)
  appRequests = recordAppRequests(app.server)
  const shared = { ...stack.env, DATABASE_FILE: `${stack.dir}/shared.sqlite` }
  hosts = [await listen(shared), await listen(shared)]
  browser = await launchBrowser()
}, LONG)

afterAll(async () => {
  await browser?.close()
  await app?.close()
  for (const host of hosts ?? []) await host.close()
  await stack?.close()
}, LONG)

/** The chunk route's requests that carried a body other than a small direct JSON body. */
function fileBytesAtApp(): { chunkPosts: number; bodyBytes: number } {
  const route = appRequests.filter((r) => r.path.startsWith('/admin/api/resumable/'))
  return {
    chunkPosts: route.filter((r) => (r.method === 'POST' || r.method === 'PUT') && !/\/direct\/(sign|parts)$/.test(r.path)).length,
    bodyBytes: appRequests.reduce((sum, r) => sum + r.bytes, 0),
  }
}

suite('direct uploads to the bucket in Chromium (s3rver behind the signing proxy)', () => {
  test('one file: PUT part by part to the bucket, paused, page reloaded, picked again: only the parts not recorded are PUT; Save; download byte-identical; the app gets no file bytes', async () => {
    const file = stack.sample('direct-survey.bin', bytes(6 * 5 * MiB + 4321, 41))
    const page = await browser.context.newPage()
    const reported = new ReportedParts(page)
    // The file's SHA-256 is hashed off the page's main thread, on a worker made from a Blob URL.
    const workers: string[] = []
    page.on('worker', (worker) => { workers.push(worker.url()) })
    await throttleUploads(browser.context, page, 8 * MiB)
    await logIn(page, app.base)
    const title = 'Direct survey'
    const openForm = () => openNewForm(page, app, 'Document', title)
    await openForm()
    const before = stack.proxy.forwarded.length
    await page.setInputFiles('[data-testid=resumable-input]', file.path)
    await eventually(() => acceptedPuts(stack.proxy, before).length >= 2, 'two parts in the bucket', LONG)
    await page.click('[data-testid=resumable-pause]')
    expect(await page.getAttribute(STATUS, 'data-state')).toBe('paused')
    await shot(page, 'direct-single-paused')

    // Every part whose answer reached the page before the pause is reported within a second or so.
    expect(new Set(acceptedPuts(stack.proxy, before).map((p) => p.uploadId)).size).toBe(1)
    await eventually(() => reported.putsSeen >= 2 && reported.count() >= 2, 'the ETags the page received to be reported')
    await reported.settled()
    const recorded = new Set([...reported.byFile.values()][0])
    expect(recorded.size).toBeGreaterThanOrEqual(2)

    const afterPause = stack.proxy.forwarded.length
    await page.reload()
    await openForm()
    await page.setInputFiles('[data-testid=resumable-input]', file.path)
    const outcome = await settled(page)
    await shot(page, 'direct-single-complete')
    expect(outcome).toBe('complete')

    const putAfter = acceptedPuts(stack.proxy, afterPause).map((p) => p.part)
    // Only what the route did not record goes again, each part once; together they are the whole file.
    expect(putAfter.filter((n) => recorded.has(n))).toEqual([])
    expect(new Set(putAfter).size).toBe(putAfter.length)
    expect(new Set([...recorded, ...putAfter])).toEqual(new Set([1, 2, 3, 4, 5, 6]))
    expect(stack.proxy.refused).toEqual([])
    // Every part's SHA-256 is in its signature: the bucket checks the bytes it stores.
    expect(acceptedPuts(stack.proxy, before).every((p) => p.signedHeaders.includes('x-amz-checksum-sha256'))).toBe(true)
    expect(reported.completing.at(-1)).toBe(file.sha)
    expect(workers.filter((url) => url.startsWith('blob:')).length).toBeGreaterThanOrEqual(2)

    await Promise.all([page.waitForURL((url) => !url.pathname.endsWith('/new'), { timeout: 30_000 }), page.click('form button[type=submit]')])
    const saved = await eventually(async () => app.app.Document.findOne({ where: { title }, raw: true }) as Promise<Record<string, unknown> | null>, 'the saved Document row')
    expect(Number(saved.fileSize)).toBe(file.size)
    expect(saved.fileChecksum).toBe(file.sha)
    expect(await download(page, `${app.base}/admin/api/resumable/Document/file/download/${saved.id}`)).toBe(file.sha)

    const atApp = fileBytesAtApp()
    expect(atApp.chunkPosts).toBe(0)
    expect(atApp.bodyBytes).toBeLessThan(file.size / 100)
    await page.close()
  }, LONG)

  test('a multiple property: two images PUT side by side, paused, reloaded, picked again: only the missing parts are PUT; Save; both download byte-identical', async () => {
    const photos = [stack.sample('direct-north.png', bigPng(4 * 5 * MiB + 777, 51)), stack.sample('direct-south.png', bigPng(3 * 5 * MiB + 99, 52))]
    const page = await browser.context.newPage()
    const reported = new ReportedParts(page)
    await throttleUploads(browser.context, page, 4 * MiB)
    await logIn(page, app.base)
    const title = 'Direct gallery'
    const openForm = () => openNewForm(page, app, 'Gallery', title)
    await openForm()
    const before = stack.proxy.forwarded.length
    await page.setInputFiles('[data-testid=resumable-input]', photos.map((p) => p.path))
    await eventually(() => acceptedPuts(stack.proxy, before).length >= 2, 'two parts in the bucket', LONG)
    // Both rows at once: a row may finish between two clicks.
    await page.$$eval('[data-testid=resumable-item-pause]', (buttons) => buttons.forEach((b) => (b as HTMLButtonElement).click()))
    await shot(page, 'direct-multiple-paused')
    await eventually(() => reported.putsSeen >= 2 && reported.count() >= 2, 'the ETags the page received to be reported')
    const recorded = await reported.settled()
    expect(recorded).toBeGreaterThanOrEqual(2)

    const afterPause = stack.proxy.forwarded.length
    await page.reload()
    await openForm()
    await page.setInputFiles('[data-testid=resumable-input]', photos.map((p) => p.path))
    await page.waitForFunction(() => {
      const rows = [...document.querySelectorAll('[data-testid=resumable-item]')]
      return rows.length === 2 && rows.every((r) => ['complete', 'failed'].includes(r.getAttribute('data-state') ?? ''))
    }, undefined, { timeout: LONG, polling: 100 })
    await shot(page, 'direct-multiple-complete')
    expect(await page.locator('[data-testid=resumable-item]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-state')))).toEqual(['complete', 'complete'])

    const putAfter = acceptedPuts(stack.proxy, afterPause)
    // 4 + 3 parts in all: what was recorded before the reload is not sent again.
    expect(putAfter.length).toBe(7 - recorded)
    expect(new Set(putAfter.map((p) => `${p.uploadId}:${p.part}`)).size).toBe(putAfter.length)
    expect(stack.proxy.refused).toEqual([])

    await Promise.all([page.waitForURL((url) => !url.pathname.endsWith('/new'), { timeout: 30_000 }), page.click('form button[type=submit]')])
    const saved = await eventually(async () => app.app.sequelize.model('Gallery').findOne({ where: { title }, raw: true }) as Promise<Record<string, unknown> | null>, 'the saved Gallery row')
    const names = list(saved.imageNames)
    expect([...names].sort()).toEqual(photos.map((p) => p.name).sort())
    for (const [index, name] of names.entries()) {
      const photo = photos.find((p) => p.name === name)!
      expect(list(saved.imageChecksums)[index]).toBe(photo.sha)
      expect(await download(page, `${app.base}/admin/api/resumable/Gallery/images/download/${saved.id}/${index}`)).toBe(photo.sha)
    }
    expect(fileBytesAtApp().chunkPosts).toBe(0)
    await page.close()
  }, LONG)

  test('two app hosts on one database and bucket share the upload: started on one, paused, picked again on the other, only the parts not recorded are PUT; Save there, download from the first', async () => {
    const [first, second] = hosts as [Listening, Listening]
    const file = stack.sample('direct-shared.bin', bytes(5 * 5 * MiB + 3, 53))
    const page = await browser.context.newPage()
    const reported = new ReportedParts(page)
    await throttleUploads(browser.context, page, 6 * MiB)
    await logIn(page, first.base)
    const title = 'Direct on two hosts'
    // Both hosts are on 127.0.0.1 and share the session store: the cookie is good on either.
    const openForm = (host: Listening) => openNewForm(page, host, 'Document', title)
    await openForm(first)
    const before = stack.proxy.forwarded.length
    await page.setInputFiles('[data-testid=resumable-input]', file.path)
    await eventually(() => acceptedPuts(stack.proxy, before).length >= 2, 'two parts in the bucket', LONG)
    await page.click('[data-testid=resumable-pause]')
    await eventually(() => reported.putsSeen >= 2 && reported.count() >= 2, 'the ETags the page received to be reported')
    await reported.settled()
    const recorded = new Set([...reported.byFile.values()][0])

    const afterPause = stack.proxy.forwarded.length
    await openForm(second)
    await page.setInputFiles('[data-testid=resumable-input]', file.path)
    expect(await settled(page)).toBe('complete')
    const putAfter = acceptedPuts(stack.proxy, afterPause).map((p) => p.part)
    expect(putAfter.filter((n) => recorded.has(n))).toEqual([])
    expect(new Set([...recorded, ...putAfter])).toEqual(new Set([1, 2, 3, 4, 5]))

    await Promise.all([page.waitForURL((url) => !url.pathname.endsWith('/new'), { timeout: 30_000 }), page.click('form button[type=submit]')])
    const saved = await eventually(async () => second.app.Document.findOne({ where: { title }, raw: true }) as Promise<Record<string, unknown> | null>, 'the saved Document row')
    expect(saved.fileChecksum).toBe(file.sha)
    expect(await download(page, `${first.base}/admin/api/resumable/Document/file/download/${saved.id}`)).toBe(file.sha)
    await page.close()
  }, LONG)
})
