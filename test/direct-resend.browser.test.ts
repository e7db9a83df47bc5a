/**
 * A part the bucket refuses at completion, in headless Chromium with the real Resumable.js: the page
 * reports a wrong ETag for one part (the bucket's answer to its PUT is rewritten on the way to the
 * page), CompleteMultipartUpload refuses it (InvalidPart), the parts report answers `resend`, and
 * the edit component PUTs those parts again and completes the upload instead of failing it.
 *
 * s3rver 3.7.1 does not compare the ETags of CompleteMultipartUpload (it concatenates the parts it
 * holds, whatever ETags the request names), so this runs on fauxqs, which does and answers
 * InvalidPart (test/support/fauxqs.ts, Node 22 binary; direct-stack.ts puts the CORS a bucket rule
 * would give in front of it). fauxqs has no ListParts, so the route names every part for sending again.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import type { PartsAnswer, PartsReport, SignRequest } from '../src/shared/direct-protocol.js'
import { browserMissing, launchBrowser, type Browser } from './support/browser.js'
import { listen, logIn, type Listening } from './support/browser-app.js'
import { LONG, MiB, download, eventually, openNewForm, settled, startFauxqsStack, type DirectStack } from './support/direct-stack.js'
import { acceptedPuts } from './support/direct-traffic.js'
import { fauxqsMissing } from './support/fauxqs.js'
import { bytes } from './support/resumable-client.js'

const missing = browserMissing() ?? fauxqsMissing()
const suite = missing ? describe.skip : describe
if (missing) test.todo(`DIRECT RESEND BROWSER TEST DID NOT RUN: ${missing}`)

const WRONG_ETAG = '"0123456789abcdef0123456789abcdef"'

let stack: DirectStack
let app: Listening
let browser: Browser

beforeAll(async () => {
  if (missing) return
  stack = (await startFauxqsStack())!
  app = await listen(stack.env)
  browser = await launchBrowser()
}, LONG)

afterAll(async () => {
  await browser?.close()
  await app?.close()
  await stack?.close()
}, LONG)

suite('a part refused at completion, in Chromium (fauxqs checks the ETags)', () => {
  test('a wrong ETag reported for part 2: the report answers resend, the part is PUT again and the upload completes; Save; download byte-identical', async () => {
    const file = stack.sample('direct-resend.bin', bytes(3 * 5 * MiB + 2345, 81))
    const page = await browser.context.newPage()
    // The bucket's real answer to part 2's first PUT, with another ETag: the page reports that one.
    let rewritten = 0
    await page.route((url) => url.href.startsWith(stack.proxy.endpoint) && url.searchParams.get('partNumber') === '2', async (route) => {
      if (route.request().method() !== 'PUT' || rewritten > 0) {
        await route.continue()
        return
      }
      rewritten += 1
      const response = await route.fetch()
      expect(response.status()).toBe(200)
      await route.fulfill({ response, headers: { ...response.headers(), etag: WRONG_ETAG } })
    })
    const reports: Array<{ sent: PartsReport; answer: PartsAnswer }> = []
    /** How often the page asked the route to sign part 2. */
    let signed2 = 0
    page.on('request', (req) => {
      if (req.method() !== 'POST' || !new URL(req.url()).pathname.endsWith('/direct/sign')) return
      if ((req.postDataJSON() as SignRequest).parts.some((p) => p.partNumber === 2)) signed2 += 1
    })
    page.on('requestfinished', (req) => {
      if (req.method() !== 'POST' || !new URL(req.url()).pathname.endsWith('/direct/parts')) return
      void req.response().then(async (res) => {
        if (res?.status() === 200) reports.push({ sent: req.postDataJSON() as PartsReport, answer: await res.json() as PartsAnswer })
      })
    })
    await logIn(page, app.base)
    const title = 'Direct resend'
    await openNewForm(page, app, 'Document', title)
    const before = stack.proxy.forwarded.length
    await page.setInputFiles('[data-testid=resumable-input]', file.path)
    expect(await settled(page)).toBe('complete')
    expect(rewritten).toBe(1)

    await eventually(() => reports.some((r) => r.answer.status === 'complete'), 'the completing report')
    // The wrong ETag was reported, and the bucket's refusal came back as parts to send again.
    const wrongAt = reports.findIndex((r) => r.sent.parts.some((p) => p.partNumber === 2 && p.etag === WRONG_ETAG))
    expect(wrongAt).toBeGreaterThanOrEqual(0)
    const resend = reports.find((r) => r.answer.status === 'resend')?.answer
    expect(resend).toEqual({ status: 'resend', parts: expect.arrayContaining([2]) })
    // Part 2 is PUT again under a URL signed again (the route records an ETag only under a digest it
    // signed, and forgot the refused part's), and reported with the ETag the bucket gave it this time.
    const part2 = acceptedPuts(stack.proxy, before).filter((p) => p.part === 2)
    expect(part2.length).toBe(2)
    expect(signed2).toBe(2)
    const again = reports.slice(wrongAt + 1).flatMap((r) => r.sent.parts).filter((p) => p.partNumber === 2)
    expect(again.length).toBe(1)
    expect(again[0]!.etag).not.toBe(WRONG_ETAG)
    // Every part named was PUT again, once.
    const resent = acceptedPuts(stack.proxy, before).map((p) => p.part)
    for (const n of (resend as { parts: number[] }).parts) expect(resent.filter((p) => p === n).length).toBe(2)
    expect(reports.filter((r) => r.answer.status === 'complete').length).toBe(1)
    expect(reports.at(-1)!.sent.fileSha256).toBe(file.sha)

    await Promise.all([page.waitForURL((url) => !url.pathname.endsWith('/new'), { timeout: 30_000 }), page.click('form button[type=submit]')])
    const saved = await eventually(async () => app.app.Document.findOne({ where: { title }, raw: true }) as Promise<Record<string, unknown> | null>, 'the saved Document row')
    expect(Number(saved.fileSize)).toBe(file.size)
    expect(saved.fileChecksum).toBe(file.sha)
    expect(await download(page, `${app.base}/admin/api/resumable/Document/file/download/${saved.id}`)).toBe(file.sha)
    await page.close()
  }, LONG)
})
