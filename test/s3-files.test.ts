/**
 * Finished files on S3 (real s3rver): the server-side copy into place, stat, Range reads, delete and
 * presigned GET URLs; the multipart-copy path above the CopyObject limit, which s3rver cannot do
 * (no UploadPartCopy), with a lowered threshold: it fails cleanly and leaves nothing half-made.
 */
import { Readable } from 'node:stream'
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import { InvalidRequest, StorageFailure } from '../src/errors.js'
import { createS3Clients, type S3Clients } from '../src/store/s3/client.js'
import { copyRanges, COPY_PART_SIZE } from '../src/store/s3/copy.js'
import { objectStream, S3Files, statObject } from '../src/store/s3/files.js'
import type { FinishedUpload } from '../src/store/staging.js'
import { S3Keys } from '../src/store/s3/keys.js'
import { MiB } from '../src/store/s3-part-limits.js'
import { manifestFor, readAll } from './staging-contract.js'
import { bytes, sha256 } from './support/resumable-client.js'
import { s3rverInstalled, startS3rver, type S3Server } from './support/s3rver.js'

describe('copyRanges (multipart copy plan)', () => {
  test('covers every byte once, in order, in parts of the given size, the last one the remainder', () => {
    expect(copyRanges(10, 4)).toEqual([
      { partNumber: 1, start: 0, end: 3 },
      { partNumber: 2, start: 4, end: 7 },
      { partNumber: 3, start: 8, end: 9 },
    ])
    expect(copyRanges(8, 4)).toEqual([
      { partNumber: 1, start: 0, end: 3 },
      { partNumber: 2, start: 4, end: 7 },
    ])
    const size = 5 * 1024 * 1024 * 1024 + 1
    const ranges = copyRanges(size)
    expect(ranges).toHaveLength(Math.ceil(size / COPY_PART_SIZE))
    expect(ranges.at(-1)!.end).toBe(size - 1)
    for (let i = 1; i < ranges.length; i++) expect(ranges[i].start).toBe(ranges[i - 1].end + 1)
  })

  test('refuses an empty copy and one that needs more than 10,000 parts', () => {
    expect(() => copyRanges(0)).toThrow(RangeError)
    expect(() => copyRanges(10_001, 1)).toThrow(/10,000/)
  })
})

const installed = s3rverInstalled()
const suite = installed ? describe : describe.skip

