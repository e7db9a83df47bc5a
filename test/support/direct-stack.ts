/**
 * The set-up the direct-upload browser tests share: s3rver behind the SigV4-verifying proxy (every
 * signature checked), the bucket's CORS as the README gives it, the app's environment for
 * `S3_UPLOAD=direct`, sample files, and the page steps.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, request as httpRequest } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { expect } from '@jest/globals'
import type { Page } from 'playwright-core'
import type { Listening } from './browser-app.js'
import { bytes, sha256 } from './resumable-client.js'
import { pngFile } from './samples.js'
import { startFauxqs } from './fauxqs.js'
import { startSigningProxy, type SigningProxy } from './signing-proxy.js'
import { startS3rver, type S3Server } from './s3rver.js'

export const MiB = 1024 * 1024
export const LONG = 240_000
export const STATUS = '[data-testid=resumable-status]'
const SCREENSHOTS = join(process.cwd(), 'test', '.tmp', 'screenshots')

export interface Sample { path: string; name: string; size: number; sha: string }

export interface DirectStack {
  server: S3Server
  proxy: SigningProxy
  dir: string
  /** The app's environment for direct uploads to this bucket through the proxy. */
  env: Record<string, string>
  sample(name: string, data: Buffer): Sample
  close(): Promise<void>
}

export async function startDirectStack(): Promise<DirectStack> {
  const dir = mkdtempSync(join(tmpdir(), 'adminjs-resumable-direct-'))
  const server = (await startS3rver())!
  const proxy = await startSigningProxy({ target: server.endpoint, credentials: { S3RVER: 'S3RVER' } })
  const { S3Client, PutBucketCorsCommand } = await import('@aws-sdk/client-s3')
  const client = new S3Client(server.config)
  // The app's origin is only known once it listens: the rule names any origin, which the start-up check accepts.
  await client.send(new PutBucketCorsCommand({
    Bucket: server.bucket,
    CORSConfiguration: { CORSRules: [{ AllowedOrigins: ['*'], AllowedMethods: ['PUT'], AllowedHeaders: ['content-type', 'x-amz-checksum-sha256'], ExposeHeaders: ['ETag'] }] },
  }))
  client.destroy()
  return stackOf(server, proxy, dir, { S3RVER: 'S3RVER' }, {})
}

/**
 * What a bucket's CORS rule (as the README gives it) adds, for a server that has none: a front that
 * answers the page's preflights (any origin may PUT the headers it asks for) and exposes `ETag` on
 * every answer; the rest goes to `target` and back unchanged, recorded as the signing proxy records
 * it (no signature is checked here).
 */
async function startCorsFront(target: string): Promise<SigningProxy> {
  const to = new URL(target)
  const forwarded: SigningProxy['forwarded'] = []
  const server = createServer((req, res) => {
    const allowOrigin = { 'access-control-allow-origin': req.headers.origin ?? '*' }
    if (req.method === 'OPTIONS' && req.headers['access-control-request-method']) {
      req.resume()
      res.writeHead(200, {
        ...allowOrigin,
        'access-control-allow-methods': 'PUT',
        'access-control-allow-headers': req.headers['access-control-request-headers'] ?? '',
        'content-length': '0',
      })
      res.end()
      return
    }
    const upstream = httpRequest({ hostname: to.hostname, port: to.port, method: req.method, path: req.url, headers: { ...req.headers, host: to.host } }, (answer) => {
      forwarded.push({ method: req.method ?? '', url: req.url ?? '', status: answer.statusCode ?? 502 })
      res.writeHead(answer.statusCode ?? 502, { ...answer.headers, ...allowOrigin, 'access-control-expose-headers': 'ETag' })
      answer.pipe(res)
    })
    upstream.on('error', () => res.destroy())
    req.pipe(upstream)
  })
  await new Promise<void>((resolve) => { server.listen(0, '127.0.0.1', resolve) })
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    refused: [],
    forwarded,
    close: () => new Promise((resolve) => {
      server.closeAllConnections()
      server.close(() => resolve())
    }),
  }
}

