/**
 * What the S3 staging store sends for per-part SHA-256, as real AWS wants it: an upload whose first
 * chunk carries a digest is created with ChecksumAlgorithm SHA256, every part carries
 * x-amz-checksum-sha256 (base64 of the chunk's digest), and the completion lists each part's
 * ChecksumSHA256; a later chunk without a digest is refused (400) and nothing is stored for it.
 * An upload without digests sends none of them. s3rver ignores these headers, so the requests are
 * read off a recording proxy in front of it. On SQLite and PostgreSQL.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import { InvalidRequest } from '../src/errors.js'
import type { S3Storage } from '../src/store/s3/index.js'
import type { UploadManifest } from '../src/store/types.js'
import { chunkOf, CREATE, manifestFor, readAll } from './staging-contract.js'
import { bytes, sha256 } from './support/resumable-client.js'
import { startFaultProxy, type FaultProxy, type SentRequest } from './support/s3-fault-proxy.js'
import { openSubject, type Dialect } from './support/s3-storage.js'
import { s3rverInstalled, startS3rver, type S3Server } from './support/s3rver.js'
import { freshPostgresDatabase, REQUIRED } from './support/services.js'

const PART = 5 * 1024 * 1024
const postgres = freshPostgresDatabase()
const dialects: Dialect[] = postgres ? ['sqlite', 'postgres'] : ['sqlite']
const installed = s3rverInstalled()

let server: S3Server
let proxy: FaultProxy
beforeAll(async () => {
  if (!installed) return
  server = (await startS3rver())!
  proxy = await startFaultProxy(server.endpoint)
})
afterAll(async () => {
  await proxy?.close()
  await server?.destroy()
})

if (!installed) {
  test('s3rver is not installed: the S3 part checksum tests did not run', () => {
    if (REQUIRED) throw new Error('s3rver is required under CI=true')
  })
}

const base64 = (hex: string) => Buffer.from(hex, 'hex').toString('base64')
const sliceOf = (m: UploadManifest, data: Buffer, n: number) => data.subarray((n - 1) * m.chunkSize, n === m.chunkCount ? data.length : n * m.chunkSize)

/** The requests that went to this upload's object key. */
function requestsFor(key: string, from: number): { create: SentRequest[]; parts: SentRequest[]; complete: SentRequest[] } {
  const mine = proxy.sent().slice(from).filter((r) => decodeURIComponent(r.url.split('?')[0]).endsWith(key))
  return {
    create: mine.filter((r) => r.method === 'POST' && /[?&]uploads(=|&|$)/.test(r.url)),
    parts: mine.filter((r) => r.method === 'PUT' && /[?&]partNumber=/.test(r.url)),
    complete: mine.filter((r) => r.method === 'POST' && /[?&]uploadId=/.test(r.url)),
  }
}

const partNumber = (r: SentRequest) => Number(/[?&]partNumber=(\d+)/.exec(r.url)![1])

async function objectKeyOf(host: S3Storage, id: string): Promise<string> {
  return (await host.staging.deps.uploads.find(id))!.objectKey
}

async function committed(host: S3Storage, id: string): Promise<Buffer> {
  const finished = (await host.staging.finished(id))!
  if (!(await host.files.place(finished, `checksums/${id}`))) throw new Error(`checksums/${id} is taken`)
  return readAll(host.files.read(`checksums/${id}`))
}

const suite = installed ? describe : describe.skip

