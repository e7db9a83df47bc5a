/**
 * The example app as `npm start` runs it (`node example-app/server.js`, compiled lib/): what a new
 * user sees when it cannot start.
 */
import { afterEach, beforeEach, expect, jest, test } from '@jest/globals'
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer, type Server } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

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

test('a port already in use ends the app with a clear message and exit code 1, not a TypeError', async () => {
  const port = (blocker.address() as { port: number }).port
  const child = spawn(process.execPath, ['example-app/server.js'], {
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', DATABASE_FILE: join(work, 'db.sqlite'), UPLOAD_DIR: join(work, 'uploads') },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d) => { stdout += d })
  child.stderr.on('data', (d) => { stderr += d })
  const code = await new Promise<number | null>((done) => child.on('exit', done))
  expect(code).toBe(1)
  expect(stderr).toContain(`cannot listen on 127.0.0.1:${port} (EADDRINUSE)`)
  expect(stderr).toContain('set PORT')
  expect(stderr).not.toContain('TypeError')
  expect(stdout).not.toContain('LISTENING')
})
