/**
 * Pages of other origins in the real browser (headless Chromium) against the example app: forms that
 * submit themselves and credentialed fetches to a record's `edit` (with `file=__clear__`) and
 * `delete` actions are refused with 403, and the record and its file stay as they were.
 *
 * Two attacker origins: another port on 127.0.0.1 (another origin, but the same site: the
 * `SameSite=Lax` cookie IS sent, so only the header check stands in the way) and `localhost` (another
 * site: Lax keeps the cookie out, and the header check refuses it too).
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Page, Response as PwResponse } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import request from 'supertest'
import { guardHttpServer } from '../src/guard/http-server.js'
import { login, startTestApp, type Agent, type TestApp } from './support/app.js'
import { browserMissing, launchBrowser, type Browser } from './support/browser.js'
import { bytes, sha256, uploadAll, type FileSpec } from './support/resumable-client.js'

const LONG = 120_000
const missing = browserMissing()
const describeBrowser = missing ? describe.skip : describe
if (missing) test.todo(`BROWSER CROSS-SITE TESTS DID NOT RUN: ${missing}`)

async function listenOn(server: Server): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  return (server.address() as AddressInfo).port
}

/** The attacker's site: pages that make the browser send a state-changing request to `target`. */
function attackerPage(kind: 'form' | 'fetch', target: string, fields: Record<string, string>): string {
  const inputs = Object.entries(fields).map(([k, v]) => `<input type="hidden" name="${k}" value="${v}">`).join('')
  if (kind === 'form') {
    return `<!doctype html><form method="POST" enctype="multipart/form-data" action="${target}">${inputs}</form>`
      + '<script>document.forms[0].submit()</script>'
  }
  return `<!doctype html><form>${inputs}</form><script>
    fetch(${JSON.stringify(target)}, { method: 'POST', mode: 'no-cors', credentials: 'include', body: new FormData(document.forms[0]) })
      .then(() => { document.title = 'sent' }, () => { document.title = 'failed' })
  </script>`
}