/**
 * The direct-upload stack on fauxqs (test/support/fauxqs.ts) instead of s3rver, for what only it
 * does: it checks the ETags of CompleteMultipartUpload (InvalidPart). It has no bucket CORS, so the
 * page reaches it through startCorsFront, and the app's start-up CORS check only warns (`S3_CORS:
 * none`); it checks no signature either. Null when fauxqs cannot run here (fauxqsMissing says why).
 */
export async function startFauxqsStack(): Promise<DirectStack | null> {
  const server = await startFauxqs()
  if (!server) return null
  const dir = mkdtempSync(join(tmpdir(), 'adminjs-resumable-direct-fauxqs-'))
  const proxy = await startCorsFront(server.endpoint)
  const credentials = server.config.credentials as { accessKeyId: string; secretAccessKey: string }
  return stackOf(server, proxy, dir, { [credentials.accessKeyId]: credentials.secretAccessKey }, { S3_CORS: 'none', S3_DOWNLOAD: 'stream' })
}

/** The stack around a started S3 server and its front: the app's environment, samples, closing. */
function stackOf(
  server: DirectStack['server'],
  proxy: DirectStack['proxy'],
  dir: string,
  credentials: Record<string, string>,
  extra: Record<string, string>,
): DirectStack {
  const [[accessKeyId, secretAccessKey]] = Object.entries(credentials)
  return {
    server,
    proxy,
    dir,
    env: {
      CHUNK_SIZE: String(5 * MiB),
      MAX_UPLOAD_SIZE: String(512 * MiB),
      S3_BUCKET: server.bucket,
      S3_ENDPOINT: proxy.endpoint,
      S3_REGION: 'us-east-1',
      S3_FORCE_PATH_STYLE: 'true',
      S3_UPLOAD: 'direct',
      ...extra,
      AWS_ACCESS_KEY_ID: accessKeyId!,
      AWS_SECRET_ACCESS_KEY: secretAccessKey!,
    },
    sample(name, data) {
      const path = join(dir, name)
      writeFileSync(path, data)
      return { path, name, size: data.length, sha: sha256(data) }
    },
    async close() {
      await proxy.close()
      await server.destroy()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

/** A PNG (the Gallery takes images only) of `size` bytes whose content is not all one value. */
export function bigPng(size: number, seed: number): Buffer {
  const head = pngFile()
  return Buffer.concat([head, bytes(size - head.length, seed)])
}

export async function shot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true })
  // The bar's width moves with a 0.3 s transition.
  await page.waitForTimeout(400)
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true })
}

export async function eventually<T>(fn: () => T | Promise<T>, what: string, timeoutMs = 30_000): Promise<NonNullable<T>> {
  const until = Date.now() + timeoutMs
  for (;;) {
    const value = await fn()
    if (value) return value as NonNullable<T>
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => { setTimeout(resolve, 100) })
  }
}

/** A JSON column as SQLite gives it back raw (text) or PostgreSQL (parsed). */
export const list = (value: unknown): string[] => (typeof value === 'string' ? JSON.parse(value) : value) as string[]

/** The SHA-256 of what the download route hands out (following the presigned redirect). */
export async function download(page: Page, url: string): Promise<string> {
  const answer = await page.request.get(url)
  expect(answer.status()).toBe(200)
  return sha256(await answer.body())
}

/** Opens a resource's new-record form on `host` and names the record. */
export async function openNewForm(page: Page, host: Listening, resource: string, title?: string): Promise<void> {
  await page.goto(`${host.base}/admin/resources/${resource}/actions/new`)
  await page.waitForSelector('[data-testid=resumable-input]', { state: 'attached' })
  if (title) await page.fill('input[name=title]', title)
}

/** Waits until the single-file field is complete or failed, and says which. */
export async function settled(page: Page): Promise<string | null> {
  await page.waitForFunction(([sel]) => ['complete', 'failed'].includes(document.querySelector(sel as string)?.getAttribute('data-state') ?? ''),
    [STATUS] as const, { timeout: LONG, polling: 100 })
  return page.getAttribute(STATUS, 'data-state')
}
