/**
 * The file-hash worker of direct uploads (`storage.s3.upload: 'direct'`) in headless Chromium with
 * the real Resumable.js, against s3rver behind the SigV4-verifying proxy: each file's whole-file
 * SHA-256 is hashed on a dedicated worker made from a Blob URL. A file cancelled or removed takes
 * its worker with it (Playwright's page.workers() lists the dedicated workers alive), and a page
 * whose Content-Security-Policy refuses Blob URL workers hashes on the page instead: the upload
 * completes and the record carries the right SHA-256.
 */
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import type { Page } from 'playwright-core'
import { browserMissing, launchBrowser, type Browser } from './support/browser.js'
import { listen, logIn, throttleUploads, type Listening } from './support/browser-app.js'
import {
  LONG, MiB, STATUS, bigPng, download, eventually, list, openNewForm, settled, startDirectStack, type DirectStack,
} from './support/direct-stack.js'
import { acceptedPuts, ReportedParts } from './support/direct-traffic.js'
import { bytes } from './support/resumable-client.js'
import { s3rverInstalled } from './support/s3rver.js'

const missing = browserMissing() ?? (s3rverInstalled() ? null : 's3rver is not installed')
const suite = missing ? describe.skip : describe
if (missing) test.todo(`DIRECT UPLOAD HASH WORKER BROWSER TESTS DID NOT RUN: ${missing}`)

let stack: DirectStack
let app: Listening
let browser: Browser

beforeAll(async () => {
  if (missing) return
  stack = await startDirectStack()
  app = await listen(stack.env)
  browser = await launchBrowser()
}, LONG)

afterAll(async () => {
  await browser?.close()
  await app?.close()
  await stack?.close()
}, LONG)

/**
 * Parts enough that the page has not read them all when the first PUT lands: it reads a part when
 * its URL is signed, and signs no more than about two batches (DIRECT_BATCH_MAX) ahead, so the
 * file's hash worker still waits for the rest.
 */
const UNREAD_PARTS = 48

/** A file of UNREAD_PARTS parts: a random first MiB, the rest zeros (quick to write, same to the worker). */
const unread = (seed: number): Buffer => Buffer.concat([bytes(MiB, seed), Buffer.alloc(UNREAD_PARTS * 5 * MiB - MiB + 17)])

/** The Blob URL workers alive on the page now (the file hashes; nothing else on the admin page uses them). */
const hashWorkers = (page: Page): number => page.workers().filter((w) => w.url().startsWith('blob:')).length

/**
 * The same app served with `policy` as the Content-Security-Policy of every answer, as a site's
 * own middleware would set it. (Not with page.route: a document Playwright fulfils loses its
 * loopback address space, and Chromium then refuses the PUTs to the loopback bucket.)
 */
async function withPolicy(policy: string): Promise<{ base: string; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    res.setHeader('Content-Security-Policy', policy)
    app.app.app(req, res)
  })
  await new Promise<void>((resolve) => { server.listen(0, '127.0.0.1', resolve) })
  return {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: async () => {
      server.closeAllConnections()
      await new Promise<void>((resolve) => { server.close(() => resolve()) })
    },
  }
}

