/**
 * The example app as `npm start` runs it (`node example-app/server.js`, compiled lib/): what a new
 * user sees when it cannot start, the components bundle it builds before it listens, and its locale.
 */
import { afterEach, beforeEach, expect, jest, test } from '@jest/globals'
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs'
import { createServer, type Server } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
// @ts-expect-error plain JavaScript module without types
import { exampleLocale } from '../example-app/app.js'

jest.setTimeout(120_000)

let work: string
let blocker: Server

beforeEach(async () => {
  work = mkdtempSync(join(tmpdir(), 'adminjs-resumable-example-'))
  blocker = createServer()
  await new Promise<void>((done) => blocker.listen(0, '127.0.0.1', done))
})
afterEach(async () => {
  await new Promise((done) => blocker.close(done))
  rmSync(work, { recursive: true, force: true })
})

/** `node example-app/server.js` on this test's database and upload folder; `output` collects stdout and stderr. */
function startApp(env: Record<string, string>) {
  const child = spawn(process.execPath, ['example-app/server.js'], {
    env: { ...process.env, HOST: '127.0.0.1', DATABASE_FILE: join(work, 'db.sqlite'), UPLOAD_DIR: join(work, 'uploads'), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const app = { child, stdout: '', stderr: '', output: '' }
  child.stdout.on('data', (d) => { app.stdout += d; app.output += d })
  child.stderr.on('data', (d) => { app.stderr += d; app.output += d })
  return app
}

test('a port already in use ends the app with a clear message and exit code 1, not a TypeError', async () => {
  const port = (blocker.address() as { port: number }).port
  const app = startApp({ PORT: String(port) })
  const code = await new Promise<number | null>((done) => app.child.on('exit', done))
  expect(code).toBe(1)
  expect(app.stderr).toContain(`cannot listen on 127.0.0.1:${port} (EADDRINUSE)`)
  expect(app.stderr).toContain('set PORT')
  expect(app.stderr).not.toContain('TypeError')
  expect(app.stdout).not.toContain('LISTENING')
})

test('a missing components bundle is built before the app listens, and a fresh one is kept', async () => {
  // AdminJS's bundle folder, private to this test: the app finds no bundle there and must build it
  // (in a child process, example-app/bundle-components.js) before it serves a page.
  const bundleDir = join(work, 'adminjs')
  const start = () => {
    const app = startApp({ PORT: '0', ADMIN_JS_TMP_DIR: bundleDir })
    const listening = new Promise<void>((done, fail) => {
      app.child.stdout.on('data', () => { if (/LISTENING \d+/.test(app.stdout)) done() })
      app.child.on('exit', (code) => fail(new Error(`the app exited (${code}) before listening:\n${app.output}`)))
    })
    return { child: app.child, listening }
  }
  const stop = async (child: ReturnType<typeof spawn>) => {
    const exited = new Promise((done) => child.on('exit', done))
    child.kill('SIGTERM')
    await exited
  }

  const first = start()
  await first.listening
  await stop(first.child)
  const bundle = join(bundleDir, 'bundle.js')
  expect(existsSync(bundle)).toBe(true)
  const built = readFileSync(bundle, 'utf8')
  for (const component of ['ResumableUploadEdit', 'ResumableUploadList', 'ResumableUploadShow']) expect(built).toContain(component)

  // Newer than the compiled components: the next start serves it as it is.
  const { mtimeMs } = statSync(bundle)
  const second = start()
  await second.listening
  await stop(second.child)
  expect(statSync(bundle).mtimeMs).toBe(mtimeMs)
})

test('the example app opens in ADMIN_LANGUAGE, offers both languages, and carries the feature\'s German', () => {
  const german = exampleLocale({ ADMIN_LANGUAGE: 'de' })
  expect(german.language).toBe('de')
  expect(german.availableLanguages).toEqual(['en', 'de'])
  const table = flatten(german.translations)
  expect(table['de.messages.resumable.uploading']).toBe('Wird hochgeladen …')
  expect(table['de.resources.Document.properties.file']).toBe('Datei')
  expect(exampleLocale({}).language).toBe('en')
})

function flatten(value: unknown, prefix = '', out: Record<string, string> = {}): Record<string, string> {
  if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) flatten(v, prefix ? `${prefix}.${k}` : k, out)
  } else out[prefix] = String(value)
  return out
}
