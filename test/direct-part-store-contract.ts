/**
 * The contract of DirectPartStore (src/store/s3/direct-parts.ts), the store's side of direct
 * uploads: parts go from "the browser" (here a plain HTTP PUT to a presigned URL, as the browser
 * sends it) straight to the S3 server, and two app hosts on one database and bucket start, record,
 * list and complete. Run against each S3 server that can carry it (s3rver; fauxqs, which also
 * checks the ETags on CompleteMultipartUpload), on SQLite and PostgreSQL.
 */
import { afterEach, describe, expect, test } from '@jest/globals'
import { InvalidRequest, TooManyUploads, UploadExpired } from '../src/errors.js'
import type { S3Storage } from '../src/store/s3/index.js'
import { PartSigner } from '../src/store/s3/part-signer.js'
import { MiB } from '../src/store/s3-part-limits.js'
import type { UploadManifest } from '../src/store/types.js'
import { manifestFor, readAll, sliceOf } from './staging-contract.js'
import { bytes, sha256 } from './support/resumable-client.js'
import { rawPut } from './support/raw-put.js'
import { countCommands, openHosts, type Dialect } from './support/s3-storage.js'
import type { S3Server } from './support/s3rver.js'

export interface DirectServerUnderTest {
  name: string
  server: () => S3Server
  /** The server refuses a CompleteMultipartUpload naming an ETag it does not hold (InvalidPart). */
  checksEtags: boolean
}

/** Parts of 5 MiB (the smallest S3 takes but for the last), three of them, the last a little longer. */
const CHUNK = 5 * MiB
const data = bytes(3 * CHUNK + 4321, 11)

/** What the browser does for part n: PUT the bytes to the URL the app signed, read the ETag. */
async function browserPut(host: S3Storage, m: UploadManifest, n: number, body?: Buffer): Promise<string> {
  const target = await host.direct.start(m)
  const signer = new PartSigner(host.clients, host.staging.deps.where)
  const slice = sliceOf(m, data, n)
  const signed = await signer.sign(target, { partNumber: n, length: slice.length })
  const answer = await rawPut(signed.url, body ?? slice, signed.headers)
  if (answer.status !== 200) throw new Error(`PUT of part ${n} answered ${answer.status}: ${answer.body}`)
  return answer.headers.etag as string
}