suite('the file-hash worker of direct uploads in Chromium', () => {
  test('Cancel terminates the file\'s hash worker while it still waits for parts not yet read; the same file picked again gets a worker of its own', async () => {
    const file = stack.sample('worker-cancelled.bin', unread(61))
    const page = await browser.context.newPage()
    await throttleUploads(browser.context, page, 4 * MiB)
    await logIn(page, app.base)
    await openNewForm(page, app, 'Document', 'Worker cancelled')
    expect(hashWorkers(page)).toBe(0)
    const before = stack.proxy.forwarded.length
    await page.setInputFiles('[data-testid=resumable-input]', file.path)
    await eventually(() => hashWorkers(page) === 1, 'the file\'s hash worker')
    await eventually(() => acceptedPuts(stack.proxy, before).length >= 1, 'a part in the bucket', LONG)
    // Still hashing: the parts past the ones signed ahead are not read yet.
    expect(hashWorkers(page)).toBe(1)
    await page.click('[data-testid=resumable-cancel]')
    expect(await page.getAttribute(STATUS, 'data-state')).toBe('idle')
    await eventually(() => hashWorkers(page) === 0, 'the cancelled file\'s hash worker to be gone', 10_000)

    await page.setInputFiles('[data-testid=resumable-input]', file.path)
    await eventually(() => hashWorkers(page) === 1, 'the new upload\'s hash worker')
    await page.click('[data-testid=resumable-cancel]')
    await eventually(() => hashWorkers(page) === 0, 'the second upload\'s hash worker to be gone', 10_000)
    await page.close()
  }, LONG)

  test('leaving the form for the list (the same document: the admin is a single page) ends the paused file\'s hash worker', async () => {
    const file = stack.sample('worker-left.bin', unread(65))
    const page = await browser.context.newPage()
    await throttleUploads(browser.context, page, 4 * MiB)
    await logIn(page, app.base)
    await openNewForm(page, app, 'Document', 'Worker left behind')
    const before = stack.proxy.forwarded.length
    await page.setInputFiles('[data-testid=resumable-input]', file.path)
    await eventually(() => acceptedPuts(stack.proxy, before).length >= 1, 'a part in the bucket', LONG)
    await page.click('[data-testid=resumable-pause]')
    expect(hashWorkers(page)).toBe(1)
    await page.evaluate(() => { (window as unknown as { sameDocument: boolean }).sameDocument = true })
    // The breadcrumb back to the list: a client-side route change, no page load.
    await page.locator('a[href$="/admin/resources/Document"]').first().click()
    await page.waitForURL((url) => url.pathname.endsWith('/admin/resources/Document'))
    await page.waitForSelector('[data-testid=resumable-input]', { state: 'detached' })
    expect(await page.evaluate(() => (window as unknown as { sameDocument?: boolean }).sameDocument)).toBe(true)
    await eventually(() => hashWorkers(page) === 0, 'the left form\'s hash worker to be gone', 10_000)
    await page.close()
  }, LONG)

  test('a multiple property: the removed file\'s worker goes, the other file uploads on and completes; none is left; Save keeps the right checksum', async () => {
    const removed = stack.sample('worker-removed.png', bigPng(UNREAD_PARTS * 5 * MiB + 9, 63))
    const kept = stack.sample('worker-kept.png', bigPng(2 * 5 * MiB + 5, 62))
    const row = (name: string) => page.locator(`[data-testid=resumable-item][data-name="${name}"]`)
    const page = await browser.context.newPage()
    await throttleUploads(browser.context, page, 4 * MiB)
    await logIn(page, app.base)
    const title = 'Worker removed'
    await openNewForm(page, app, 'Gallery', title)
    expect(hashWorkers(page)).toBe(0)
    const before = stack.proxy.forwarded.length
    await page.setInputFiles('[data-testid=resumable-input]', removed.path)
    await eventually(() => hashWorkers(page) === 1, 'the first file\'s hash worker')
    await eventually(() => acceptedPuts(stack.proxy, before).length >= 1, 'a part in the bucket', LONG)
    await page.setInputFiles('[data-testid=resumable-input]', kept.path)
    await eventually(() => row(kept.name).count(), 'the second file\'s row')
    expect(hashWorkers(page)).toBeGreaterThanOrEqual(1)
    await row(removed.name).locator('[data-testid=resumable-item-remove]').click()

    await page.waitForFunction((name) => document.querySelector(`[data-testid=resumable-item][data-name="${name}"]`)?.getAttribute('data-state') === 'complete',
      kept.name, { timeout: LONG, polling: 100 })
    await eventually(() => hashWorkers(page) === 0, 'every hash worker to be gone', 10_000)
    await Promise.all([page.waitForURL((url) => !url.pathname.endsWith('/new'), { timeout: 30_000 }), page.click('form button[type=submit]')])
    const saved = await eventually(async () => app.app.sequelize.model('Gallery').findOne({ where: { title }, raw: true }) as Promise<Record<string, unknown> | null>, 'the saved Gallery row')
    expect(list(saved.imageNames)).toEqual([kept.name])
    expect(list(saved.imageChecksums)).toEqual([kept.sha])
    await page.close()
  }, LONG)

  test('a CSP that refuses Blob URL workers (worker-src \'self\'): no worker starts, the page hashes the file itself, the upload completes; Save records the right SHA-256, download byte-identical', async () => {
    const file = stack.sample('worker-csp.bin', bytes(3 * 5 * MiB + 333, 64))
    const page = await browser.context.newPage()
    const reported = new ReportedParts(page)
    const workers: string[] = []
    page.on('worker', (worker) => { workers.push(worker.url()) })
    const violations: string[] = []
    page.on('console', (message) => { if (/Content Security Policy/i.test(message.text())) violations.push(message.text()) })
    const strict = await withPolicy("worker-src 'self'")
    await logIn(page, strict.base)
    const title = 'Worker refused by CSP'
    await openNewForm(page, { ...app, base: strict.base }, 'Document', title)
    const before = stack.proxy.forwarded.length
    await page.setInputFiles('[data-testid=resumable-input]', file.path)
    expect(await settled(page)).toBe('complete')
    // The policy did apply: the page tried the Blob URL worker and the browser refused it.
    expect(violations.some((v) => v.includes('worker-src'))).toBe(true)
    expect(workers).toEqual([])
    expect(acceptedPuts(stack.proxy, before).map((p) => p.part).sort()).toEqual([1, 2, 3])
    expect(reported.completing).toEqual([file.sha])

    await Promise.all([page.waitForURL((url) => !url.pathname.endsWith('/new'), { timeout: 30_000 }), page.click('form button[type=submit]')])
    const saved = await eventually(async () => app.app.Document.findOne({ where: { title }, raw: true }) as Promise<Record<string, unknown> | null>, 'the saved Document row')
    expect(saved.fileChecksum).toBe(file.sha)
    expect(await download(page, `${strict.base}/admin/api/resumable/Document/file/download/${saved.id}`)).toBe(file.sha)
    await page.close()
    await strict.close()
  }, LONG)
})
