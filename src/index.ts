export { resumableUploadFeature } from './feature/feature.js'
export { closeResumableUploads, sweepExpiredUploads } from './feature/registry.js'
export { CLEAR_MARKER, DEFAULTS } from './feature/options.js'
export type {
  ResumableUploadFeatureOptions, ResumablePropertyMapping, ResumableValidation, UploadPathOption, ResumableCustom,
} from './feature/options.js'
export { buildAuthenticatedRouter, type ResumableRouterOptions } from './route/mount.js'
export { createResumableRouter } from './route/router.js'
export { createBodyGuard, DEFAULT_BODY_LIMITS, type BodyLimits } from './guard/body-guard.js'
export { LocalUploadStore, type LocalStoreOptions } from './store/local.js'
export type { UploadStore, UploadManifest, UploadState, ChunkWrite, WriteResult, FileStat, SweepResult } from './store/types.js'
export * from './errors.js'
export { chunkCount, chunkLength, chunkOffset } from './protocol/arithmetic.js'
