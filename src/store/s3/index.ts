import type { S3ClientConfig } from '@aws-sdk/client-s3'
import type { Sequelize } from 'sequelize'
import { FileKeyTable } from '../shared-state/file-keys.js'
import { OwnerLockTable } from '../shared-state/owner-locks.js'
import { PartTable } from '../shared-state/parts.js'
import { ReportedParts } from '../shared-state/reported-parts.js'
import { defineSharedTables } from '../shared-state/models.js'
import { UploadTable } from '../shared-state/uploads.js'
import { createS3Clients, type S3Clients } from './client.js'
import type { CopyOptions } from './copy.js'
import { checkBucketCors, corsPolicyFor, ORIGIN_PLACEHOLDER } from './cors-check.js'
import type { CorsVerdict } from '../direct.js'
import { S3DirectParts } from './direct-parts.js'
import { PartSigner } from './part-signer.js'
import { S3Files } from './files.js'
import { S3Keys } from './keys.js'
import { S3Staging, type S3StagingTimings } from './staging.js'

export { s3ChunkSize } from '../s3-part-limits.js'
export { S3Files, type PresignOptions, type S3FileStat, type S3FilesOptions } from './files.js'
export { S3Staging, type S3StagingTimings } from './staging.js'
export { S3DirectParts, type DirectPartStore, type DirectCompletion, type DirectTarget, type HeldPart } from './direct-parts.js'
export { PartSigner, DEFAULT_PART_URL_SECONDS, type MultipartTarget, type PartToSign, type SignedPart } from './part-signer.js'
export { checkBucketCors, corsPolicyFor, type CorsCheck, type CorsNeeds } from './cors-check.js'

export interface S3StorageOptions {
  /** The app's Sequelize instance: the upload state lives in its database, shared by every host. */
  sequelize: Sequelize
  bucket: string
  /** Key prefix of everything the plugin writes, ending in "/" (default `resumable/`). */
  prefix?: string
  /** SDK client configuration (region, endpoint, forcePathStyle, credentials; default: the AWS chain). */
  client?: S3ClientConfig
  /** Prefix of the plugin's table names (default `resumable_`). */
  tablePrefix?: string
  copy?: CopyOptions
  /** How staff download saved files (default: presigned GET URLs valid 60 s). */
  download?: { mode: 'presigned' | 'stream'; expiresIn: number }
  timings?: Partial<S3StagingTimings>
  /** Seconds a signed part URL stays valid (direct uploads; default 15 minutes). */
  partUrlSeconds?: number
}

export interface S3Storage {
  staging: S3Staging
  files: S3Files
  /** For direct uploads (browsers PUT parts to presigned URLs): the store's side, on the same tables. */
  direct: S3DirectParts
  /** Presigns UploadPart URLs for direct uploads. */
  signer: PartSigner
  /** Whether the bucket's CORS lets pages at `origin` (any origin, when null) PUT parts and read their ETag. */
  checkCors(origin: string | null): Promise<CorsVerdict>
  clients: S3Clients
  /** Releases the SDK clients' sockets. */
  close(): void
}

/**
 * Everything S3 storage needs, ready to use: the SDK (loaded now, only because S3 is configured),
 * the shared tables (created if missing), the staging store and the finished-file storage.
 * This module is imported lazily by whoever configures S3, so local-disk sites load none of it.
 */
export async function openS3Storage(options: S3StorageOptions): Promise<S3Storage> {
  const clients = await createS3Clients(options.client ?? {})
  const tables = await defineSharedTables(options.sequelize, options.tablePrefix)
  const where = { bucket: options.bucket, prefix: options.prefix ?? 'resumable/' }
  const keys = new S3Keys(where.prefix)
  const staging = new S3Staging({ s3: clients, where, keys, uploads: new UploadTable(tables), parts: new PartTable(tables), ownerLocks: new OwnerLockTable(tables), timings: options.timings })
  return {
    staging,
    files: new S3Files(clients, where, keys, { copy: options.copy, claims: new FileKeyTable(tables), download: options.download }),
    direct: new S3DirectParts({ staging, uploads: staging.deps.uploads, parts: staging.deps.parts, reported: new ReportedParts(tables) }),
    signer: new PartSigner(clients, where, { expiresIn: options.partUrlSeconds }),
    checkCors: async (origin) => ({
      check: await checkBucketCors(clients, where.bucket, origin),
      bucket: where.bucket,
      policy: corsPolicyFor(origin ?? ORIGIN_PLACEHOLDER),
    }),
    clients,
    close: () => {
      clients.client.destroy()
      clients.streaming.destroy()
    },
  }
}
