/**
 * A batch of UploadPart URLs is signed through the SDK once, the other parts from the same request
 * with their part number, length and digest changed: every URL must be exactly the one the SDK's
 * getSignedUrl gives that part alone, on AWS's own endpoints (virtual-hosted, path-style) and on a
 * custom one, for keys that need escaping. Signing makes no request, so no S3 server is needed; that
 * the bucket accepts these URLs (and refuses changed ones) is test/part-signer.test.ts's and the
 * direct upload tests', behind the verifying proxy.
 */
import { describe, expect, test } from '@jest/globals'
import { createHash } from 'node:crypto'
import { createS3Clients } from '../src/store/s3/client.js'
import { PartSigner, type PartToSign } from '../src/store/s3/part-signer.js'

const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' }
const now = () => Date.UTC(2026, 11, 7, 19, 30, 0)
const digest = (n: number) => createHash('sha256').update(`part ${n}`).digest('hex')

const endpoints = [
  { name: 'AWS, virtual-hosted', config: { region: 'eu-central-1', credentials } },
  { name: 'AWS, path-style', config: { region: 'us-east-1', forcePathStyle: true, credentials } },
  { name: 'a custom endpoint with a port', config: { region: 'auto', endpoint: 'http://127.0.0.1:9000', forcePathStyle: true, credentials } },
]
const keys = ['uploads/staging/0123456789abcdef0123456789abcdef01234567-a1b2c3d4', "Bericht März (final)'s copy*/~x y+z!"]

describe('a batch of part URLs is exactly what the SDK signs part by part', () => {
  for (const { name, config } of endpoints) {
    for (const key of keys) {
      for (const withDigests of [false, true]) {
        test(`${name}, key ${JSON.stringify(key)}, ${withDigests ? 'with' : 'without'} digests`, async () => {
          const s3 = await createS3Clients(config)
          try {
            const signer = new PartSigner(s3, { bucket: 'my-bucket', prefix: 'uploads/' }, { expiresIn: 600, now })
            const target = { key, uploadId: 'VXBsb2FkIElEIGZvciBlbHZpbmcncyBteS1tb3ZpZS5tMnRzIHVwbG9hZA--' }
            const parts: PartToSign[] = [1, 2, 3, 17, 10_000].map((partNumber) => ({
              partNumber, length: partNumber === 10_000 ? 1234 : 5 * 1024 * 1024, ...(withDigests ? { sha256: digest(partNumber) } : {}),
            }))
            const batch = await signer.signBatch(target, parts)
            const alone = await Promise.all(parts.map(async (part) => (await signer.signBatch(target, [part]))[0]!))
            expect(batch).toEqual(alone)
            expect(new Set(batch.map((p) => new URL(p.url).searchParams.get('X-Amz-Signature'))).size).toBe(parts.length)
            expect(batch.map((p) => new URL(p.url).searchParams.get('partNumber'))).toEqual(parts.map((p) => String(p.partNumber)))
          } finally {
            s3.client.destroy()
            s3.streaming.destroy()
          }
        })
      }
    }
  }
})
