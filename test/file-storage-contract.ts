/**
 * The contract every FileStorage meets (see src/store/file-storage.ts), as a reusable suite: a new
 * backend runs `describeFileStorage('S3FileStorage', makeS3Files)` with a way to produce finished
 * uploads of its own staging store, and gets the same guarantees checked. A finished upload of an
 * unknown kind (only `read()`) is placed too, so any staging store works with any file storage.
 */
import { Readable } from 'node:stream'
import { afterEach, beforeEach, describe, expect, test } from '@jest/globals'
import { InvalidRequest } from '../src/errors.js'
import type { FileStorage } from '../src/store/file-storage.js'
import type { FinishedUpload } from '../src/store/staging.js'
import { bytes, sha256 } from './support/resumable-client.js'
import { manifestFor, newId, readAll } from './staging-contract.js'

export interface FilesUnderTest {
  files: FileStorage
  /** A finished upload of `data` from the staging store of the same backend. */
  finishedUpload(data: Buffer): Promise<FinishedUpload>
  /** Removes everything the storage created. */
  cleanup(): Promise<void>
}

/** A finished upload that only offers its bytes as a stream (as from a staging store of another kind). */
export function streamedUpload(data: Buffer): FinishedUpload {
  return { manifest: manifestFor(data), size: data.length, location: { kind: 'test-stream' }, read: () => Readable.from([data]) }
}

export function describeFileStorage(name: string, make: () => Promise<FilesUnderTest>): void {
  describe(`FileStorage contract: ${name}`, () => {
    let subject: FilesUnderTest
    let files: FileStorage
    const stored = async (key: string) => readAll(files.read(key))

    beforeEach(async () => {
      subject = await make()
      files = subject.files
      await files.init()
    })
    afterEach(async () => {
      await subject.cleanup()
    })

    test('place puts the whole file under its key; stat and read see it', async () => {
      const data = bytes(4 * 1024 + 5, 80)
      const key = `contract/${newId()}/a.bin`
      expect(await files.stat(key)).toBeNull()
      expect(await files.place(await subject.finishedUpload(data), key)).toBe(true)
      const info = await files.stat(key)
      expect(info).toMatchObject({ size: data.length })
      expect(Number.isFinite(info!.modifiedAt.getTime())).toBe(true)
      expect(sha256(await stored(key))).toBe(sha256(data))
    })

    test('one finished upload can be placed under two keys (it stays staged until removed)', async () => {
      const data = bytes(3000, 81)
      const upload = await subject.finishedUpload(data)
      const [a, b] = [`contract/${newId()}/a.bin`, `contract/${newId()}/b.bin`]
      expect(await files.place(upload, a)).toBe(true)
      expect(await files.place(upload, b)).toBe(true)
      expect(sha256(await stored(a))).toBe(sha256(data))
      expect(sha256(await stored(b))).toBe(sha256(data))
    })

    test('a finished upload of an unknown kind is placed from its stream', async () => {
      const data = bytes(5000, 82)
      const key = `contract/${newId()}/streamed.bin`
      expect(await files.place(streamedUpload(data), key)).toBe(true)
      expect(sha256(await stored(key))).toBe(sha256(data))
    })

    test('place never replaces: over an existing key it answers false and the old bytes stay', async () => {
      const first = bytes(5000, 83)
      const second = bytes(2001, 84)
      const key = `contract/${newId()}/same.bin`
      expect(await files.place(await subject.finishedUpload(first), key)).toBe(true)
      expect(await files.place(await subject.finishedUpload(second), key)).toBe(false)
      expect(await files.place(streamedUpload(second), key)).toBe(false)
      expect(await files.stat(key)).toMatchObject({ size: first.length })
      expect(sha256(await stored(key))).toBe(sha256(first))
    })

    test('two places onto one free key at once: exactly one wins, and the key holds its bytes whole', async () => {
      const key = `contract/${newId()}/race.bin`
      const sources = [bytes(4000, 88), bytes(3000, 89), bytes(2000, 90)]
      const uploads = [await subject.finishedUpload(sources[0]), await subject.finishedUpload(sources[1]), streamedUpload(sources[2])]
      const results = await Promise.all(uploads.map((u) => files.place(u, key)))
      expect(results.filter(Boolean)).toHaveLength(1)
      expect(sha256(await stored(key))).toBe(sha256(sources[results.indexOf(true)]))
    })

    test('read serves an inclusive byte range', async () => {
      const data = bytes(3000, 85)
      const key = `contract/${newId()}/range.bin`
      await files.place(await subject.finishedUpload(data), key)
      expect((await readAll(files.read(key, { start: 10, end: 19 }))).equals(data.subarray(10, 20))).toBe(true)
      expect((await readAll(files.read(key, { start: data.length - 1, end: data.length - 1 }))).equals(data.subarray(-1))).toBe(true)
    })

    test('delete removes the file, and is a no-op for a missing one', async () => {
      const key = `contract/${newId()}/gone.bin`
      await files.place(await subject.finishedUpload(bytes(100, 86)), key)
      await files.delete(key)
      expect(await files.stat(key)).toBeNull()
      await files.delete(key)
      await files.delete(`contract/${newId()}/never.bin`)
    })

    test.each([
      ['../escape.bin'],
      ['contract/../../escape.bin'],
      ['/etc/passwd'],
      ['contract\\..\\escape.bin'],
      [''],
      ['contract//x.bin'],
      ['./x.bin'],
      ['contract/..'],
      ['a\0b'],
    ])('keys that could leave the storage root are refused: %j', async (key) => {
      const upload = await subject.finishedUpload(bytes(100, 87))
      await expect(files.place(upload, key)).rejects.toBeInstanceOf(InvalidRequest)
      await expect(files.stat(key)).rejects.toBeInstanceOf(InvalidRequest)
      await expect(files.delete(key)).rejects.toBeInstanceOf(InvalidRequest)
      expect(() => files.read(key)).toThrow(InvalidRequest)
    })
  })
}
