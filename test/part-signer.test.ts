/**
 * What a presigned UploadPart URL allows, checked by a real SigV4 verification: s3rver accepts any
 * signature, so a proxy in front of it recomputes each signature with the SDK's own signer
 * (test/support/signing-proxy.ts). The store's own SDK calls go through the proxy too, so the
 * proxy is shown to pass what is signed right, not only to refuse.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import { InvalidRequest } from '../src/errors.js'
import { createS3Clients, type S3Clients, type S3Location } from '../src/store/s3/client.js'
import { objectStream } from '../src/store/s3/files.js'
import { completeMultipart, createMultipart } from '../src/store/s3/multipart.js'
import { PartSigner, sha256HexToBase64 } from '../src/store/s3/part-signer.js'
import { readAll } from './staging-contract.js'
import { bytes, sha256 } from './support/resumable-client.js'
import { rawPut } from './support/raw-put.js'
import { startSigningProxy, type SigningProxy } from './support/signing-proxy.js'
import { s3rverInstalled, startS3rver, type S3Server } from './support/s3rver.js'

const installed = s3rverInstalled()
const suite = installed ? describe : describe.skip

let server: S3Server
let proxy: SigningProxy
let s3: S3Clients
let where: S3Location
let counter = 0

beforeAll(async () => {
  if (!installed) return
  server = (await startS3rver())!
  proxy = await startSigningProxy({ target: server.endpoint, credentials: { S3RVER: 'S3RVER' } })
  s3 = await createS3Clients({ ...server.config, endpoint: proxy.endpoint })
  where = { bucket: server.bucket, prefix: 'signed/' }
})
afterAll(async () => {
  s3?.client.destroy()
  s3?.streaming.destroy()
  await proxy?.close()
  await server?.destroy()
})

async function newUpload(): Promise<{ key: string; uploadId: string }> {
  const key = `signed/staging/u${counter++}/g`
  return { key, uploadId: await createMultipart(s3, where, key, 'application/octet-stream') }
}

suite('presigned UploadPart URLs (s3rver behind a SigV4-verifying proxy)', () => {
  test('the URL signed for a part stores exactly that part: 200 with its ETag, and the completed object holds those bytes', async () => {
    const target = await newUpload()
    const data = bytes(70_000, 3)
    const signer = new PartSigner(s3, where)
    const [signed] = await signer.signBatch(target, [{ partNumber: 1, length: data.length }])
    expect(new URL(signed!.url).searchParams.get('X-Amz-SignedHeaders')).toBe('content-length;host')
    const answer = await rawPut(signed!.url, data, signed!.headers)
    expect(answer.status).toBe(200)
    const etag = answer.headers.etag as string
    expect(etag).toMatch(/^"[0-9a-f]{32}"$/)
    await completeMultipart(s3, where, target.key, target.uploadId, [{ partNumber: 1, etag }])
    expect(sha256(await readAll(objectStream(s3, where, target.key)))).toBe(sha256(data))
  })

  test('the URL of part 2 used for part 3, with another length, for another upload, or after it expired: all refused (403)', async () => {
    const target = await newUpload()
    const other = await newUpload()
    const data = bytes(4096, 5)
    const signer = new PartSigner(s3, where, { expiresIn: 60 })
    const [signed] = await signer.signBatch(target, [{ partNumber: 2, length: data.length }])
    const url = new URL(signed!.url)

    const asPart3 = new URL(url)
    asPart3.searchParams.set('partNumber', '3')
    const forOther = new URL(url)
    forOther.searchParams.set('uploadId', other.uploadId)
    const refusals = [
      await rawPut(asPart3.href, data),
      await rawPut(url.href, Buffer.concat([data, Buffer.from('x')])),
      await rawPut(url.href, data.subarray(1)),
      await rawPut(forOther.href, data),
    ]
    for (const answer of refusals) {
      expect(answer.status).toBe(403)
      expect(answer.body).toContain('<Code>SignatureDoesNotMatch</Code>')
    }

    // Signed 61 s ago for 60 s: expired, though nothing else about it is wrong.
    const past = new PartSigner(s3, where, { expiresIn: 60, now: () => Date.now() - 61_000 })
    const [stale] = await past.signBatch(target, [{ partNumber: 2, length: data.length }])
    const expired = await rawPut(stale!.url, data)
    expect(expired.status).toBe(403)
    expect(expired.body).toContain('Request has expired')

    // The very same URL, untouched, still works: the refusals above were about what changed.
    expect((await rawPut(url.href, data)).status).toBe(200)
  })

  test('with a SHA-256 the checksum header is signed: left out or changed, the PUT is refused', async () => {
    const target = await newUpload()
    const data = bytes(5000, 9)
    const digest = sha256(data)
    const signer = new PartSigner(s3, where)
    const signed = await signer.sign(target, { partNumber: 1, length: data.length, sha256: digest })
    expect(signed.headers).toEqual({ 'x-amz-checksum-sha256': Buffer.from(digest, 'hex').toString('base64') })
    expect(new URL(signed.url).searchParams.get('X-Amz-SignedHeaders')).toBe('content-length;host;x-amz-checksum-sha256')
    expect(new URL(signed.url).searchParams.has('x-amz-checksum-sha256')).toBe(false)

    expect((await rawPut(signed.url, data)).status).toBe(403)
    const otherDigest = sha256HexToBase64(sha256(Buffer.from('other')))
    expect((await rawPut(signed.url, data, { 'x-amz-checksum-sha256': otherDigest })).status).toBe(403)
    expect((await rawPut(signed.url, data, signed.headers)).status).toBe(200)
  })

  test('a batch is signed in one call, in order; a bad part refuses the whole batch', async () => {
    const target = await newUpload()
    const signer = new PartSigner(s3, where, { expiresIn: 120, now: () => 1_800_000_000_000 })
    const batch = await signer.signBatch(target, [3, 1, 2].map((partNumber) => ({ partNumber, length: 10 })))
    expect(batch.map((s) => s.partNumber)).toEqual([3, 1, 2])
    expect(batch.map((s) => new URL(s.url).searchParams.get('partNumber'))).toEqual(['3', '1', '2'])
    for (const s of batch) {
      expect(s.expiresAt).toBe(1_800_000_120_000)
      expect(new URL(s.url).searchParams.get('uploadId')).toBe(target.uploadId)
    }
    await expect(signer.signBatch(target, [{ partNumber: 1, length: 10 }, { partNumber: 0, length: 10 }])).rejects.toThrow(InvalidRequest)
    await expect(signer.signBatch(target, [{ partNumber: 10_001, length: 10 }])).rejects.toThrow(/outside 1\.\.10000/)
    await expect(signer.signBatch(target, [{ partNumber: 1, length: 0 }])).rejects.toThrow(/invalid length/)
    await expect(signer.signBatch(target, [{ partNumber: 1, length: 10, sha256: 'abc' }])).rejects.toThrow(/64 hexadecimal/)
    expect(() => new PartSigner(s3, where, { expiresIn: 0 })).toThrow(RangeError)
    expect(() => new PartSigner(s3, where, { expiresIn: 8 * 24 * 3600 })).toThrow(RangeError)
  })

  test('the proxy refuses header-signed requests that were changed after signing, and anonymous ones', async () => {
    const target = await newUpload()
    // A request signed right by the SDK passes (createMultipart above went through it); tampered, it does not.
    const url = `${proxy.endpoint}/${where.bucket}/${target.key}?partNumber=1&uploadId=${encodeURIComponent(target.uploadId)}`
    const anonymous = await rawPut(url, Buffer.from('abc'))
    expect(anonymous.status).toBe(403)
    const forged = await rawPut(url, Buffer.from('abc'), {
      authorization: 'AWS4-HMAC-SHA256 Credential=S3RVER/20260101/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-date, Signature=' + '0'.repeat(64),
      'x-amz-date': '20260101T000000Z',
    })
    expect(forged.status).toBe(403)
    expect(forged.body).toContain('SignatureDoesNotMatch')
  })
})
