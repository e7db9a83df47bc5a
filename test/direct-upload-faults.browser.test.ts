/**
 * Direct uploads in Chromium when something goes wrong on the way: part URLs that expire while the
 * upload is paused, a PUT lost on the network, and Cancel (s3rver behind the SigV4-verifying stack.proxy).
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import { browserMissing, launchBrowser, type Browser } from './support/browser.js'
import { listen, logIn, throttleUploads, type Listening } from './support/browser-app.js'
import { LONG, MiB, STATUS, eventually, openNewForm, settled, startDirectStack, type DirectStack } from './support/direct-stack.js'
import { acceptedPuts, recordAppRequests, type AppRequest } from './support/direct-traffic.js'
import { bytes } from './support/resumable-client.js'
import { s3rverInstalled } from './support/s3rver.js'

const missing = browserMissing() ?? (s3rverInstalled() ? null : 's3rver is not installed')
const suite = missing ? describe.skip : describe
if (missing) test.todo(`DIRECT UPLOAD BROWSER TESTS DID NOT RUN: ${missing}`)

let stack: DirectStack
let app: Listening
let appRequests: AppRequest[]
let browser: Browser
/** The same bucket, with part URLs valid for 3 seconds only. */
let shortLived: Listening

beforeAll(async () => {
  if (missing) return
  stack = await startDirectStack()
  app = await listen(stack.env)
  appRequests = recordAppRequests(app.server)
  shortLived = await listen({ ...stack.env, PART_URL_SECONDS: '3' })
  browser = await launchBrowser()
}, LONG)

afterAll(async () => {
  await browser?.close()
  await app?.close()
  await shortLived?.close()
  await stack?.close()
}, LONG)

suite('direct uploads in Chromium: expiry, network loss, Cancel', () => {
  test('part URLs that expired during a pause are signed again: the bucket refuses none, and the parts after the resume go under URLs signed after it', async () => {
    const file = stack.sample('direct-expiring.bin', bytes(4 * 5 * MiB + 11, 43))
    const page = await browser.context.newPage()
    await throttleUploads(browser.context, page, 4 * MiB)
    await logIn(page, shortLived.base)
    await openNewForm(page, shortLived, 'Document', 'Direct expiring')
    const before = stack.proxy.forwarded.length
    const refusedBefore = stack.proxy.refused.length
    await page.setInputFiles('[data-testid=resumable-input]', file.path)
    await eventually(() => acceptedPuts(stack.proxy, before).length >= 1, 'a part in the bucket', LONG)
    await page.click('[data-testid=resumable-pause]')
    // Longer than a URL lives: every URL signed before the pause has expired.
    await page.waitForTimeout(4_000)
    const resumedAt = Date.now()
    const afterPause = stack.proxy.forwarded.length
    await page.click('[data-testid=resumable-resume]')
    expect(await settled(page)).toBe('complete')
    const resumed = acceptedPuts(stack.proxy, afterPause)
    expect(resumed.length).toBeGreaterThan(0)
    // X-Amz-Date has whole seconds.
    expect(resumed.every((p) => p.signedAt >= Math.floor(resumedAt / 1000) * 1000)).toBe(true)
    expect(stack.proxy.refused.slice(refusedBefore)).toEqual([])
    await page.close()
  }, LONG)

  test('a PUT lost on the network is sent again to a URL that is still fresh, and the person sees no error', async () => {
    const file = stack.sample('direct-flaky.bin', bytes(3 * 5 * MiB + 5, 47))
    const page = await browser.context.newPage()
    const states = new Set<string>()
    await page.exposeFunction('recordState', (s: string) => { states.add(s) })
    let dropped = 0
    await page.route((url) => url.href.startsWith(stack.proxy.endpoint) && url.searchParams.get('partNumber') === '2', async (route) => {
      if (route.request().method() === 'PUT' && dropped < 2) {
        dropped += 1
        await route.abort('connectionreset')
      } else await route.continue()
    })
    await logIn(page, app.base)
    await openNewForm(page, app, 'Document', 'Direct flaky')
    await page.evaluate((sel) => {
      new MutationObserver(() => (window as unknown as { recordState(s: string): void }).recordState(document.querySelector(sel)?.getAttribute('data-state') ?? ''))
        .observe(document.body, { subtree: true, attributes: true, attributeFilter: ['data-state'] })
    }, STATUS)
    const before = stack.proxy.forwarded.length
    await page.setInputFiles('[data-testid=resumable-input]', file.path)
    expect(await settled(page)).toBe('complete')
    expect(dropped).toBe(2)
    expect(states.has('failed')).toBe(false)
    expect(acceptedPuts(stack.proxy, before).map((p) => p.part).sort()).toEqual([1, 2, 3])
    await page.close()
  }, LONG)

  test('Cancel stops the PUTs to the bucket and sends the DELETE that removes the upload on the server', async () => {
    const file = stack.sample('direct-cancelled.bin', bytes(6 * 5 * MiB + 9, 49))
    const page = await browser.context.newPage()
    await throttleUploads(browser.context, page, 4 * MiB)
    await logIn(page, app.base)
    await openNewForm(page, app, 'Document')
    const before = stack.proxy.forwarded.length
    const seenAtApp = appRequests.length
    await page.setInputFiles('[data-testid=resumable-input]', file.path)
    await eventually(() => acceptedPuts(stack.proxy, before).length >= 1, 'a part in the bucket', LONG)
    await page.click('[data-testid=resumable-cancel]')
    expect(await page.getAttribute(STATUS, 'data-state')).toBe('idle')
    await eventually(() => appRequests.slice(seenAtApp).some((r) => r.method === 'DELETE'), 'the DELETE at the app')
    // PUTs already on the wire may still land; nothing starts after them.
    await page.waitForTimeout(1_500)
    const landed = stack.proxy.forwarded.length
    await page.waitForTimeout(3_000)
    expect(acceptedPuts(stack.proxy, landed)).toEqual([])
    expect(appRequests.slice(seenAtApp).filter((r) => r.path.endsWith('/direct/sign')).length).toBeGreaterThan(0)
    await page.close()
  }, LONG)
})