export function describeDirectPartStore(subject: DirectServerUnderTest, dialects: Dialect[], postgres: string | null): void {
  for (const dialect of dialects) {
    describe(`DirectPartStore (${subject.name}, ${dialect})`, () => {
      let cleanup: () => Promise<void> = async () => undefined
      afterEach(async () => {
        await cleanup()
      })

      async function hosts(count: number): Promise<S3Storage[]> {
        const opened = await openHosts(subject.server(), dialect, postgres, count)
        cleanup = opened.cleanup
        return opened.hosts
      }

      test('start on two hosts at once: one upload, one CreateMultipartUpload, the same target for both', async () => {
        const [a, b] = await hosts(2)
        const calls = [countCommands(a), countCommands(b)]
        const m = manifestFor(data, {}, CHUNK)
        const [ta, tb] = await Promise.all([a.direct.start(m), b.direct.start(m)])
        expect(ta).toEqual(tb)
        expect(ta.key.startsWith(a.staging.deps.keys.stagingPrefix)).toBe(true)
        expect(calls.reduce((sum, c) => sum + (c.get('CreateMultipartUploadCommand') ?? 0), 0)).toBe(1)
        expect(await a.staging.state(m.id)).toBe('partial')
      })

      test("the owner's limits apply before anything can be signed", async () => {
        const [a] = await hosts(1)
        const first = manifestFor(data, {}, CHUNK)
        await a.direct.start(first, { uploads: 1 })
        await expect(a.direct.start(manifestFor(data, {}, CHUNK), { uploads: 1 })).rejects.toBeInstanceOf(TooManyUploads)
        await expect(a.direct.start(manifestFor(data, { owner: 'other' }, CHUNK), { bytes: data.length - 1 })).rejects.toBeInstanceOf(TooManyUploads)
        // The upload that exists is never refused by its own limit.
        await expect(a.direct.start(first, { uploads: 1 })).resolves.toBeDefined()
      })

      test('ETags reported on one host are held on the other; completion once, with those ETags; the first bytes by a ranged GET', async () => {
        const [a, b] = await hosts(2)
        const calls = [countCommands(a), countCommands(b)]
        const m = manifestFor(data, {}, CHUNK)
        await a.direct.recordPart(m.id, 1, 'x').then(() => null, (e: unknown) => expect(e).toBeInstanceOf(UploadExpired))
        for (const n of [3, 1]) await a.direct.recordPart(m.id, n, await browserPut(a, m, n))
        expect((await b.direct.heldParts(m.id)).map((p) => [p.partNumber, p.size])).toEqual([[1, CHUNK], [3, CHUNK + 4321]])
        expect(await b.direct.complete(m.id)).toEqual({ complete: false, resend: [2] })
        await b.direct.recordPart(m.id, 2, await browserPut(b, m, 2))
        const outcomes = await Promise.all([a.direct.complete(m.id), b.direct.complete(m.id)])
        expect(outcomes).toEqual([{ complete: true }, { complete: true }])
        expect(calls.reduce((sum, c) => sum + (c.get('CompleteMultipartUploadCommand') ?? 0), 0)).toBe(1)
        expect(await a.staging.state(m.id)).toBe('complete')
        expect(await b.direct.head(m.id, 64)).toEqual(data.subarray(0, 64))
        // A late report after completion (a retried request) changes nothing.
        const before = await a.direct.heldParts(m.id)
        await a.direct.recordPart(m.id, 2, '"ffffffffffffffffffffffffffffffff"')
        expect(await b.direct.heldParts(m.id)).toEqual(before)
        expect(await b.direct.head(m.id, 10 * CHUNK)).toHaveLength(data.length)
        const finished = (await a.staging.finished(m.id))!
        expect(sha256(await readAll(finished.read()))).toBe(sha256(data))
        // Once complete, the staging store's removal is the usual one.
        await a.staging.remove(m.id)
        await expect(b.direct.heldParts(m.id)).rejects.toBeInstanceOf(UploadExpired)
      })

      test('a part sent again replaces its ETag; bad reports are refused and change nothing', async () => {
        const [a] = await hosts(1)
        const m = manifestFor(data, {}, CHUNK)
        const first = await browserPut(a, m, 1)
        await a.direct.recordPart(m.id, 1, first)
        const again = await browserPut(a, m, 1)
        await a.direct.recordPart(m.id, 1, again)
        expect(await a.direct.heldParts(m.id)).toEqual([{ partNumber: 1, etag: again, size: CHUNK }])
        await expect(a.direct.recordPart(m.id, 0, first)).rejects.toBeInstanceOf(InvalidRequest)
        await expect(a.direct.recordPart(m.id, 4, first)).rejects.toThrow(/outside 1\.\.3/)
        await expect(a.direct.recordPart(m.id, 2, '')).rejects.toBeInstanceOf(InvalidRequest)
        await expect(a.direct.recordPart(m.id, 2, 'a\nb')).rejects.toBeInstanceOf(InvalidRequest)
        await expect(a.direct.recordPart('not an id', 1, first)).rejects.toBeInstanceOf(InvalidRequest)
        await expect(a.direct.head(m.id, 10)).rejects.toThrow(/not complete/)
        expect((await a.direct.heldParts(m.id)).map((p) => p.partNumber)).toEqual([1])
      })

      test('a report of several parts is recorded together; one bad part in it records none of it', async () => {
        const [a, b] = await hosts(2)
        const m = manifestFor(data, {}, CHUNK)
        const [e1, e3] = [await browserPut(a, m, 1), await browserPut(a, m, 3)]
        await expect(a.direct.recordParts(m.id, [{ partNumber: 1, etag: e1 }, { partNumber: 4, etag: e1 }])).rejects.toThrow(/outside 1\.\.3/)
        await expect(a.direct.recordParts(m.id, [{ partNumber: 1, etag: e1 }, { partNumber: 3, etag: 'a\nb' }])).rejects.toBeInstanceOf(InvalidRequest)
        expect(await b.direct.heldParts(m.id)).toEqual([])
        expect(await a.direct.recordParts(m.id, [{ partNumber: 3, etag: e3 }, { partNumber: 1, etag: '"stale"' }, { partNumber: 1, etag: e1 }])).toEqual([3, 1])
        expect(await b.direct.heldParts(m.id)).toEqual([{ partNumber: 1, etag: e1, size: CHUNK }, { partNumber: 3, etag: e3, size: CHUNK + 4321 }])
        // A report of parts held already replaces their ETags in the same way.
        const again = await browserPut(b, m, 1)
        await b.direct.recordParts(m.id, [{ partNumber: 1, etag: again }, { partNumber: 2, etag: await browserPut(b, m, 2) }])
        expect((await a.direct.heldParts(m.id)).map((p) => [p.partNumber, p.etag === again])).toEqual([[1, true], [2, false], [3, false]])
        expect(await a.direct.complete(m.id)).toEqual({ complete: true })
      })

      test('with SHA256, a report of several parts records those signed with a digest, each with its own', async () => {
        const [a] = await hosts(1)
        const m = manifestFor(data, {}, CHUNK)
        await a.direct.start(m, undefined, 'SHA256')
        await a.direct.rememberDigests(m.id, [{ partNumber: 1, sha256: '1'.repeat(64) }, { partNumber: 3, sha256: '3'.repeat(64) }])
        const etag = '"0123456789abcdef0123456789abcdef"'
        expect(await a.direct.recordParts(m.id, [1, 2, 3].map((partNumber) => ({ partNumber, etag })))).toEqual([1, 3])
        expect((await a.direct.heldParts(m.id, { confirm: false })).map((p) => [p.partNumber, p.sha256])).toEqual([[1, '1'.repeat(64)], [3, '3'.repeat(64)]])
      })

      test('with SHA256: the digest each part was signed with is kept with its report and named again in the completion; a part never signed with one is not recorded', async () => {
        const [a, b] = await hosts(2)
        const m = manifestFor(data, {}, CHUNK)
        const digest = (n: number) => sha256(sliceOf(m, data, n))
        const target = await a.direct.start(m, undefined, 'SHA256')
        expect(target.partChecksum).toBe('SHA256')
        // Whoever asks later gets the upload as it was created.
        expect(await b.direct.start(m)).toEqual(target)
        expect(await a.direct.recordPart(m.id, 1, '"0123456789abcdef0123456789abcdef"')).toBe(false)
        expect(await a.direct.heldParts(m.id)).toEqual([])
        await a.direct.rememberDigests(m.id, [1, 2, 3].map((n) => ({ partNumber: n, sha256: digest(n) })))
        // Signed is not held.
        expect(await b.direct.heldParts(m.id)).toEqual([])
        const signer = new PartSigner(a.clients, a.staging.deps.where)
        for (const n of [1, 2, 3]) {
          const slice = sliceOf(m, data, n)
          const signed = await signer.sign(target, { partNumber: n, length: slice.length, sha256: digest(n) })
          expect(signed.headers['x-amz-checksum-sha256']).toBe(Buffer.from(digest(n), 'hex').toString('base64'))
          const answer = await rawPut(signed.url, slice, signed.headers)
          expect(answer.status).toBe(200)
          expect(await b.direct.recordPart(m.id, n, answer.headers.etag as string)).toBe(true)
        }
        expect((await a.direct.heldParts(m.id)).map((p) => p.sha256)).toEqual([1, 2, 3].map(digest))
        // Signing part 2 again with another digest takes it back until its new bytes are reported.
        await a.direct.rememberDigests(m.id, [{ partNumber: 2, sha256: '0'.repeat(64) }])
        expect((await a.direct.heldParts(m.id)).map((p) => p.partNumber)).toEqual([1, 3])
        await a.direct.rememberDigests(m.id, [{ partNumber: 2, sha256: digest(2) }])
        const slice = sliceOf(m, data, 2)
        const resigned = await signer.sign(target, { partNumber: 2, length: slice.length, sha256: digest(2) })
        expect(await a.direct.recordPart(m.id, 2, (await rawPut(resigned.url, slice, resigned.headers)).headers.etag as string)).toBe(true)
        const completions: unknown[] = []
        b.clients.client.middlewareStack.add((next, context) => async (args) => {
          if (context.commandName === 'CompleteMultipartUploadCommand') completions.push(args.input)
          return next(args)
        }, { step: 'initialize', name: 'capture-completion' })
        expect(await b.direct.complete(m.id)).toEqual({ complete: true })
        const parts = (completions[0] as { MultipartUpload: { Parts: Array<{ PartNumber: number; ChecksumSHA256?: string }> } }).MultipartUpload.Parts
        expect(parts.map((p) => [p.PartNumber, p.ChecksumSHA256])).toEqual([1, 2, 3].map((n) => [n, Buffer.from(digest(n), 'hex').toString('base64')]))
        expect(sha256(await readAll((await a.staging.finished(m.id))!.read()))).toBe(sha256(data))
      })

      test('a cancelled upload: reports and completion answer 410, nothing is signed for it any more', async () => {
        const [a, b] = await hosts(2)
        const m = manifestFor(data, {}, CHUNK)
        const etag = await browserPut(a, m, 1)
        await a.staging.remove(m.id)
        await expect(b.direct.recordPart(m.id, 1, etag)).rejects.toBeInstanceOf(UploadExpired)
        await expect(b.direct.complete(m.id)).rejects.toBeInstanceOf(UploadExpired)
        await expect(b.direct.heldParts(m.id)).rejects.toBeInstanceOf(UploadExpired)
      })

      if (subject.checksEtags) {
        test('a wrong ETag recorded: the bucket refuses the completion, the parts are forgotten and named for resending, and the upload then completes', async () => {
          const [a, b] = await hosts(2)
          const m = manifestFor(data, {}, CHUNK)
          for (const n of [1, 2, 3]) await a.direct.recordPart(m.id, n, n === 2 ? '"0123456789abcdef0123456789abcdef"' : await browserPut(a, m, n))
          const outcome = await b.direct.complete(m.id)
          expect(outcome.complete).toBe(false)
          // Without ListParts the bucket cannot say which part was wrong: every part is sent again.
          const resend = outcome.complete ? [] : outcome.resend
          expect(resend).toContain(2)
          expect(await a.staging.state(m.id)).toBe('partial')
          for (const n of resend) await b.direct.recordPart(m.id, n, await browserPut(b, m, n))
          expect(await a.direct.complete(m.id)).toEqual({ complete: true })
          expect(sha256(await readAll((await a.staging.finished(m.id))!.read()))).toBe(sha256(data))
        })
      }
    })
  }
}
