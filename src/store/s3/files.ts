import { randomBytes } from 'node:crypto'
import { PassThrough, Readable } from 'node:stream'
import { StorageFailure } from '../../errors.js'
import type { FileStorage } from '../file-storage.js'
import type { FileKeyTable } from '../shared-state/file-keys.js'
import type { FinishedUpload } from '../staging.js'
import { isNotFound, isPreconditionFailed, refusesCondition, storageError, type S3Clients, type S3Location } from './client.js'
import { COPY_OBJECT_LIMIT, serverSideCopy, type CopyOptions } from './copy.js'
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

export interface S3FilesOptions {
  copy?: CopyOptions
  /**
   * The shared key table: with it, two Saves on any hosts can never both write one key. Without it
   * only the object store's `If-None-Match` guards a copy, which not every S3-compatible server honours.
   */
  claims?: FileKeyTable
  /**
   * How staff download: `presigned` hands out a short-lived GET URL (the bytes go from the object
   * store to the browser), `stream` sends them through the app with Range.
   */
  download?: { mode: 'presigned' | 'stream'; expiresIn: number }
}

/**
 * Finished files on S3. A finished upload staged in the same bucket is placed by a server-side copy
 * (the bytes never pass through the app server); any other kind is streamed in with one PutObject.
 * Files are read with Range straight from the object store, deleted, or handed to the browser as a
 * short-lived presigned GET. Keys are record keys (checked); the prefix is added here.
 */
export class S3Files implements FileStorage {
  private readonly copyOptions: CopyOptions
  private readonly claims: FileKeyTable | null
  readonly download: { mode: 'presigned' | 'stream'; expiresIn: number }

  constructor(
    private readonly s3: S3Clients,
    private readonly where: S3Location,
    private readonly keys: S3Keys,
    options: S3FilesOptions = {},
  ) {
    this.copyOptions = options.copy ?? {}
    this.claims = options.claims ?? null
    this.download = options.download ?? { mode: 'presigned', expiresIn: 60 }
  }

  async init(): Promise<void> {}

  /**
   * Puts the finished upload under `key`, never over an existing file: a key that holds an object,
   * or that another Save claimed first in the shared key table, answers false. The copy itself also
   * carries `If-None-Match: *` where the server honours it. The staged upload stays (the staging
   * store removes it after Save), so a crash between this and the record update loses nothing.
   */
  async place(upload: FinishedUpload, key: string): Promise<boolean> {
    const objectKey = this.keys.file(key)
    if (await statObject(this.s3, this.where, objectKey)) return false
    const claimKey = `${this.where.bucket}/${objectKey}`
    const token = randomBytes(12).toString('hex')
    const exists = async () => (await statObject(this.s3, this.where, objectKey)) !== null
    if (this.claims && !(await this.claims.claim(claimKey, token, Date.now(), exists))) return false
    let written: boolean
    try {
      written = await this.write(upload, objectKey)
    } catch (error) {
      await this.claims?.release(claimKey, token).catch(() => undefined)
      throw error
    }
    if (!written) await this.claims?.release(claimKey, token)
    else await this.claims?.placed(claimKey, token)
    return written
  }

  private async write(upload: FinishedUpload, objectKey: string): Promise<boolean> {
    const { location } = upload
    const type = upload.manifest.type || 'application/octet-stream'
    try {
      if (location.kind === 's3-object' && location.bucket === this.where.bucket && typeof location.key === 'string') {
        await serverSideCopy(this.s3, this.where, location.key, objectKey, upload.size, type, this.copyOptions)
      } else {
        await putStream(this.s3, this.where, objectKey, upload, type)
      }
      return true
    } catch (error) {
      if (isPreconditionFailed(error)) return false
      throw error
    }
  }

  async stat(key: string): Promise<S3FileStat | null> {
    return statObject(this.s3, this.where, this.keys.file(key))
  }

  /** The object's bytes (an inclusive range, as HTTP Range has it), streamed from the object store. */
  async open(key: string, range?: { start: number; end: number }): Promise<Readable> {
    return getObject(this.s3, this.where, this.keys.file(key), range)
  }

  /**
   * Like `open`, but returns the stream at once: the key is checked synchronously, a failure later
   * arrives as the stream's error.
   */
  read(key: string, range?: { start: number; end: number }): Readable {
    return objectStream(this.s3, this.where, this.keys.file(key), range)
  }

  /** Removes the file; a missing one is fine (S3's DeleteObject is idempotent). */
  async delete(key: string): Promise<void> {
    const objectKey = this.keys.file(key)
    await deleteObject(this.s3, this.where, objectKey)
    await this.claims?.forget(`${this.where.bucket}/${objectKey}`)
  }

  /** With `download: presigned`, a short-lived GET URL for the browser; null streams through the app. */
  async downloadUrl(key: string, options: { filename: string; contentType: string }): Promise<string | null> {
    if (this.download.mode !== 'presigned') return null
    return this.presignedGet(key, { expiresIn: this.download.expiresIn, ...options })
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

/**
 * A finished upload of another kind (not in this bucket) streamed in with one PutObject of known
 * length, on the client without retries (a consumed stream cannot be sent again).
 */
async function putStream(s3: S3Clients, where: S3Location, objectKey: string, upload: FinishedUpload, type: string): Promise<void> {
  if (upload.size > COPY_OBJECT_LIMIT) throw new StorageFailure(`A file of ${upload.size} bytes from another staging store cannot be sent in one PutObject (5 GiB at most).`)
  const put = async (conditional: boolean) => {
    // A fresh stream per attempt: a finished upload can be read again.
    const body = upload.read()
    try {
      await s3.streaming.send(new s3.sdk.PutObjectCommand({
        Bucket: where.bucket, Key: objectKey, Body: body, ContentLength: upload.size, ContentType: type,
        IfNoneMatch: conditional ? '*' : undefined,
      }))
    } finally {
      body.destroy()
    }
  }
  try {
    await put(true).catch((error: unknown) => (refusesCondition(error) ? put(false) : Promise.reject(error)))
  } catch (error) {
    throw storageError(error, 'storing the finished upload')
  }
}

async function getObject(s3: S3Clients, where: S3Location, objectKey: string, range?: { start: number; end: number }): Promise<Readable> {
  try {
    const out = await s3.client.send(
      new s3.sdk.GetObjectCommand({ Bucket: where.bucket, Key: objectKey, Range: range ? `bytes=${range.start}-${range.end}` : undefined }),
    )
    const body = out.Body as Readable
    const wanted = range ? range.end - range.start + 1 : null
    return wanted !== null && Number(out.ContentLength) > wanted ? firstBytes(body, wanted) : body
  } catch (error) {
    throw storageError(error, 'reading a file')
  }
}

/** An object's bytes as a stream returned at once; a failure to open it arrives as the stream's error. */
export function objectStream(s3: S3Clients, where: S3Location, objectKey: string, range?: { start: number; end: number }): Readable {
  const out = new PassThrough()
  getObject(s3, where, objectKey, range).then(
    (body) => {
      body.on('error', (error) => out.destroy(error))
      out.on('close', () => body.destroy())
      body.pipe(out)
    },
    (error: Error) => out.destroy(error),
  )
  return out
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