for (const dialect of dialects) {
  suite(`S3 part checksums (s3rver behind a recording proxy, ${dialect})`, () => {
    let host: S3Storage
    let cleanup: () => Promise<void> = async () => undefined
    beforeAll(async () => {
      if (!installed) return
      const subject = await openSubject(server, dialect, postgres, { client: { ...server.config, endpoint: proxy.endpoint } })
      host = subject.storage
      cleanup = subject.cleanup
    })
    afterAll(async () => {
      await cleanup()
    })

    test('chunks with digests: the upload is created with SHA256, every part and the completion carry the checksums', async () => {
      const data = bytes(3 * PART + 4321, 31)
      const m = manifestFor(data, {}, PART)
      const from = proxy.sent().length
      const write = (n: number) => host.staging.writeChunk(m, { ...chunkOf(m, data, n), sha256: sha256(sliceOf(m, data, n)) }, CREATE)
      await write(2)
      await write(1)
      expect((await write(3)).complete).toBe(true)

      const sent = requestsFor(await objectKeyOf(host, m.id), from)
      expect(sent.create).toHaveLength(1)
      expect(sent.create[0].headers['x-amz-checksum-algorithm']).toBe('SHA256')
      expect(sent.parts.map(partNumber).sort()).toEqual([1, 2, 3])
      for (const part of sent.parts) {
        expect(part.headers['x-amz-checksum-sha256']).toBe(base64(sha256(sliceOf(m, data, partNumber(part)))))
        // The precomputed header alone: no checksum of the SDK's own, no trailer, no aws-chunked
        // framing, and the body streamed with its declared length.
        expect(Object.keys(part.headers).filter((h) => h.startsWith('x-amz-checksum'))).toEqual(['x-amz-checksum-sha256'])
        expect(part.headers['x-amz-trailer']).toBeUndefined()
        expect(part.headers['content-encoding'] ?? '').not.toMatch(/aws-chunked/)
        expect(Number(part.headers['content-length'])).toBe(sliceOf(m, data, partNumber(part)).length)
      }
      expect(sent.complete).toHaveLength(1)
      const xml = sent.complete[0].body
      for (let n = 1; n <= 3; n++) {
        expect(xml).toMatch(new RegExp(`<Part>(?=.*?<PartNumber>${n}</PartNumber>)(?=.*?<ChecksumSHA256>${base64(sha256(sliceOf(m, data, n))).replace(/[+/]/g, '\\$&')}</ChecksumSHA256>).*?</Part>`))
      }
      expect(sha256(await committed(host, m.id))).toBe(sha256(data))
    }, 120_000)

    test('a chunk without a digest on an upload created with SHA256 is refused with a 400 naming the parameter; nothing is stored for it', async () => {
      const data = bytes(3 * PART + 99, 32)
      const m = manifestFor(data, {}, PART)
      const from = proxy.sent().length
      await host.staging.writeChunk(m, { ...chunkOf(m, data, 1), sha256: sha256(sliceOf(m, data, 1)) }, CREATE)
      const refused = host.staging.writeChunk(m, chunkOf(m, data, 2), CREATE)
      await expect(refused).rejects.toBeInstanceOf(InvalidRequest)
      await expect(host.staging.writeChunk(m, chunkOf(m, data, 2), CREATE)).rejects.toMatchObject({
        status: 400,
        message: expect.stringContaining('resumableChunkSha256'),
      })
      expect(await host.staging.chunkState(m.id, 2)).toBe('missing')
      const key = await objectKeyOf(host, m.id)
      expect(requestsFor(key, from).parts.map(partNumber)).toEqual([1])

      // The same chunk with its digest goes through, and the upload completes with the right bytes.
      await host.staging.writeChunk(m, { ...chunkOf(m, data, 2), sha256: sha256(sliceOf(m, data, 2)) }, CREATE)
      expect((await host.staging.writeChunk(m, { ...chunkOf(m, data, 3), sha256: sha256(sliceOf(m, data, 3)) }, CREATE)).complete).toBe(true)
      expect(sha256(await committed(host, m.id))).toBe(sha256(data))
    }, 120_000)

    test('a plain client (no digests) sends no checksum algorithm, no part checksum, none in the completion', async () => {
      const data = bytes(3 * PART + 7, 33)
      const m = manifestFor(data, {}, PART)
      const from = proxy.sent().length
      for (let n = 1; n <= m.chunkCount; n++) await host.staging.writeChunk(m, chunkOf(m, data, n), CREATE)
      const sent = requestsFor(await objectKeyOf(host, m.id), from)
      expect(sent.create).toHaveLength(1)
      expect(sent.create[0].headers['x-amz-checksum-algorithm']).toBeUndefined()
      expect(sent.parts).toHaveLength(3)
      for (const part of sent.parts) expect(Object.keys(part.headers).filter((h) => h.startsWith('x-amz-checksum'))).toEqual([])
      expect(sent.complete).toHaveLength(1)
      expect(sent.complete[0].body).toContain('<ETag>')
      expect(sent.complete[0].body).not.toContain('Checksum')
      expect(sha256(await committed(host, m.id))).toBe(sha256(data))
    }, 120_000)
  })
}