describeBrowser('requests from pages of other origins, in Chromium', () => {
  let t: TestApp
  let victim: Server
  let victimBase = ''
  let attacker: Server
  let attackerPort = 0
  let browser: Browser
  let agent: Agent

  beforeAll(async () => {
    t = await startTestApp()
    victim = guardHttpServer(t.app.listen(0, '127.0.0.1'))
    await new Promise<void>((resolve) => victim.once('listening', () => resolve()))
    victimBase = `http://127.0.0.1:${(victim.address() as AddressInfo).port}`
    attacker = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://attacker')
      const kind = url.searchParams.get('kind') === 'fetch' ? 'fetch' : 'form'
      const target = `${victimBase}${url.searchParams.get('target')}`
      const fields = JSON.parse(url.searchParams.get('fields') ?? '{}') as Record<string, string>
      res.setHeader('Content-Type', 'text/html; charset=utf-8')
      res.end(attackerPage(kind, target, fields))
    })
    attackerPort = await listenOn(attacker)
    agent = await login(t.app, 'admin@example.com')
    browser = await launchBrowser()
    // The admin is logged in in this browser, on the admin's own origin.
    const page = await browser.context.newPage()
    await page.goto(`${victimBase}/admin/login`)
    await page.fill('input[name=email]', 'admin@example.com')
    await page.fill('input[name=password]', 'password')
    await Promise.all([
      page.waitForURL((url) => !url.pathname.endsWith('/login')),
      page.click('form[action$="/login"] button'),
    ])
    await page.close()
  }, LONG)

  afterAll(async () => {
    await browser?.close()
    attacker?.close()
    victim?.closeAllConnections()
    await new Promise<void>((resolve) => (victim ? victim.close(() => resolve()) : resolve()))
    await t?.close()
  }, LONG)

  let seq = 0
  async function recordWithFile(): Promise<{ id: number; path: string; sha: string; row: Record<string, unknown> }> {
    seq += 1
    const data = bytes(3000 + seq, 40 + seq)
    const file: FileSpec = { identifier: `cross-site-${seq}`, filename: `kept-${seq}.pdf`, type: 'application/pdf', data, chunkSize: 64 * 1024 }
    const reference = await uploadAll(agent, file)
    const res = await agent.post('/admin/api/resources/Document/actions/new').field('title', `target ${seq}`).field('file', reference)
    expect(res.body.record.errors).toEqual({})
    const id = Number(res.body.record.params.id)
    const row = (await t.Document.findByPk(id, { raw: true })) as unknown as Record<string, unknown>
    return { id, path: join(t.uploadDir, String(row.filePath)), sha: sha256(data), row }
  }

  /** Opens the attacker's page and returns the browser's request to the admin and its answer. */
  async function attack(page: Page, origin: string, kind: 'form' | 'fetch', target: string, fields: Record<string, string>): Promise<PwResponse> {
    const answered = page.waitForResponse((r) => r.url() === `${victimBase}${target}` && r.request().method() === 'POST', { timeout: 30_000 })
    const query = new URLSearchParams({ kind, target, fields: JSON.stringify(fields) })
    await page.goto(`${origin}/?${query}`)
    return answered
  }

  const origins = () => [
    { name: 'another port on 127.0.0.1 (same site: the Lax cookie is sent)', origin: `http://127.0.0.1:${attackerPort}`, cookieSent: true },
    { name: 'localhost (another site: Lax keeps the cookie out)', origin: `http://localhost:${attackerPort}`, cookieSent: false },
  ]

  test('the session cookie is SameSite=Lax by default (the example app does not set it)', async () => {
    const res = await request(t.app).post('/admin/login').type('form').send({ email: 'admin@example.com', password: 'password' })
    const cookie = ([] as string[]).concat(res.headers['set-cookie'] ?? []).find((c) => c.startsWith('adminjs='))
    expect(cookie).toMatch(/;\s*SameSite=Lax/i)
  })

  for (const kind of ['form', 'fetch'] as const) {
    test(`${kind}: edit with file=__clear__ and delete are refused with 403; the record and its file are intact`, async () => {
      for (const { name, origin, cookieSent } of origins()) {
        const target = await recordWithFile()
        const page = await browser.context.newPage()
        try {
          const cleared = await attack(page, origin, kind, `/admin/api/resources/Document/records/${target.id}/edit`, { title: 'pwned', file: '__clear__' })
          expect({ name, status: cleared.status() }).toEqual({ name, status: 403 })
          if (kind === 'form') {
            // A top-level form POST from the same site carries the session cookie: the header check
            // alone refused it. (For fetch, Playwright does not report the cookie header reliably.)
            const sent = /adminjs=/.test((await cleared.request().allHeaders()).cookie ?? '')
            expect({ name, cookieSent: sent }).toEqual({ name, cookieSent })
            expect(JSON.parse(await cleared.text())).toMatchObject({ status: 'error', code: 'cross_site' })
          }

          const deleted = await attack(page, origin, kind, `/admin/api/resources/Document/records/${target.id}/delete`, {})
          expect({ name, status: deleted.status() }).toEqual({ name, status: 403 })
        } finally {
          await page.close()
        }
        expect(await t.Document.findByPk(target.id, { raw: true })).toEqual(target.row)
        expect(sha256(await readFile(target.path))).toBe(target.sha)
      }
    }, LONG)
  }

  test("the admin's own page still saves, clears and deletes (same-origin requests pass)", async () => {
    const target = await recordWithFile()
    const page = await browser.context.newPage()
    try {
      await page.goto(`${victimBase}/admin`)
      const status = await page.evaluate(async (id) => {
        const body = new FormData()
        body.set('title', 'renamed by the admin')
        body.set('file', '__clear__')
        const res = await fetch(`/admin/api/resources/Document/records/${id}/edit`, { method: 'POST', body })
        return res.status
      }, target.id)
      expect(status).toBe(200)
    } finally {
      await page.close()
    }
    expect(await t.Document.findByPk(target.id, { raw: true })).toMatchObject({ title: 'renamed by the admin', filePath: null })
    await expect(readFile(target.path)).rejects.toThrow(/ENOENT/)
  }, LONG)
})
