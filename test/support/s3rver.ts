/**
 * A real S3-compatible server for the S3 tests: s3rver (npm) in a child process, on a random
 * loopback port, over a temp directory, with one DNS-valid bucket. s3rver keeps its directory, so
 * `restart()` stops the process and starts a new one on the same port and data: an object store that
 * goes away mid-upload and comes back.
 *
 * Without s3rver installed the S3 tests say so loudly and do not run; under CI=true they fail.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { S3ClientConfig } from '@aws-sdk/client-s3'
import { REPO } from './processes.js'
import { REQUIRED } from './services.js'

const BIN = join(REPO, 'node_modules', 's3rver', 'bin', 's3rver.js')

export interface S3Server {
  endpoint: string
  bucket: string
  /** s3rver's data directory (to look at what it has received so far). */
  dir: string
  /** What the store needs to reach this server (path-style, s3rver's fixed credentials). */
  config: S3ClientConfig
  restart(): Promise<void>
  /** Stops the process and keeps its data (to test an object store that is down). */
  stop(): Promise<void>
  /** Starts it again after `stop()`, on the same port and data. */
  start(): Promise<void>
  /** Stops the process and deletes its data. */
  destroy(): Promise<void>
}

let counter = 0

/** Whether s3rver can run; when not, says so loudly (and throws under CI=true) so tests are never skipped silently. */
export function s3rverInstalled(): boolean {
  if (existsSync(BIN)) return true
  const message = `s3rver is not installed (${BIN}); run npm install`
  if (REQUIRED) throw new Error(`${message} (CI=true requires it)`)
  console.warn(`\n!!! SKIPPING S3 tests: ${message}\n`)
  return false
}

/** Starts s3rver, or returns null (with a loud warning) when it is not installed and CI does not require it. */
export async function startS3rver(): Promise<S3Server | null> {
  if (!s3rverInstalled()) return null
  const dir = mkdtempSync(join(tmpdir(), 'adminjs-resumable-s3-'))
  const bucket = `resumable-test-${process.pid}-${counter++}`
  let child: ChildProcess | null = null
  let port = 0

  const launch = async () => {
    const args = [BIN, '-d', dir, '-a', '127.0.0.1', '-p', String(port), '--silent', '--configure-bucket', bucket]
    const proc = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] })
    child = proc
    let output = ''
    port = await new Promise<number>((resolve, reject) => {
      const onData = (data: Buffer) => {
        output += data.toString()
        const match = /listening on [^:]+:(\d+)/.exec(output)
        if (match) resolve(Number(match[1]))
      }
      proc.stdout!.on('data', onData)
      proc.stderr!.on('data', onData)
      proc.once('exit', (code) => reject(new Error(`s3rver exited (${code}) before listening: ${output}`)))
    })
  }
  const halt = async () => {
    const proc = child
    child = null
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return
    const gone = new Promise((resolve) => proc.once('exit', resolve))
    proc.kill('SIGKILL')
    await gone
  }
  process.once('exit', () => child?.kill('SIGKILL'))

  await launch()
  const endpoint = `http://127.0.0.1:${port}`
  return {
    endpoint,
    bucket,
    dir,
    config: {
      endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    },
    restart: async () => {
      await halt()
      await launch()
    },
    stop: halt,
    start: launch,
    destroy: async () => {
      await halt()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
