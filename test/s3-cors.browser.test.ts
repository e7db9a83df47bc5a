/**
 * The CORS policy the start-up check asks for, tried by a real browser: headless Chromium on a page
 * of another origin PUTs a part to a presigned URL (through the SigV4-verifying proxy, to s3rver's
 * real bucket CORS) with the headers a direct upload sends, and reads the ETag. Without a rule the
 * browser blocks the PUT; without ETag exposed it cannot read the ETag, which is why the check
 * refuses such a rule.
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import type { CORSRule } from '@aws-sdk/client-s3'
import type { Page } from 'playwright-core'
import { ConfigurationError } from '../src/errors.js'
import { createS3Clients, type S3Clients, type S3Location } from '../src/store/s3/client.js'
import { checkBucketCors, corsPolicyFor } from '../src/store/s3/cors-check.js'
import { createMultipart } from '../src/store/s3/multipart.js'
import { PartSigner } from '../src/store/s3/part-signer.js'
import { browserMissing, launchBrowser, type Browser } from './support/browser.js'
import { bytes, sha256 } from './support/resumable-client.js'
import { startSigningProxy, type SigningProxy } from './support/signing-proxy.js'
import { s3rverInstalled, startS3rver, type S3Server } from './support/s3rver.js'

const ready = s3rverInstalled() && !browserMissing()
const suite = ready ? describe : describe.skip

let server: S3Server
let proxy: SigningProxy
let s3: S3Clients
let where: S3Location
let site: Server
let origin: string
let browser: Browser
let page: Page

beforeAll(async () => {
  if (!ready) return
  server = (await startS3rver())!
  proxy = await startSigningProxy({ target: server.endpoint, credentials: { S3RVER: 'S3RVER' } })
  s3 = await createS3Clients({ ...server.config, endpoint: proxy.endpoint })
  where = { bucket: server.bucket, prefix: 'cors/' }
  site = createServer((_req, res) => res.end('<!doctype html><title>admin</title>'))
  await new Promise<void>((resolve) => site.listen(0, '127.0.0.1', resolve))
  origin = `http://127.0.0.1:${(site.address() as AddressInfo).port}`
  browser = await launchBrowser()
  page = await browser.context.newPage()
  await page.goto(origin)
})
afterAll(async () => {
  await browser?.close()
  site?.close()
  s3?.client.destroy()
  s3?.streaming.destroy()
  await proxy?.close()
  await server?.destroy()
})

async function setRules(rules: CORSRule[] | null): Promise<void> {
  if (rules === null) await s3.client.send(new s3.sdk.DeleteBucketCorsCommand({ Bucket: server.bucket }))
  else await s3.client.send(new s3.sdk.PutBucketCorsCommand({ Bucket: server.bucket, CORSConfiguration: { CORSRules: rules } }))
}

/** The browser's PUT of one signed part, as a direct upload sends it. */
async function browserPut(): Promise<{ status: number; etag: string | null } | { blocked: string }> {
  const data = bytes(2048, 7)
  const key = `cors/staging/${Date.now()}/g`
  const target = { key, uploadId: await createMultipart(s3, where, key, 'application/octet-stream') }
  const signed = await new PartSigner(s3, where).sign(target, { partNumber: 1, length: data.length, sha256: sha256(data) })
  return page.evaluate(async ({ url, headers, body }) => {
    try {
      const answer = await fetch(url, { method: 'PUT', body: new Uint8Array(body), headers: { ...headers, 'content-type': 'application/octet-stream' } })
      return { status: answer.status, etag: answer.headers.get('etag') }
    } catch (error) {
      return { blocked: String(error) }
    }
  }, { url: signed.url, headers: signed.headers, body: [...data] })
}

suite('the bucket CORS policy in a real browser (Chromium, s3rver)', () => {
  test('no CORS rule: the browser blocks the PUT, and the start-up check refuses', async () => {
    await setRules(null)
    expect(await browserPut()).toHaveProperty('blocked')
    await expect(checkBucketCors(s3, server.bucket, origin)).rejects.toBeInstanceOf(ConfigurationError)
  })

  test('the policy the check shows: the start-up check passes, and the browser PUTs the part and reads its ETag', async () => {
    await setRules(JSON.parse(corsPolicyFor(origin)).CORSRules)
    expect(await checkBucketCors(s3, server.bucket, origin)).toBe('verified')
    const answer = await browserPut()
    expect(answer).toEqual({ status: 200, etag: expect.stringMatching(/^"[0-9a-f]{32}"$/) })
  })

  test('ETag not exposed: the PUT goes through but the page cannot read the ETag, so the check refuses such a rule', async () => {
    await setRules([{ AllowedOrigins: [origin], AllowedMethods: ['PUT'], AllowedHeaders: ['content-type', 'x-amz-checksum-sha256'] }])
    expect(await browserPut()).toEqual({ status: 200, etag: null })
    await expect(checkBucketCors(s3, server.bucket, origin)).rejects.toThrow(/ETag response header/)
  })
})
