/**
 * A jsdom test environment whose page lives on a real example app: the app runs in a child process
 * (`node example-app/server.js`, production mode without the frontend bundle) and the window's URL is
 * moved to its origin, so that jsdom's XMLHttpRequest and cookie jar talk to it as a browser tab
 * would. The test reads `globalThis.__APP__` ({ url, uploadDir }).
 */
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import JSDOMEnvironment from 'jest-environment-jsdom'
import { productionBundles } from './production-bundles.mjs'

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..')

export default class JsdomAppEnvironment extends JSDOMEnvironment {
  async setup() {
    await super.setup()
    this.workDir = mkdtempSync(join(tmpdir(), 'adminjs-resumable-jsdom-'))
    const env = {
      PORT: '0',
      NODE_ENV: 'production',
      ADMIN_JS_SKIP_BUNDLE: 'true',
      ADMIN_ASSETS_DIR: await productionBundles(),
      SWEEP_INTERVAL_MS: '0',
      CHUNK_SIZE: String(64 * 1024),
      MAX_UPLOAD_SIZE: String(1024 * 1024),
      UPLOAD_DIR: join(this.workDir, 'uploads'),
      DATABASE_FILE: join(this.workDir, 'db.sqlite'),
    }
    this.child = spawn(process.execPath, [join(REPO, 'example-app', 'server.js')], {
      cwd: REPO, env: { ...process.env, NODE_OPTIONS: '', ...env }, stdio: ['ignore', 'pipe', 'pipe'],
    })
    const port = await new Promise((done, fail) => {
      let output = ''
      const read = (text) => {
        output += text
        const found = /LISTENING (\d+)/.exec(output)
        if (found) done(Number(found[1]))
      }
      this.child.stdout.on('data', read)
      this.child.stderr.on('data', read)
      this.child.once('exit', (code) => fail(new Error(`the example app exited (${code}) before listening:\n${output}`)))
    })
    const url = `http://127.0.0.1:${port}`
    this.dom.reconfigure({ url: `${url}/admin` })
    // jsdom copies the document's origin to the window once, at creation; XMLHttpRequest reads that copy.
    this.global._origin = url
    this.global.__APP__ = { url, uploadDir: env.UPLOAD_DIR }
  }

  async teardown() {
    if (this.child && this.child.exitCode === null) {
      const exited = new Promise((done) => this.child.once('exit', done))
      this.child.kill('SIGKILL')
      await exited
    }
    if (this.workDir) rmSync(this.workDir, { recursive: true, force: true })
    await super.teardown()
  }
}
