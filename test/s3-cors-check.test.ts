/**
 * The start-up check of the bucket's CORS for direct uploads, against s3rver's real bucket CORS
 * (PutBucketCors / GetBucketCors): without a rule that lets the admin's origin PUT the signed
 * headers and read ETag, the app must not start, and the error says what to apply.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, test } from '@jest/globals'
import type { CORSRule } from '@aws-sdk/client-s3'
import { ConfigurationError, StorageUnavailable } from '../src/errors.js'
import { createS3Clients, type S3Clients } from '../src/store/s3/client.js'
import { checkBucketCors } from '../src/store/s3/cors-check.js'
import { startFaultProxy } from './support/s3-fault-proxy.js'
import { s3rverInstalled, startS3rver, type S3Server } from './support/s3rver.js'

const installed = s3rverInstalled()
const suite = installed ? describe : describe.skip
const ORIGIN = 'https://admin.example.com'

let server: S3Server
let s3: S3Clients
beforeAll(async () => {
  if (!installed) return
  server = (await startS3rver())!
  s3 = await createS3Clients(server.config)
})
afterAll(async () => {
  s3?.client.destroy()
  s3?.streaming.destroy()
  await server?.destroy()
})

async function setRules(rules: CORSRule[] | null): Promise<void> {
  if (rules === null) await s3.client.send(new s3.sdk.DeleteBucketCorsCommand({ Bucket: server.bucket }))
  else await s3.client.send(new s3.sdk.PutBucketCorsCommand({ Bucket: server.bucket, CORSConfiguration: { CORSRules: rules } }))
}

async function failure(origin = ORIGIN): Promise<ConfigurationError> {
  const error = await checkBucketCors(s3, server.bucket, origin).then(() => null, (e: unknown) => e)
  expect(error).toBeInstanceOf(ConfigurationError)
  return error as ConfigurationError
}

const GOOD: CORSRule = { AllowedOrigins: [ORIGIN], AllowedMethods: ['PUT'], AllowedHeaders: ['content-type', 'x-amz-checksum-sha256'], ExposeHeaders: ['ETag'] }

suite('checkBucketCors (s3rver bucket CORS)', () => {
  beforeEach(async () => {
    await setRules(null)
  })

  test('no CORS configuration: a ConfigurationError naming the option, the bucket, the origin, and the JSON to apply', async () => {
    const error = await failure()
    expect(error.option).toBe('storage.s3.upload')
    expect(error.message).toContain(`bucket ${server.bucket}`)
    expect(error.message).toContain('it has no CORS rules')
    const json = error.message.slice(error.message.indexOf('{'))
    expect(JSON.parse(json)).toEqual({
      CORSRules: [{ AllowedOrigins: [ORIGIN], AllowedMethods: ['PUT'], AllowedHeaders: ['content-type', 'x-amz-checksum-sha256'], ExposeHeaders: ['ETag'], MaxAgeSeconds: 3600 }],
    })
  })

  test('the JSON the error shows, applied as it is, passes the check', async () => {
    const error = await failure()
    await setRules(JSON.parse(error.message.slice(error.message.indexOf('{'))).CORSRules)
    await expect(checkBucketCors(s3, server.bucket, ORIGIN)).resolves.toBe('verified')
  })

  test('a rule for another origin, or one lacking PUT, a header or the exposed ETag: each named', async () => {
    await setRules([{ ...GOOD, AllowedOrigins: ['https://other.example.com'] }])
    expect((await failure()).message).toContain(`none of its 1 CORS rules allows the origin ${ORIGIN}`)

    await setRules([{ ...GOOD, AllowedMethods: ['GET'] }])
    expect((await failure()).message).toContain('does not allow the PUT method (AllowedMethods)')

    await setRules([{ ...GOOD, AllowedHeaders: ['content-type'] }])
    const header = (await failure()).message
    expect(header).toContain('the request header x-amz-checksum-sha256 (AllowedHeaders)')
    expect(header).not.toContain('the request header content-type')

    await setRules([{ ...GOOD, ExposeHeaders: [] }])
    expect((await failure()).message).toContain('the ETag response header (ExposeHeaders)')

    // Two rules, each lacking something: the closest is the one reported.
    await setRules([{ ...GOOD, AllowedMethods: ['GET'], ExposeHeaders: [] }, { ...GOOD, ExposeHeaders: [] }])
    const closest = (await failure()).message.split('Apply this')[0]!
    expect(closest).toContain('ExposeHeaders')
    expect(closest).not.toContain('AllowedMethods')
  })

  test('wildcards pass: origin *, a *.example.com origin, header x-amz-* or *, ETag in any case', async () => {
    await setRules([{ AllowedOrigins: ['*'], AllowedMethods: ['GET', 'PUT'], AllowedHeaders: ['*'], ExposeHeaders: ['etag'] }])
    await expect(checkBucketCors(s3, server.bucket, ORIGIN)).resolves.toBe('verified')
    await setRules([{ AllowedOrigins: ['https://*.example.com'], AllowedMethods: ['PUT'], AllowedHeaders: ['Content-Type', 'x-amz-*'], ExposeHeaders: ['ETag'] }])
    await expect(checkBucketCors(s3, server.bucket, ORIGIN)).resolves.toBe('verified')
    expect((await failure('https://admin.example.org')).message).toContain('allows the origin https://admin.example.org')
  })

  test('a rule that fits among others that do not: passes', async () => {
    await setRules([{ AllowedOrigins: ['*'], AllowedMethods: ['GET'] }, GOOD])
    await expect(checkBucketCors(s3, server.bucket, ORIGIN)).resolves.toBe('verified')
  })

  test('a bucket that does not exist: a ConfigurationError; an object store that is down: retryable StorageUnavailable', async () => {
    expect((await checkBucketCors(s3, 'no-such-bucket-here', ORIGIN).catch((e: unknown) => e))).toBeInstanceOf(ConfigurationError)
    const down = await createS3Clients({ ...server.config, endpoint: 'http://127.0.0.1:9', maxAttempts: 1 })
    try {
      expect(await checkBucketCors(down, server.bucket, ORIGIN).catch((e: unknown) => e)).toBeInstanceOf(StorageUnavailable)
    } finally {
      down.client.destroy()
      down.streaming.destroy()
    }
  })

  test('a server without the bucket CORS API (NotImplemented, as MinIO community answers): unverifiable; no permission to read it: a ConfigurationError naming s3:GetBucketCORS', async () => {
    await setRules([GOOD])
    const proxy = await startFaultProxy(server.endpoint)
    const viaProxy = await createS3Clients({ ...server.config, endpoint: proxy.endpoint, maxAttempts: 1 })
    try {
      proxy.refuse({ match: (req) => req.method === 'GET' && /[?&]cors/.test(req.url ?? ''), status: 501, code: 'NotImplemented', times: 1 })
      expect(await checkBucketCors(viaProxy, server.bucket, ORIGIN)).toBe('unverifiable')
      proxy.refuse({ match: (req) => req.method === 'GET' && /[?&]cors/.test(req.url ?? ''), status: 403, code: 'AccessDenied', times: 1 })
      const denied = await checkBucketCors(viaProxy, server.bucket, ORIGIN).catch((e: unknown) => e)
      expect(denied).toBeInstanceOf(ConfigurationError)
      expect((denied as Error).message).toContain('s3:GetBucketCORS')
      expect(proxy.refused()).toBe(2)
      // Through the same proxy, the real answer: verified.
      expect(await checkBucketCors(viaProxy, server.bucket, ORIGIN)).toBe('verified')
    } finally {
      viaProxy.client.destroy()
      viaProxy.streaming.destroy()
      await proxy.close()
    }
  })
})
