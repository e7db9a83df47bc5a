/**
 * Direct uploads (`storage.s3.upload: 'direct'`) through the real edit components in headless
 * Chromium with the real Resumable.js: each chunk is PUT from the page to the bucket (s3rver behind
 * the SigV4-verifying proxy, so every signature is checked, with the bucket's CORS set), paused, the
 * page reloaded, the same file picked again: only the parts the route did not record are PUT again.
 * Save, then the download is byte-identical; the app process receives no file bytes. Also: a
 * `multiple` property, two app hosts sharing one upload, URLs expired during a pause, a PUT lost on
 * the network, Cancel.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import type { Page } from 'playwright-core'
import { browserMissing, launchBrowser, type Browser } from './support/browser.js'
import { listen, logIn, throttleUploads, type Listening } from './support/browser-app.js'
import { acceptedPuts, recordAppRequests, ReportedParts, type AppRequest } from './support/direct-traffic.js'
import { bytes, sha256 } from './support/resumable-client.js'
import { pngFile } from './support/samples.js'
import { startSigningProxy, type SigningProxy } from './support/signing-proxy.js'
import { s3rverInstalled, startS3rver, type S3Server } from './support/s3rver.js'

const MiB = 1024 * 1024
const LONG = 240_000
const SCREENSHOTS = join(process.cwd(), 'test', '.tmp', 'screenshots')
const STATUS = '[data-testid=resumable-status]'

const missing = browserMissing() ?? (s3rverInstalled() ? null : 's3rver is not installed')
const suite = missing ? describe.skip : describe
if (missing) test.todo(`DIRECT UPLOAD BROWSER TESTS DID NOT RUN: ${missing}`)

interface Sample { path: string; name: string; size: number; sha: string }

let dir: string
let server: S3Server
let proxy: SigningProxy
let app: Listening
/** The same bucket, with part URLs valid for 3 seconds only. */
let shortLived: Listening
/** Two app hosts on one database and bucket. */
let hosts: Listening[]
let appRequests: AppRequest[]
let browser: Browser

function sample(name: string, data: Buffer): Sample {
  const path = join(dir, name)
  writeFileSync(path, data)
  return { path, name, size: data.length, sha: sha256(data) }
}

/** A PNG (the Gallery takes images only) of `size` bytes whose content is not all one value. */
function bigPng(size: number, seed: number): Buffer {
  const head = pngFile()
  return Buffer.concat([head, bytes(size - head.length, seed)])
}

async function shot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true })
  // The bar's width moves with a 0.3 s transition.
  await page.waitForTimeout(400)
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true })
}

async function eventually<T>(fn: () => T | Promise<T>, what: string, timeoutMs = 30_000): Promise<NonNullable<T>> {
  const until = Date.now() + timeoutMs
  for (;;) {
    const value = await fn()
    if (value) return value as NonNullable<T>
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => { setTimeout(resolve, 100) })
  }
}

/** The chunk route's requests that carried a body other than a small direct JSON body. */
function fileBytesAtApp(): { chunkPosts: number; bodyBytes: number } {
  const route = appRequests.filter((r) => r.path.startsWith('/admin/api/resumable/'))
  return {
    chunkPosts: route.filter((r) => (r.method === 'POST' || r.method === 'PUT') && !/\/direct\/(sign|parts)$/.test(r.path)).length,
    bodyBytes: appRequests.reduce((sum, r) => sum + r.bytes, 0),
  }
}

/** A JSON column as SQLite gives it back raw (text) or PostgreSQL (parsed). */
const list = (value: unknown): string[] => (typeof value === 'string' ? JSON.parse(value) : value) as string[]

async function download(page: Page, url: string): Promise<string> {
  const answer = await page.request.get(url)
  expect(answer.status()).toBe(200)
  return sha256(await answer.body())
}

beforeAll(async () => {
  if (missing) return
  dir = mkdtempSync(join(tmpdir(), 'adminjs-resumable-direct-'))
  server = (await startS3rver())!
  proxy = await startSigningProxy({ target: server.endpoint, credentials: { S3RVER: 'S3RVER' } })
  const { S3Client, PutBucketCorsCommand } = await import('@aws-sdk/client-s3')
  const client = new S3Client(server.config)
  // The app's origin is only known once it listens: the rule names any origin, which the start-up check accepts.
  await client.send(new PutBucketCorsCommand({
    Bucket: server.bucket,
    CORSConfiguration: { CORSRules: [{ AllowedOrigins: ['*'], AllowedMethods: ['PUT'], AllowedHeaders: ['content-type', 'x-amz-checksum-sha256'], ExposeHeaders: ['ETag'] }] },
  }))
  client.destroy()
  const appEnv = {
    CHUNK_SIZE: String(5 * MiB),
    MAX_UPLOAD_SIZE: String(512 * MiB),
    S3_BUCKET: server.bucket,
    S3_ENDPOINT: proxy.endpoint,
    S3_REGION: 'us-east-1',
    S3_FORCE_PATH_STYLE: 'true',
    S3_UPLOAD: 'direct',
    AWS_ACCESS_KEY_ID: 'S3RVER',
    AWS_SECRET_ACCESS_KEY: 'S3RVER',
  }
  app = await listen(appEnv)
  appRequests = recordAppRequests(app.server)
  shortLived = await listen({ ...appEnv, PART_URL_SECONDS: '3' })
  const shared = { ...appEnv, DATABASE_FILE: join(dir, 'shared.sqlite') }
  hosts = [await listen(shared), await listen(shared)]
  browser = await launchBrowser()
}, LONG)

