import { PassThrough, Readable } from 'node:stream'
import { isNotFound, storageError, type S3Clients, type S3Location } from './client.js'
import { serverSideCopy, type CopyOptions } from './copy.js'
import type { S3Keys } from './keys.js'

export interface S3FileStat {
  size: number
  modifiedAt: Date
  etag: string | null
}

export interface PresignOptions {
  /** Seconds the URL stays valid: short, since it is handed out after the access check. */
  expiresIn: number
  /** Sent back as Content-Disposition, so the browser saves the file under its real name. */
  filename?: string
  contentType?: string
}

/**
 * Finished files on S3: placed by a server-side copy from the staged upload, read with Range
 * straight from the object store, deleted, or handed to the browser as a short-lived presigned GET.
 * Keys are record keys (checked); the prefix is added here.
 */
export class S3Files {
  constructor(
    private readonly s3: S3Clients,
    private readonly where: S3Location,
    private readonly keys: S3Keys,
    private readonly copyOptions: CopyOptions = {},
  ) {}

  /**
   * Puts the staged object under `key`. The staged object stays (as on disk, where the staged copy is
   * kept until `remove`): a crash between this and the record update loses nothing, and a second
   * commit of the same upload works.
   */
  async commit(stagingKey: string, key: string, size: number, contentType: string): Promise<void> {
    await serverSideCopy(this.s3, this.where, stagingKey, this.keys.file(key), size, contentType, this.copyOptions)
  }

  async stat(key: string): Promise<S3FileStat | null> {
    return statObject(this.s3, this.where, this.keys.file(key))
  }

  /** The object's bytes (an inclusive range, as HTTP Range has it), streamed from the object store. */
  async open(key: string, range?: { start: number; end: number }): Promise<Readable> {
    const objectKey = this.keys.file(key)
    try {
      const out = await this.s3.client.send(
        new this.s3.sdk.GetObjectCommand({ Bucket: this.where.bucket, Key: objectKey, Range: range ? `bytes=${range.start}-${range.end}` : undefined }),
      )
      const body = out.Body as Readable
      const wanted = range ? range.end - range.start + 1 : null
      return wanted !== null && Number(out.ContentLength) > wanted ? firstBytes(body, wanted) : body
    } catch (error) {
      throw storageError(error, 'reading a file')
    }
  }

  /**
   * Like `open`, but returns the stream at once (as the local store's readFile does): the key is
   * checked synchronously, a failure later arrives as the stream's error.
   */
  read(key: string, range?: { start: number; end: number }): Readable {
    this.keys.file(key)
    const out = new PassThrough()
    this.open(key, range).then(
      (body) => {
        body.on('error', (error) => out.destroy(error))
        body.pipe(out)
      },
      (error: Error) => out.destroy(error),
    )
    return out
  }

  /** Removes the file; a missing one is fine (S3's DeleteObject is idempotent). */
  async delete(key: string): Promise<void> {
    await deleteObject(this.s3, this.where, this.keys.file(key))
  }

  /** A GET URL the browser can follow for `expiresIn` seconds, signed with the store's credentials. */
  async presignedGet(key: string, options: PresignOptions): Promise<string> {
    const objectKey = this.keys.file(key)
    const { getSignedUrl } = await import('@aws-sdk/s3-request-presigner').catch((error: unknown) => {
      throw new Error(`Presigned downloads need the optional peer dependency @aws-sdk/s3-request-presigner: ${String(error)}`)
    })
    const command = new this.s3.sdk.GetObjectCommand({
      Bucket: this.where.bucket,
      Key: objectKey,
      ResponseContentDisposition: options.filename ? contentDisposition(options.filename) : undefined,
      ResponseContentType: options.contentType,
    })
    return getSignedUrl(this.s3.client, command, { expiresIn: options.expiresIn })
  }
}

export async function statObject(s3: S3Clients, where: S3Location, objectKey: string): Promise<S3FileStat | null> {
  try {
    const out = await s3.client.send(new s3.sdk.HeadObjectCommand({ Bucket: where.bucket, Key: objectKey }))
    return { size: Number(out.ContentLength ?? 0), modifiedAt: out.LastModified ?? new Date(0), etag: out.ETag ?? null }
  } catch (error) {
    if (isNotFound(error)) return null
    throw storageError(error, 'looking up a file')
  }
}

export async function deleteObject(s3: S3Clients, where: S3Location, objectKey: string): Promise<void> {
  try {
    await s3.client.send(new s3.sdk.DeleteObjectCommand({ Bucket: where.bucket, Key: objectKey }))
  } catch (error) {
    if (isNotFound(error)) return
    throw storageError(error, 'deleting a file')
  }
}

/**
 * The first `count` bytes of `source`, for servers that answer a range with more than asked (s3rver
 * treats `bytes=0-0` as the whole object): a download must never send more than its Content-Range.
 */
function firstBytes(source: Readable, count: number): Readable {
  let left = count
  const out = new PassThrough()
  source.on('data', (piece: Buffer) => {
    if (left <= 0) return
    const take = piece.length > left ? piece.subarray(0, left) : piece
    left -= take.length
    if (!out.write(take)) source.pause()
    if (left === 0) {
      out.end()
      source.destroy()
    }
  })
  out.on('drain', () => source.resume())
  source.on('end', () => out.end())
  source.on('error', (error) => (left > 0 ? out.destroy(error) : undefined))
  return out
}

/** `attachment` with the name both as plain ASCII and as RFC 5987 UTF-8, for every browser. */
function contentDisposition(filename: string): string {
  const ascii = filename.replace(/[^\x20-\x7e]|["\\]/g, '_')
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(filename)}`
}
