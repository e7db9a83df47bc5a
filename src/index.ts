export { resumableUploadFeature } from './feature/feature.js'
export { closeResumableUploads, sweepExpiredUploads } from './feature/registry.js'
export { CLEAR_MARKER, DEFAULTS } from './feature/options.js'
export type {
  ResumableUploadFeatureOptions, ResumablePropertyMapping, ResumableValidation, UploadPathOption,
} from './feature/options.js'
export type { ResumableCustom } from './shared/custom.js'
export { ERROR_CODE, ERROR_CODES, type ErrorCode } from './shared/error-codes.js'
export { buildAuthenticatedRouter, type ResumableRouterOptions } from './route/mount.js'
export { createResumableRouter } from './route/router.js'
export { createBodyGuard, DEFAULT_BODY_LIMITS, type BodyLimits } from './guard/body-guard.js'
export { createCrossSiteGuard, type CrossSiteOptions } from './guard/cross-site.js'
export { guardHttpServer, type HttpServerGuardOptions } from './guard/http-server.js'
export { localBackend, LocalFileStorage, LocalStagingStore, type LocalStorageOptions, type LocalStoreOptions } from './store/local/index.js'
export type { StagingStore, FinishedUpload } from './store/staging.js'
export type { DownloadUrlOptions, FileStorage } from './store/file-storage.js'
export type { S3StorageOption, SequelizeInstance } from './feature/s3-backend.js'
export { s3ChunkSize } from './store/s3-part-limits.js'
export type { StorageBackend } from './feature/options.js'
export type {
  UploadManifest, UploadState, ChunkState, ChunkWrite, WriteResult, FileStat, SweepResult, StagingUsage, OwnerLimits,
} from './store/types.js'
export * from './errors.js'
export { chunkCount, chunkLength, chunkOffset } from './shared/arithmetic.js'
