/**
 * The object store failing under the S3 staging store: s3rver behind a real HTTP proxy that refuses
 * chosen requests with 500/503/403, and s3rver itself stopped and restarted mid-upload (it keeps its
 * directory). A refused or failed part is never marked; the retry goes through; the file ends
 * byte-identical. On SQLite and PostgreSQL.
 */
import type http from 'node:http'
import { afterAll, afterEach, beforeAll, describe, expect, test } from '@jest/globals'
import { StorageFailure, StorageUnavailable, UploadExpired } from '../src/errors.js'
import type { S3Storage } from '../src/store/s3/index.js'
import { chunkOf, manifestFor, readAll } from './staging-contract.js'
import { bytes, sha256 } from './support/resumable-client.js'
import { startFaultProxy, type FaultProxy } from './support/s3-fault-proxy.js'
import { openSubject, type Dialect } from './support/s3-storage.js'
import { s3rverInstalled, startS3rver, type S3Server } from './support/s3rver.js'
import { freshPostgresDatabase } from './support/services.js'

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

const isUploadPart = (req: http.IncomingMessage) => req.method === 'PUT' && /[?&]partNumber=/.test(req.url ?? '')
const isComplete = (req: http.IncomingMessage) => req.method === 'POST' && /[?&]uploadId=/.test(req.url ?? '')

async function committed(host: S3Storage, id: string): Promise<Buffer> {
  const finished = (await host.staging.finished(id))!
  if (!(await host.files.place(finished, `faults/${id}`))) throw new Error(`faults/${id} is taken`)
  return readAll(host.files.read(`faults/${id}`))
}

const suite = installed ? describe : describe.skip

for (const dialect of dialects) {
  suite(`S3 staging when the object store fails (s3rver, ${dialect})`, () => {
    let host: S3Storage
    let cleanup: () => Promise<void> = async () => undefined
    afterEach(async () => {
      await cleanup()
    })

    async function open(through: 'proxy' | 'direct'): Promise<S3Storage> {
      const endpoint = through === 'proxy' ? proxy.endpoint : server.endpoint
      const subject = await openSubject(server, dialect, postgres, { client: { ...server.config, endpoint } })
      cleanup = subject.cleanup
      host = subject.storage
      return host
    }

    test.each([
      [503, 'SlowDown'],
      [500, 'InternalError'],
    ])('UploadPart refused with %i %s: retryable StorageUnavailable, nothing marked, the retry stores the part', async (status, code) => {
      await open('proxy')
      const data = bytes(3 * 1024 + 7, status)
      const m = await host.staging.open(manifestFor(data))
      await host.staging.writeChunk(m, chunkOf(m, data, 1))
      proxy.refuse({ match: isUploadPart, status, code, times: 1 })
      const error = await host.staging.writeChunk(m, chunkOf(m, data, 2)).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(StorageUnavailable)
      expect((error as StorageUnavailable).status).toBe(503)
      expect((error as StorageUnavailable).retryAfter).toBeGreaterThan(0)
      expect(await host.staging.chunkState(m.id, 2)).toBe('missing')
      expect(await host.staging.writeChunk(m, chunkOf(m, data, 2))).toEqual({ complete: false, written: true })
      expect(await host.staging.writeChunk(m, chunkOf(m, data, 3))).toEqual({ complete: true, written: true })
      expect(sha256(await committed(host, m.id))).toBe(sha256(data))
    })

    test('UploadPart refused with 403 AccessDenied: StorageFailure (an operator must fix it), nothing marked', async () => {
      await open('proxy')
      const data = bytes(2 * 1024, 9)
      const m = await host.staging.open(manifestFor(data))
      proxy.refuse({ match: isUploadPart, status: 403, code: 'AccessDenied', times: 1 })
      await expect(host.staging.writeChunk(m, chunkOf(m, data, 1))).rejects.toBeInstanceOf(StorageFailure)
      expect(await host.staging.chunkState(m.id, 1)).toBe('missing')
    })

    test('the multipart upload gone from the object store (404 NoSuchUpload, e.g. a lifecycle rule): the upload expires (410) instead of failing for ever', async () => {
      await open('proxy')
      const data = bytes(2 * 1024, 13)
      const m = await host.staging.open(manifestFor(data))
      await host.staging.writeChunk(m, chunkOf(m, data, 1))
      proxy.refuse({ match: isUploadPart, status: 404, code: 'NoSuchUpload', times: 1 })
      await expect(host.staging.writeChunk(m, chunkOf(m, data, 2))).rejects.toBeInstanceOf(UploadExpired)
      expect(await host.staging.state(m.id)).toBe('expired')
      await expect(host.staging.open(m)).rejects.toBeInstanceOf(UploadExpired)
    })

    test('CompleteMultipartUpload refused with 503: the last chunk is held but the answer is retryable; its retry completes', async () => {
      await open('proxy')
      const data = bytes(2 * 1024 + 3, 10)
      const m = await host.staging.open(manifestFor(data))
      await host.staging.writeChunk(m, chunkOf(m, data, 1))
      // Three refusals: the SDK's own retries of the (repeatable) Complete request are refused too.
      proxy.refuse({ match: isComplete, status: 503, code: 'SlowDown', times: 3 })
      await expect(host.staging.writeChunk(m, chunkOf(m, data, 2))).rejects.toBeInstanceOf(StorageUnavailable)
      expect(await host.staging.state(m.id)).toBe('partial')
      expect(await host.staging.chunkState(m.id, 2)).toBe('held')
      expect(await host.staging.writeChunk(m, chunkOf(m, data, 2))).toEqual({ complete: true, written: false })
      expect(sha256(await committed(host, m.id))).toBe(sha256(data))
    })

    test('s3rver stopped mid-upload: StorageUnavailable and nothing marked; restarted, the upload resumes and ends byte-identical', async () => {
      await open('direct')
      const data = bytes(4 * 1024 + 11, 11)
      const m = await host.staging.open(manifestFor(data))
      await host.staging.writeChunk(m, chunkOf(m, data, 1))
      await server.restart()
      expect(await host.staging.writeChunk(m, chunkOf(m, data, 2))).toEqual({ complete: false, written: true })
      await server.stop()
      try {
        await expect(host.staging.writeChunk(m, chunkOf(m, data, 3))).rejects.toBeInstanceOf(StorageUnavailable)
        expect(await host.staging.chunkState(m.id, 3)).toBe('missing')
      } finally {
        await server.start()
      }
      expect(await host.staging.writeChunk(m, chunkOf(m, data, 3))).toEqual({ complete: false, written: true })
      expect(await host.staging.writeChunk(m, chunkOf(m, data, 4))).toEqual({ complete: true, written: true })
      expect(sha256(await committed(host, m.id))).toBe(sha256(data))
    })
  })
}
