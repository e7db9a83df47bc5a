import type AdminJS from 'adminjs'
import { buildFeature, type FeatureType, type PropertyOptions, type ResourceOptions } from 'adminjs'
import { fileURLToPath } from 'node:url'
import type { ResumableCustom } from '../shared/custom.js'
import { normalizeExtension } from '../shared/file-type.js'
import { ConfigurationError } from '../errors.js'
import { PrefixHashes } from '../integrity/prefix-hash.js'
import { localBackend } from '../store/local/index.js'
import type { StorageBackend } from '../store/backend.js'
import { startDirect } from '../upload/direct-setup.js'
import { startStorage } from '../upload/expiry.js'
import { registerFeature, type RegisteredFeature } from '../upload/registry.js'
import { afterDelete, afterSave, beforeSave } from './save-hooks.js'
import { s3Backend, s3UploadChunkSize } from './s3-backend.js'
import { DEFAULTS, type ResumableUploadFeatureOptions } from './options.js'
import { FilesWithThumbnails } from '../preview/thumbnail-storage.js'

const COMPONENTS = {
  edit: ['ResumableUploadEdit', 'ResumableEdit'],
  list: ['ResumableUploadList', 'ResumableList'],
  show: ['ResumableUploadShow', 'ResumableShow'],
} as const

/** With `multiple`: the list of files. */
const MANY_COMPONENTS = {
  edit: ['ResumableUploadEditMany', 'ResumableEditMany'],
  list: ['ResumableUploadListMany', 'ResumableListMany'],
  show: ['ResumableUploadShowMany', 'ResumableShowMany'],
} as const

function componentPath(file: string): string {
  // The components build keeps the repository's layout under components/dist (the components
  // import src/shared by relative path), and that folder ships next to lib/ and src/ alike.
  return fileURLToPath(new URL(`../../components/dist/components/${file}.js`, import.meta.url))
}

function backendOf(storage: ResumableUploadFeatureOptions['storage']): StorageBackend {
  if ('s3' in storage) {
    if (!storage.s3) throw new ConfigurationError('storage.s3', 'must be an object: `{ bucket, sequelize, ... }`')
    return s3Backend(storage.s3)
  }
  if ('local' in storage) {
    if (!storage.local?.directory) throw new ConfigurationError('storage.local.directory', 'is required (or pass `{ staging, files }` as `storage`)')
    return localBackend(storage.local)
  }
  const { staging, files, direct } = storage as StorageBackend
  if (typeof staging?.writeChunk !== 'function' || typeof files?.place !== 'function') {
    throw new ConfigurationError('storage', 'must be `{ local: { directory } }`, `{ s3: { bucket, sequelize } }` or `{ staging, files }`')
  }
  return direct ? { staging, files, direct } : { staging, files }
}

function positive(value: number, name: string): number {
  if (!(value >= 1) || (!Number.isSafeInteger(value) && value !== Infinity)) {
    throw new ConfigurationError(name, 'must be a positive integer or Infinity')
  }
  return value
}

/**
 * Gives a resource a file property uploaded in chunks by Resumable.js. Mount the chunk route with
 * `buildAuthenticatedRouter` from this package (it shares the AdminJS session), and end it with
 * `closeResumableUploads(admin)`.
 */