afterAll(async () => {
  await browser?.close()
  await app?.close()
  await shortLived?.close()
  for (const host of hosts ?? []) await host.close()
  await proxy?.close()
  await server?.destroy()
  if (dir) rmSync(dir, { recursive: true, force: true })
}, LONG)

suite('direct uploads to the bucket in Chromium (s3rver behind the signing proxy)', () => {
  test('one file: PUT part by part to the bucket, paused, page reloaded, picked again: only the parts not recorded are PUT; Save; download byte-identical; the app gets no file bytes', async () => {
    const file = sample('direct-survey.bin', bytes(6 * 5 * MiB + 4321, 41))
    const page = await browser.context.newPage()
    const reported = new ReportedParts(page)
    await throttleUploads(browser.context, page, 8 * MiB)
    await logIn(page, app.base)
    const title = 'Direct survey'
    const openForm = async () => {
      await page.goto(`${app.base}/admin/resources/Document/actions/new`)
      await page.waitForSelector('[data-testid=resumable-input]', { state: 'attached' })
      await page.fill('input[name=title]', title)
    }
    await openForm()
    const before = proxy.forwarded.length
    await page.setInputFiles('[data-testid=resumable-input]', file.path)
    await eventually(() => acceptedPuts(proxy, before).length >= 2, 'two parts in the bucket', LONG)
    await page.click('[data-testid=resumable-pause]')
    expect(await page.getAttribute(STATUS, 'data-state')).toBe('paused')
    await shot(page, 'direct-single-paused')

    // Every part whose answer reached the page before the pause is reported within a second or so.
    expect(new Set(acceptedPuts(proxy, before).map((p) => p.uploadId)).size).toBe(1)
    await eventually(() => reported.putsSeen >= 2 && reported.count() >= reported.putsSeen, 'the ETags the page received to be reported')
    const recorded = new Set([...reported.byFile.values()][0])
    expect(recorded.size).toBeGreaterThanOrEqual(2)

    const afterPause = proxy.forwarded.length
    await page.reload()
    await openForm()
    await page.setInputFiles('[data-testid=resumable-input]', file.path)
    await page.waitForFunction(([sel]) => document.querySelector(sel as string)?.getAttribute('data-state') === 'complete' || document.querySelector(sel as string)?.getAttribute('data-state') === 'failed',
      [STATUS] as const, { timeout: LONG, polling: 100 })
    await shot(page, 'direct-single-complete')
    expect(await page.getAttribute(STATUS, 'data-state')).toBe('complete')

    const putAfter = acceptedPuts(proxy, afterPause).map((p) => p.part)
    // Only what the route did not record goes again, each part once; together they are the whole file.
    expect(putAfter.filter((n) => recorded.has(n))).toEqual([])
    expect(new Set(putAfter).size).toBe(putAfter.length)
    expect(new Set([...recorded, ...putAfter])).toEqual(new Set([1, 2, 3, 4, 5, 6]))
    expect(proxy.refused).toEqual([])
    // Every part's SHA-256 is in its signature: the bucket checks the bytes it stores.
    expect(acceptedPuts(proxy, before).every((p) => p.signedHeaders.includes('x-amz-checksum-sha256'))).toBe(true)
    expect(reported.completing.at(-1)).toBe(file.sha)

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
    const photos = [sample('direct-north.png', bigPng(4 * 5 * MiB + 777, 51)), sample('direct-south.png', bigPng(3 * 5 * MiB + 99, 52))]
    const page = await browser.context.newPage()
    const reported = new ReportedParts(page)
    await throttleUploads(browser.context, page, 4 * MiB)
    await logIn(page, app.base)
    const title = 'Direct gallery'
    const openForm = async () => {
      await page.goto(`${app.base}/admin/resources/Gallery/actions/new`)
      await page.waitForSelector('[data-testid=resumable-input]', { state: 'attached' })
      await page.fill('input[name=title]', title)
    }
    await openForm()
    const before = proxy.forwarded.length
    await page.setInputFiles('[data-testid=resumable-input]', photos.map((p) => p.path))
    await eventually(() => acceptedPuts(proxy, before).length >= 2, 'two parts in the bucket', LONG)
    // Both rows at once: a row may finish between two clicks.
    await page.$$eval('[data-testid=resumable-item-pause]', (buttons) => buttons.forEach((b) => (b as HTMLButtonElement).click()))
    await shot(page, 'direct-multiple-paused')
    await eventually(() => reported.putsSeen >= 2 && reported.count() >= reported.putsSeen, 'the ETags the page received to be reported')
    const recorded = reported.count()
    expect(recorded).toBeGreaterThanOrEqual(2)

    const afterPause = proxy.forwarded.length
    await page.reload()
    await openForm()
    await page.setInputFiles('[data-testid=resumable-input]', photos.map((p) => p.path))
    await page.waitForFunction(() => {
      const rows = [...document.querySelectorAll('[data-testid=resumable-item]')]
      return rows.length === 2 && rows.every((r) => ['complete', 'failed'].includes(r.getAttribute('data-state') ?? ''))
    }, undefined, { timeout: LONG, polling: 100 })
    await shot(page, 'direct-multiple-complete')
    expect(await page.locator('[data-testid=resumable-item]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-state')))).toEqual(['complete', 'complete'])

    const putAfter = acceptedPuts(proxy, afterPause)
    // 4 + 3 parts in all: what was recorded before the reload is not sent again.
    expect(putAfter.length).toBe(7 - recorded)
    expect(new Set(putAfter.map((p) => `${p.uploadId}:${p.part}`)).size).toBe(putAfter.length)
    expect(proxy.refused).toEqual([])

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

  test('part URLs that expired during a pause are signed again: the bucket refuses none, and the parts after the resume go under URLs signed after it', async () => {
    const file = sample('direct-expiring.bin', bytes(4 * 5 * MiB + 11, 43))
    const page = await browser.context.newPage()
    await throttleUploads(browser.context, page, 4 * MiB)
    await logIn(page, shortLived.base)
    await page.goto(`${shortLived.base}/admin/resources/Document/actions/new`)
    await page.waitForSelector('[data-testid=resumable-input]', { state: 'attached' })
    await page.fill('input[name=title]', 'Direct expiring')
    const before = proxy.forwarded.length
    const refusedBefore = proxy.refused.length
    await page.setInputFiles('[data-testid=resumable-input]', file.path)
    await eventually(() => acceptedPuts(proxy, before).length >= 1, 'a part in the bucket', LONG)
    await page.click('[data-testid=resumable-pause]')
    // Longer than a URL lives: every URL signed before the pause has expired.
    await page.waitForTimeout(4_000)
    const resumedAt = Date.now()
    const afterPause = proxy.forwarded.length
    await page.click('[data-testid=resumable-resume]')
    await page.waitForFunction(([sel]) => ['complete', 'failed'].includes(document.querySelector(sel as string)?.getAttribute('data-state') ?? ''),
      [STATUS] as const, { timeout: LONG, polling: 100 })
    expect(await page.getAttribute(STATUS, 'data-state')).toBe('complete')
    const resumed = acceptedPuts(proxy, afterPause)
    expect(resumed.length).toBeGreaterThan(0)
    // X-Amz-Date has whole seconds.
    expect(resumed.every((p) => p.signedAt >= Math.floor(resumedAt / 1000) * 1000)).toBe(true)
    expect(proxy.refused.slice(refusedBefore)).toEqual([])
    await page.close()
  }, LONG)

  test('a PUT lost on the network is sent again to a URL that is still fresh, and the person sees no error', async () => {
    const file = sample('direct-flaky.bin', bytes(3 * 5 * MiB + 5, 47))
    const page = await browser.context.newPage()
    const states = new Set<string>()
    await page.exposeFunction('recordState', (s: string) => { states.add(s) })
    let dropped = 0
    await page.route((url) => url.href.startsWith(proxy.endpoint) && url.searchParams.get('partNumber') === '2', async (route) => {
      if (route.request().method() === 'PUT' && dropped < 2) {
        dropped += 1
        await route.abort('connectionreset')
      } else await route.continue()
    })
    await logIn(page, app.base)
    await page.goto(`${app.base}/admin/resources/Document/actions/new`)
    await page.waitForSelector('[data-testid=resumable-input]', { state: 'attached' })
    await page.fill('input[name=title]', 'Direct flaky')
    await page.evaluate((sel) => {
      new MutationObserver(() => (window as unknown as { recordState(s: string): void }).recordState(document.querySelector(sel)?.getAttribute('data-state') ?? ''))
        .observe(document.body, { subtree: true, attributes: true, attributeFilter: ['data-state'] })
    }, STATUS)
    const before = proxy.forwarded.length
    await page.setInputFiles('[data-testid=resumable-input]', file.path)
    await page.waitForFunction(([sel]) => ['complete', 'failed'].includes(document.querySelector(sel as string)?.getAttribute('data-state') ?? ''),
      [STATUS] as const, { timeout: LONG, polling: 100 })
    expect(await page.getAttribute(STATUS, 'data-state')).toBe('complete')
    expect(dropped).toBe(2)
    expect(states.has('failed')).toBe(false)
    expect(acceptedPuts(proxy, before).map((p) => p.part).sort()).toEqual([1, 2, 3])
    await page.close()
  }, LONG)

  test('Cancel stops the PUTs to the bucket and sends the DELETE that removes the upload on the server', async () => {
    const file = sample('direct-cancelled.bin', bytes(6 * 5 * MiB + 9, 49))
    const page = await browser.context.newPage()
    await throttleUploads(browser.context, page, 4 * MiB)
    await logIn(page, app.base)
    await page.goto(`${app.base}/admin/resources/Document/actions/new`)
    await page.waitForSelector('[data-testid=resumable-input]', { state: 'attached' })
    const before = proxy.forwarded.length
    const seenAtApp = appRequests.length
    await page.setInputFiles('[data-testid=resumable-input]', file.path)
    await eventually(() => acceptedPuts(proxy, before).length >= 1, 'a part in the bucket', LONG)
    await page.click('[data-testid=resumable-cancel]')
    expect(await page.getAttribute(STATUS, 'data-state')).toBe('idle')
    await eventually(() => appRequests.slice(seenAtApp).some((r) => r.method === 'DELETE'), 'the DELETE at the app')
    // PUTs already on the wire may still land; nothing starts after them.
    await page.waitForTimeout(1_500)
    const settled = proxy.forwarded.length
    await page.waitForTimeout(3_000)
    expect(acceptedPuts(proxy, settled)).toEqual([])
    expect(appRequests.slice(seenAtApp).filter((r) => r.path.endsWith('/direct/sign')).length).toBeGreaterThan(0)
    await page.close()
  }, LONG)

  test('two app hosts on one database and bucket share the upload: started on one, paused, picked again on the other, only the parts not recorded are PUT; Save there, download from the first', async () => {
    const [first, second] = hosts as [Listening, Listening]
    const file = sample('direct-shared.bin', bytes(5 * 5 * MiB + 3, 53))
    const page = await browser.context.newPage()
    const reported = new ReportedParts(page)
    await throttleUploads(browser.context, page, 6 * MiB)
    await logIn(page, first.base)
    const title = 'Direct on two hosts'
    const openForm = async (host: Listening) => {
      await page.goto(`${host.base}/admin/resources/Document/actions/new`)
      // Both hosts are on 127.0.0.1 and share the session store: the cookie is good on either.
      await page.waitForSelector('[data-testid=resumable-input]', { state: 'attached' })
      await page.fill('input[name=title]', title)
    }
    await openForm(first)
    const before = proxy.forwarded.length
    await page.setInputFiles('[data-testid=resumable-input]', file.path)
    await eventually(() => acceptedPuts(proxy, before).length >= 2, 'two parts in the bucket', LONG)
    await page.click('[data-testid=resumable-pause]')
    await eventually(() => reported.putsSeen >= 2 && reported.count() >= reported.putsSeen, 'the ETags the page received to be reported')
    const recorded = new Set([...reported.byFile.values()][0])

    const afterPause = proxy.forwarded.length
    await openForm(second)
    await page.setInputFiles('[data-testid=resumable-input]', file.path)
    await page.waitForFunction(([sel]) => ['complete', 'failed'].includes(document.querySelector(sel as string)?.getAttribute('data-state') ?? ''),
      [STATUS] as const, { timeout: LONG, polling: 100 })
    expect(await page.getAttribute(STATUS, 'data-state')).toBe('complete')
    const putAfter = acceptedPuts(proxy, afterPause).map((p) => p.part)
    expect(putAfter.filter((n) => recorded.has(n))).toEqual([])
    expect(new Set([...recorded, ...putAfter])).toEqual(new Set([1, 2, 3, 4, 5]))

    await Promise.all([page.waitForURL((url) => !url.pathname.endsWith('/new'), { timeout: 30_000 }), page.click('form button[type=submit]')])
    const saved = await eventually(async () => second.app.Document.findOne({ where: { title }, raw: true }) as Promise<Record<string, unknown> | null>, 'the saved Document row')
    expect(saved.fileChecksum).toBe(file.sha)
    expect(await download(page, `${first.base}/admin/api/resumable/Document/file/download/${saved.id}`)).toBe(file.sha)
    await page.close()
  }, LONG)
})
