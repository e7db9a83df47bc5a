/**
 * Production mode as a team deploys it: `npm run bundle` (example-app/bundle.js, @adminjs/bundler)
 * builds AdminJS's browser bundles with this plugin's components in them, and the example app runs
 * with NODE_ENV=production ADMIN_JS_SKIP_BUNDLE=true: it bundles nothing at start-up, serves the
 * prebuilt folder, and the edit page renders the upload component from it in headless Chromium.
 */
import { afterAll, beforeAll, describe, expect, jest, test } from '@jest/globals'
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { browserMissing, launchBrowser } from './support/browser.js'

jest.setTimeout(180_000)

const COMPONENTS = ['ResumableUploadEdit', 'ResumableUploadList', 'ResumableUploadShow']

let work: string
let assets: string
let bundleOutput = ''

interface Run { code: number | null; output: string }

function run(script: string, env: Record<string, string>): { child: ReturnType<typeof spawn>; result: Promise<Run>; output: () => string } {
  const child = spawn(process.execPath, [script], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  child.stdout!.on('data', (d) => { output += d })
  child.stderr!.on('data', (d) => { output += d })
  const result = new Promise<Run>((done) => child.on('exit', (code) => done({ code, output })))
  return { child, result, output: () => output }
}

/** Every variable the example app reads for its files, inside this test's folder. */
function appEnv(extra: Record<string, string> = {}): Record<string, string> {
  return {
    HOST: '127.0.0.1',
    DATABASE_FILE: join(work, 'db.sqlite'),
    UPLOAD_DIR: join(work, 'uploads'),
    ADMIN_ASSETS_DIR: assets,
    // AdminJS's own bundle folder: the bundler works there; the production app must not write to it.
    ADMIN_JS_TMP_DIR: join(work, 'adminjs'),
    ...extra,
  }
}

async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done))
  const { port } = server.address() as { port: number }
  await new Promise((done) => server.close(done))
  return port
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'adminjs-resumable-production-'))
  assets = join(work, 'assets')
  const { code, output } = await run('example-app/bundle.js', appEnv()).result
  bundleOutput = output
  if (code !== 0) throw new Error(`npm run bundle (example-app/bundle.js) failed with ${code}:\n${output}`)
})
afterAll(() => {
  rmSync(work, { recursive: true, force: true })
})

test('npm run bundle writes the four bundles; the components bundle registers the plugin\'s components', () => {
  for (const name of ['components.bundle.js', 'app.bundle.js', 'global.bundle.js', 'design-system.bundle.js']) {
    expect(existsSync(join(assets, name))).toBe(true)
  }
  const components = readFileSync(join(assets, 'components.bundle.js'), 'utf8')
  for (const name of COMPONENTS) expect(components).toContain(`UserComponents.${name}`)
  // The Resumable.js client is bundled with them (its UMD module as is).
  expect(components).toContain('Resumable')
  expect(bundleOutput).toContain(assets)
})

describe('the example app with NODE_ENV=production ADMIN_JS_SKIP_BUNDLE=true', () => {
  let port: number
  let base: string
  let app: ReturnType<typeof run>

  beforeAll(async () => {
    port = await freePort()
    base = `http://127.0.0.1:${port}`
    app = run('example-app/server.js', appEnv({ NODE_ENV: 'production', ADMIN_JS_SKIP_BUNDLE: 'true', PORT: String(port) }))
    await new Promise<void>((done, fail) => {
      app.child.stdout!.on('data', () => { if (app.output().includes(`LISTENING ${port}`)) done() })
      app.result.then(({ code, output }) => fail(new Error(`the app exited (${code}) before listening:\n${output}`)))
    })
  })
  afterAll(async () => {
    if (app.child.exitCode === null) {
      app.child.kill('SIGTERM')
      await app.result
    }
  })

  async function logIn(): Promise<string> {
    const res = await fetch(`${base}/admin/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'email=admin%40example.com&password=password',
      redirect: 'manual',
    })
    expect(res.status).toBe(302)
    return res.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ')
  }

  test('it bundles nothing at start-up; its pages load the prebuilt bundles, which hold the plugin\'s components', async () => {
    expect(app.output()).not.toContain('bundling user components')
    expect(existsSync(join(work, 'adminjs', 'bundle.js'))).toBe(false)
    const cookie = await logIn()
    const page = await fetch(`${base}/admin/resources/Document/actions/new`, { headers: { cookie } })
    expect(page.status).toBe(200)
    const html = await page.text()
    const src = html.match(/<script src="([^"]*components\.bundle\.js[^"]*)"/)?.[1]
    expect(src).toMatch(new RegExp(`^${base}/admin-assets/components\\.bundle\\.js`))
    const served = await fetch(src!)
    expect(served.status).toBe(200)
    const body = await served.text()
    expect(body).toBe(readFileSync(join(assets, 'components.bundle.js'), 'utf8'))
    for (const name of COMPONENTS) expect(body).toContain(`UserComponents.${name}`)
  })

  const missing = browserMissing()
  if (missing) {
    // browserMissing() already warned (and under CI=true threw); loud in the summary too.
    test.todo(`THE PRODUCTION EDIT PAGE WAS NOT CHECKED IN A BROWSER: ${missing}`)
    return
  }

  test('in headless Chromium the edit page renders the upload component from the prebuilt bundle', async () => {
    const browser = await launchBrowser()
    try {
      const page = await browser.context.newPage()
      const scripts: string[] = []
      page.on('request', (request) => { if (request.url().endsWith('.js') || request.url().includes('.js?')) scripts.push(request.url()) })
      await page.goto(`${base}/admin/login`)
      await page.fill('input[name=email]', 'admin@example.com')
      await page.fill('input[name=password]', 'password')
      await Promise.all([
        page.waitForURL((url) => !url.pathname.endsWith('/login')),
        page.click('form[action$="/login"] button'),
      ])
      await page.goto(`${base}/admin/resources/Document/actions/new`)
      await page.waitForSelector('[data-testid=resumable-input]', { state: 'attached' })
      expect(scripts.some((url) => url.startsWith(`${base}/admin-assets/components.bundle.js`))).toBe(true)
      expect(scripts.some((url) => url.includes('/frontend/assets/components.bundle.js'))).toBe(false)
    } finally {
      await browser.close()
    }
  })
})

test('a production app without the prebuilt bundles does not start, and says to run npm run bundle', async () => {
  const empty = join(work, 'no-assets')
  const { code, output } = await run('example-app/server.js', appEnv({
    NODE_ENV: 'production', ADMIN_JS_SKIP_BUNDLE: 'true', PORT: '0', ADMIN_ASSETS_DIR: empty,
  })).result
  expect(code).not.toBe(0)
  expect(output).toContain('npm run bundle')
  expect(output).toContain(empty)
  expect(output).not.toContain('LISTENING')
})