export function resumableUploadFeature(options: ResumableUploadFeatureOptions): FeatureType {
  if (!options?.componentLoader) {
    throw new ConfigurationError('componentLoader', 'is required: pass the ComponentLoader given to `new AdminJS({ componentLoader })`')
  }
  if (!options.properties?.key) throw new ConfigurationError('properties.key', 'is required: the column that holds the file\'s key')
  if (!options.storage) throw new ConfigurationError('storage', 'is required: `{ local: { directory } }`, `{ s3: { bucket, sequelize } }` or `{ staging, files }`')
  const wantedChunkSize = options.chunkSize ?? DEFAULTS.chunkSize
  if (!Number.isSafeInteger(wantedChunkSize) || wantedChunkSize < 1) throw new ConfigurationError('chunkSize', 'must be a positive integer')
  const validation = options.validation ?? {}
  const maxSize = validation.maxSize ?? DEFAULTS.maxSize
  // On S3 one chunk is one multipart part: the chunk size follows S3's part limits for maxSize.
  const chunkSize = 's3' in options.storage ? s3UploadChunkSize(maxSize, wantedChunkSize) : wantedChunkSize

  const backend = backendOf(options.storage)
  const storage = { staging: backend.staging, files: new FilesWithThumbnails(backend.files) }
  const direct = backend.direct
  const limits = {
    uploads: positive(options.limits?.uploadsPerAdmin ?? DEFAULTS.uploadsPerAdmin, 'limits.uploadsPerAdmin'),
    bytes: options.limits?.bytesPerAdmin === undefined ? undefined : positive(options.limits.bytesPerAdmin, 'limits.bytesPerAdmin'),
  }
  const mapping = { ...options.properties, file: options.properties.file ?? DEFAULTS.file }
  const ttlMs = options.expiry?.ttlMs ?? DEFAULTS.ttlMs
  const rules = {
    chunkSize,
    forceChunkSize: !!options.forceChunkSize,
    maxSize,
    mimeTypes: validation.mimeTypes,
    extensions: validation.extensions,
  }
  const interval = options.expiry?.sweepIntervalMs ?? DEFAULTS.sweepIntervalMs

  const policy = {
    multiple: !!options.multiple,
    required: !!validation.required,
    uploadPath: options.uploadPath,
    onUploadStart: options.onUploadStart,
    onUploadComplete: options.onUploadComplete,
  }

  /**
   * Nothing starts before AdminJS applies the feature: the storage's recovery and the sweep timer
   * belong to that AdminJS instance, and `closeResumableUploads(admin)` stops them.
   */
  const start = (admin: AdminJS): RegisteredFeature => registerFeature(admin, {
    storage, mapping, policy, ttlMs, limits, rules,
    direct: direct ? startDirect(direct) : null,
    hashes: mapping.checksum ? new PrefixHashes() : null,
    ...startStorage(storage, ttlMs, interval),
  })

  const { componentLoader } = options
  const names = options.multiple ? MANY_COMPONENTS : COMPONENTS
  const components = {
    edit: componentLoader.add(names.edit[0], componentPath(names.edit[1])),
    list: componentLoader.add(names.list[0], componentPath(names.list[1])),
    show: componentLoader.add(names.show[0], componentPath(names.show[1])),
  }
  const hidden: PropertyOptions = { isVisible: { list: false, filter: false, show: false, edit: false } }

  return buildFeature((admin): ResourceOptions => {
    const feature = start(admin)
    const custom: ResumableCustom = {
      featureId: feature.id,
      endpoint: `${admin.options.rootPath.replace(/\/$/, '')}/api/resumable`,
      chunkSize,
      forceChunkSize: !!options.forceChunkSize,
      simultaneousUploads: options.simultaneousUploads ?? DEFAULTS.simultaneousUploads,
      maxSize: feature.rules.maxSize,
      mimeTypes: validation.mimeTypes ?? [],
      extensions: (validation.extensions ?? []).map(normalizeExtension),
      required: !!validation.required,
      multiple: !!options.multiple,
      upload: direct ? 'direct' : 'through-app',
      properties: mapping,
    }
    const properties: Record<string, PropertyOptions> = {
      [mapping.file]: {
        custom,
        components,
        isSortable: false,
        isVisible: { list: true, show: true, edit: true, filter: false },
      },
    }
    for (const column of [mapping.key, mapping.filename, mapping.size, mapping.mimeType, mapping.relativePath, mapping.checksum, mapping.metadata]) {
      if (column) properties[column] = hidden
    }
    return {
      properties,
      actions: {
        new: { before: [beforeSave(feature)], after: [afterSave(feature)] },
        edit: { before: [beforeSave(feature)], after: [afterSave(feature)] },
        delete: { after: [afterDelete(feature)] },
        bulkDelete: { after: [afterDelete(feature)] },
      },
    }
  })
}
