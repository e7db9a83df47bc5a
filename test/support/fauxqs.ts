/**
 * A second S3 server for what s3rver lacks: fauxqs (npm, an SQS/SNS/S3 emulator) implements
 * AbortMultipartUpload, UploadPartCopy, and checks the ETags of CompleteMultipartUpload (InvalidPart),
 * where s3rver answers 405/501 or does not check. It has neither ListMultipartUploads nor ListParts
 * (it answers those requests as a bucket listing / an object GET), nor bucket CORS.
 *
 * fauxqs 2.4 needs Node >= 22.5 (node:sqlite) while the project runs on Node 20: it is installed
 * with the official Node 22 binary from the npm registry (`node-<platform>-<arch>`, as the test
 * matrix does) into test/.tmp/fauxqs on first use, and runs there as a child process, in memory,
 * on a random loopback port. It keeps everything in memory and concatenates a multipart upload's
 * parts into one buffer on completion, so objects of GiBs are out of its reach.
 *
 * Without it (no registry, install failed) the tests that need it say so loudly and do not run;
 * under CI (any value but "" / "0" / "false") they fail.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { S3ClientConfig } from '@aws-sdk/client-s3'
import { REPO } from './processes.js'
import type { S3Server } from './s3rver.js'

export const FAUXQS_VERSION = '2.4.1'
const NODE_MAJOR = '22'
const PREFIX = join(REPO, 'test', '.tmp', 'fauxqs')
const NODE_PACKAGE = `node-${process.platform}-${process.arch}`
const NODE_BIN = join(PREFIX, 'node_modules', NODE_PACKAGE, 'bin', 'node')
const ENTRY = join(PREFIX, 'node_modules', 'fauxqs', 'dist', 'app.js')

const CI = process.env.CI ?? ''
export const FAUXQS_REQUIRED = CI !== '' && CI !== '0' && CI.toLowerCase() !== 'false'

function installedVersion(): string | null {
  try {
    const result = spawnSync(NODE_BIN, ['-p', `require(${JSON.stringify(join(PREFIX, 'node_modules', 'fauxqs', 'package.json'))}).version`], { encoding: 'utf8' })
    return result.status === 0 ? result.stdout.trim() : null
  } catch {
    return null
  }
}

let checked: string | null | undefined

/**
 * Why fauxqs cannot run here, or null when it can; installs it (once) when missing. A test file
 * calls this at load time and skips (loudly) or, under CI, fails.
 */
export function fauxqsMissing(): string | null {
  if (checked !== undefined) return checked
  checked = null
  if (!existsSync(NODE_BIN) || !existsSync(ENTRY) || installedVersion() !== FAUXQS_VERSION) {
    mkdirSync(PREFIX, { recursive: true })
    if (!existsSync(join(PREFIX, 'package.json'))) writeFileSync(join(PREFIX, 'package.json'), '{ "private": true }\n')
    const result = spawnSync('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--ignore-scripts', '--loglevel=error', `${NODE_PACKAGE}@${NODE_MAJOR}`, `fauxqs@${FAUXQS_VERSION}`], { cwd: PREFIX, encoding: 'utf8', timeout: 300_000 })
    if (result.status !== 0 || installedVersion() !== FAUXQS_VERSION) checked = `installing fauxqs ${FAUXQS_VERSION} with Node ${NODE_MAJOR} into ${PREFIX} failed: ${(result.stderr || String(result.error ?? '')).trim().slice(-500)}`
  }
  if (checked === null) {
    const version = spawnSync(NODE_BIN, ['--version'], { encoding: 'utf8' }).stdout.trim()
    const [major, minor] = version.slice(1).split('.').map(Number)
    if (!(major! > 22 || (major === 22 && minor! >= 5))) checked = `fauxqs needs Node >= 22.5, the fetched binary is ${version || 'not runnable'}`
  }
  if (checked !== null) {
    if (FAUXQS_REQUIRED) throw new Error(`${checked} (CI=${CI} requires fauxqs)`)
    console.warn(`\n!!! SKIPPING fauxqs tests (real AbortMultipartUpload, UploadPartCopy, ETag check on completion): ${checked}\n`)
  }
  return checked
}

/** In the child: fauxqs's app on an in-memory store, on loopback only (its own starter binds 0.0.0.0). */
const LAUNCH = `
const { buildApp } = await import(${JSON.stringify(ENTRY)})
const app = buildApp({ logger: false })
const address = await app.listen({ port: 0, host: '127.0.0.1' })
console.log('fauxqs listening on ' + address)
`

let counter = 0

/** Starts fauxqs with one bucket; the S3Server shape of s3rver.ts (no data directory: it is in memory). */
export async function startFauxqs(): Promise<S3Server | null> {
  if (fauxqsMissing()) return null
  let child: ChildProcess | null = null
  let port = 0
  const launch = async () => {
    const proc = spawn(NODE_BIN, ['--no-warnings', '--input-type=module', '-e', LAUNCH], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE_OPTIONS: '' } })
    child = proc
    let output = ''
    port = await new Promise<number>((resolve, reject) => {
      const onData = (data: Buffer) => {
        output += data.toString()
        const match = /fauxqs listening on http:\/\/[^:]+:(\d+)/.exec(output)
        if (match) resolve(Number(match[1]))
      }
      proc.stdout!.on('data', onData)
      proc.stderr!.on('data', onData)
      proc.once('exit', (code) => reject(new Error(`fauxqs exited (${code}) before listening: ${output}`)))
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
  const bucket = `resumable-fauxqs-${process.pid}-${counter++}`
  const config: S3ClientConfig = {
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  }
  const { S3Client, CreateBucketCommand } = await import('@aws-sdk/client-s3')
  const client = new S3Client(config)
  try {
    await client.send(new CreateBucketCommand({ Bucket: bucket }))
  } finally {
    client.destroy()
  }
  return {
    endpoint,
    bucket,
    dir: '',
    config,
    // In memory: a restart loses the bucket, unlike s3rver's. Tests here do not restart it.
    restart: async () => {
      throw new Error('fauxqs keeps its data in memory: it cannot be restarted with it')
    },
    stop: halt,
    start: launch,
    destroy: halt,
  }
}