suite('S3Files on s3rver', () => {
  let server: S3Server
  let s3: S3Clients
  const where = { bucket: '', prefix: 'files-test/' }
  const keys = new S3Keys('files-test/')
  let files: S3Files
  const data = bytes(6 * MiB + 321, 1)
  const stagingKey = 'files-test/staging/0000000000000000000000000000000000000000/abc'

  beforeAll(async () => {
    server = (await startS3rver())!
    where.bucket = server.bucket
    s3 = await createS3Clients(server.config)
    files = new S3Files(s3, where, keys)
    await s3.client.send(new s3.sdk.PutObjectCommand({ Bucket: server.bucket, Key: stagingKey, Body: data, ContentLength: data.length }))
  })
  /** The staged object as S3Staging hands a finished upload over. */
  const stagedUpload = (size: number, type: string): FinishedUpload => ({
    manifest: { ...manifestFor(data), totalSize: size, type },
    size,
    location: { kind: 's3-object', bucket: where.bucket, key: stagingKey },
    read: () => objectStream(s3, where, stagingKey),
  })

  afterAll(async () => {
    s3?.client.destroy()
    s3?.streaming.destroy()
    await server?.destroy()
  })

  test('place copies the staged object under its key byte-exact (CopyObject), and keeps the staged one', async () => {
    const key = 'documents/7/report é + 1.pdf'
    expect(await files.stat(key)).toBeNull()
    await files.place(stagedUpload(data.length, 'application/pdf'), key)
    const stat = await files.stat(key)
    expect(stat).toMatchObject({ size: data.length })
    expect(Number.isFinite(stat!.modifiedAt.getTime())).toBe(true)
    expect(sha256(await readAll(files.read(key)))).toBe(sha256(data))
    expect(await statObject(s3, where, stagingKey)).toMatchObject({ size: data.length })
    const head = await s3.client.send(new s3.sdk.HeadObjectCommand({ Bucket: server.bucket, Key: `files-test/${key}` }))
    expect(head.ContentType).toBe('application/pdf')
  })

  test('read serves inclusive ranges: first byte, across the 5 MiB mark, last byte, whole file', async () => {
    const key = 'ranges/a.bin'
    await files.place(stagedUpload(data.length, 'application/octet-stream'), key)
    for (const [start, end] of [[0, 0], [5 * MiB - 10, 5 * MiB + 10], [data.length - 1, data.length - 1], [0, data.length - 1]]) {
      const got = await readAll(files.read(key, { start, end }))
      expect(got.equals(data.subarray(start, end + 1))).toBe(true)
    }
    // open() gives the object store's stream as it arrives, not a buffered copy.
    const stream = await files.open(key, { start: 1, end: 2 })
    expect(stream).toBeInstanceOf(Readable)
    expect((await readAll(stream)).equals(data.subarray(1, 3))).toBe(true)
  })

  test('reading a missing file fails the stream; delete removes a file and is a no-op for a missing one', async () => {
    await expect(readAll(files.read('never/there.bin'))).rejects.toBeTruthy()
    const key = 'gone/b.bin'
    await files.place(stagedUpload(data.length, 'application/octet-stream'), key)
    await files.delete(key)
    expect(await files.stat(key)).toBeNull()
    await files.delete(key)
  })

  test('keys are checked: no climbing out, no reaching into staging', async () => {
    for (const key of ['../x', 'a//b', '/abs', 'a\\b', '', 'staging/x', 'staging']) {
      await expect(files.stat(key)).rejects.toBeInstanceOf(InvalidRequest)
      expect(() => files.read(key)).toThrow(InvalidRequest)
      await expect(files.place(stagedUpload(data.length, 'x/y'), key)).rejects.toBeInstanceOf(InvalidRequest)
    }
  })

  test('a presigned GET URL serves the file (and Range) to a plain HTTP client, with the download name', async () => {
    const key = 'presigned/c.bin'
    await files.place(stagedUpload(data.length, 'application/octet-stream'), key)
    const url = await files.presignedGet(key, { expiresIn: 60, filename: 'Bericht März.bin', contentType: 'application/x-test' })
    expect(url).toContain('X-Amz-Expires=60')
    const whole = await fetch(url)
    expect(whole.status).toBe(200)
    expect(whole.headers.get('content-type')).toBe('application/x-test')
    expect(whole.headers.get('content-disposition')).toBe(`attachment; filename="Bericht M_rz.bin"; filename*=UTF-8''Bericht%20M%C3%A4rz.bin`)
    expect(sha256(Buffer.from(await whole.arrayBuffer()))).toBe(sha256(data))
    const part = await fetch(url, { headers: { Range: 'bytes=100-199' } })
    expect(part.status).toBe(206)
    expect(Buffer.from(await part.arrayBuffer()).equals(data.subarray(100, 200))).toBe(true)
  })

  test('above the CopyObject limit the copy is multipart (UploadPartCopy); s3rver has none: StorageFailure, nothing at the key, staged object intact', async () => {
    const lowered = new S3Files(s3, where, keys, { copy: { multipartFrom: 5 * MiB, partSize: 5 * MiB } })
    const key = 'big/d.bin'
    const error = await lowered.place(stagedUpload(data.length, 'application/octet-stream'), key).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(StorageFailure)
    expect(String((error as Error).message)).toMatch(/UploadPartCopy/)
    expect(await files.stat(key)).toBeNull()
    expect(await statObject(s3, where, stagingKey)).toMatchObject({ size: data.length })
    // Below the lowered threshold the same store copies with CopyObject.
    await lowered.place(stagedUpload(5 * MiB - 1, 'application/octet-stream'), 'big/small.bin')
    expect((await files.stat('big/small.bin'))!.size).toBe(data.length)
  })
})
