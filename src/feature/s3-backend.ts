import type { Sequelize } from 'sequelize'
import { ConfigurationError } from '../errors.js'
import { UPLOAD_MODES, type UploadMode } from '../shared/custom.js'
import { deferredBackend } from '../store/deferred.js'
import { s3ChunkSize } from '../store/s3-part-limits.js'
import type { StorageBackend } from '../store/backend.js'

/**
 * The app's Sequelize instance, typed structurally so that the package's types do not require
 * `sequelize` for sites that do not use S3.
 */
export interface SequelizeInstance {
  define(...args: never[]): unknown
  getDialect(): string
}

/** `storage: { s3: ... }`: files in an S3-compatible bucket, upload state in the app's database. */
export interface S3StorageOption {
  bucket: string
  /** Default: the AWS chain (AWS_REGION, the config file). R2 wants `auto`, MinIO any region, e.g. `us-east-1`. */
  region?: string
  /** For S3-compatible servers, e.g. `http://127.0.0.1:9000` (MinIO) or `https://<account>.r2.cloudflarestorage.com`. */
  endpoint?: string
  /** Bucket in the path instead of the host name (MinIO and most self-hosted servers need it). */
  forcePathStyle?: boolean
  /** Key prefix of everything the plugin writes, ending in "/". Default `resumable/`. */
  prefix?: string
  /** Default: the standard AWS credential chain (environment, shared files, instance or task role). */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string }
  /**
   * The app's Sequelize instance: which parts every upload holds, and who completes it, live in
   * tables the plugin creates there, so that any number of app hosts can serve one upload.
   */
  sequelize: SequelizeInstance
  /**
   * How staff download: `presigned` (default) answers with a 302 to a short-lived presigned GET URL,
   * so the bytes go from the bucket straight to the browser; `stream` sends them through the app,
   * with Range, as the local store does (for buckets the browser cannot reach).
   */
  download?: 'presigned' | 'stream'
  /** Seconds a presigned download URL stays valid. Default 60. */
  expiresIn?: number
  /** Prefix of the plugin's table names. Default `resumable_`. */
  tablePrefix?: string
  /**
   * How chunks reach the bucket: `through-app` (default) streams each chunk through the chunk route;
   * `direct` lets the browser PUT each chunk to the bucket under a URL the route signed for exactly
   * that part, so the app hosts carry no file bytes. Direct needs the bucket's CORS to allow the
   * admin's origin (checked at start-up, see `origin`).
   */
  upload?: UploadMode
  /** Direct uploads: seconds a signed part URL stays valid. Default 900 (15 minutes), at most 604800. */
  partUrlSeconds?: number
  /**
   * Direct uploads: the origin the admin pages are served from (e.g. `https://admin.example.com`),
   * which the bucket's CORS must allow; checked at start-up. Default: not named, and the check then
   * accepts a rule for any origin that allows the PUT, its headers and exposes ETag.
   */
  origin?: string
}

function required(value: unknown, name: string, what: string): void {
  if (!value) throw new ConfigurationError(`storage.s3.${name}`, `is required: ${what}`)
}

/**
 * The S3 backend, opened on first use: the AWS SDK (an optional peer dependency) is imported only
 * then, so sites on local disk never load it; its tables are created in the app's database.
 */
export function s3Backend(options: S3StorageOption): StorageBackend {
  required(typeof options.bucket === 'string' && options.bucket, 'bucket', 'the bucket name')
  required(typeof (options.sequelize as { define?: unknown } | undefined)?.define === 'function', 'sequelize', 'the app\'s Sequelize instance (the upload state lives in its database)')
  const mode = options.download ?? 'presigned'
  if (mode !== 'presigned' && mode !== 'stream') throw new ConfigurationError('storage.s3.download', 'must be \'presigned\' or \'stream\'')
  const expiresIn = options.expiresIn ?? 60
  if (!Number.isSafeInteger(expiresIn) || expiresIn < 1 || expiresIn > 604_800) {
    throw new ConfigurationError('storage.s3.expiresIn', 'must be whole seconds between 1 and 604800 (7 days, the longest a presigned URL lives)')
  }
  const upload = options.upload ?? 'through-app'
  if (!UPLOAD_MODES.includes(upload)) throw new ConfigurationError('storage.s3.upload', `must be ${UPLOAD_MODES.map((m) => `'${m}'`).join(' or ')}`)
  const partUrlSeconds = options.partUrlSeconds ?? 900
  if (!Number.isSafeInteger(partUrlSeconds) || partUrlSeconds < 1 || partUrlSeconds > 604_800) {
    throw new ConfigurationError('storage.s3.partUrlSeconds', 'must be whole seconds between 1 and 604800 (7 days, the longest a presigned URL lives)')
  }
  if (options.origin !== undefined && !isOrigin(options.origin)) {
    throw new ConfigurationError('storage.s3.origin', 'must be an origin: scheme, host and port only, e.g. `https://admin.example.com`')
  }
  const backend = deferredBackend(async () => {
    const { openS3Storage } = await import('../store/s3/index.js')
    const client = {
      ...(options.region ? { region: options.region } : {}),
      ...(options.endpoint ? { endpoint: options.endpoint } : {}),
      ...(options.forcePathStyle !== undefined ? { forcePathStyle: options.forcePathStyle } : {}),
      ...(options.credentials ? { credentials: options.credentials } : {}),
    }
    return openS3Storage({
      sequelize: options.sequelize as unknown as Sequelize,
      bucket: options.bucket,
      prefix: options.prefix,
      tablePrefix: options.tablePrefix,
      client,
      download: { mode, expiresIn },
      partUrlSeconds,
    })
  })
  const { staging, files, opened } = backend
  if (upload !== 'direct') return { staging, files }
  return {
    staging,
    files,
    direct: {
      parts: async () => (await opened()).direct,
      sign: async (target, parts) => (await opened()).signer.signBatch(target, parts),
      checkCors: async () => (await opened()).checkCors(options.origin ?? null),
    },
  }
}

function isOrigin(value: unknown): boolean {
  if (typeof value !== 'string') return false
  try {
    return new URL(value).origin === value
  } catch {
    return false
  }
}

/**
 * The chunk size on S3, which the route enforces and the component receives: one chunk is one
 * multipart part, so it is at least 5 MiB and leaves at most 10,000 parts for the largest file.
 * Both Resumable.js modes fit: without `forceChunkSize` the last chunk absorbs the remainder (never
 * below the chunk size), with it the last chunk is the smaller one, and S3 allows the last part any size.
 */
export function s3UploadChunkSize(maxSize: number, wanted: number): number {
  try {
    return s3ChunkSize(maxSize, wanted)
  } catch (error) {
    throw new ConfigurationError(Number.isSafeInteger(maxSize) ? 'chunkSize' : 'validation.maxSize', (error as Error).message)
  }
}
