import { buildFeature, type FeatureType, type PropertyOptions, type ResourceOptions } from 'adminjs'
import { fileURLToPath } from 'node:url'
import { BY_EXTENSION } from '../protocol/file-type.js'
import { localBackend } from '../store/local/index.js'
import { afterDelete, afterSave, beforeSave } from './hooks.js'
import { DEFAULTS, type ResumableCustom, type ResumableUploadFeatureOptions, type StorageBackend } from './options.js'
import { registerFeature } from './registry.js'

const COMPONENTS = {
  edit: ['ResumableUploadEdit', 'ResumableEdit'],
  list: ['ResumableUploadList', 'ResumableList'],
  show: ['ResumableUploadShow', 'ResumableShow'],
} as const

function componentPath(file: string): string {
  // Compiled components ship next to lib/ and src/ alike: ../../components/dist from either.
  return fileURLToPath(new URL(`../../components/dist/${file}.js`, import.meta.url))
}

function backendOf(storage: ResumableUploadFeatureOptions['storage']): StorageBackend {
  if ('local' in storage && storage.local) return localBackend(storage.local)
  const { staging, files } = storage as StorageBackend
  if (typeof staging?.writeChunk !== 'function' || typeof files?.place !== 'function') {
    throw new Error('adminjs-resumable: `storage` must be `{ local: {...} }` or `{ staging, files }`')
  }
  return { staging, files }
}

function positive(value: number, name: string): number {
  if (!(value >= 1) || (!Number.isSafeInteger(value) && value !== Infinity)) {
    throw new Error(`adminjs-resumable: \`${name}\` must be a positive integer or Infinity`)
  }
  return value
}

/**
 * Gives a resource a file property uploaded in chunks by Resumable.js. Mount the chunk route with
 * `buildAuthenticatedRouter` from this package (it shares the AdminJS session).
 */
export function resumableUploadFeature(options: ResumableUploadFeatureOptions): FeatureType {
  if (!options?.componentLoader) throw new Error('adminjs-resumable: `componentLoader` is required')
  if (!options.properties?.key) throw new Error('adminjs-resumable: `properties.key` is required')
  if (!options.storage) throw new Error('adminjs-resumable: `storage` is required')
  const chunkSize = options.chunkSize ?? DEFAULTS.chunkSize
  if (!Number.isSafeInteger(chunkSize) || chunkSize < 1) throw new Error('adminjs-resumable: `chunkSize` must be a positive integer')

  const storage = backendOf(options.storage)
  const limits = {
    uploads: positive(options.limits?.uploadsPerAdmin ?? DEFAULTS.uploadsPerAdmin, 'limits.uploadsPerAdmin'),
    bytes: options.limits?.bytesPerAdmin === undefined ? undefined : positive(options.limits.bytesPerAdmin, 'limits.bytesPerAdmin'),
  }
  const mapping = { ...options.properties, file: options.properties.file ?? DEFAULTS.file }
  const validation = options.validation ?? {}
  const ttlMs = options.expiry?.ttlMs ?? DEFAULTS.ttlMs
  const feature = registerFeature({
    storage,
    mapping,
    options,
    ttlMs,
    limits,
    rules: {
      chunkSize,
      forceChunkSize: !!options.forceChunkSize,
      maxSize: validation.maxSize ?? DEFAULTS.maxSize,
      mimeTypes: validation.mimeTypes,
      extensions: validation.extensions,
    },
    ready: Promise.all([storage.files.init(), storage.staging.init()]).then(() => undefined),
  })
  feature.ready.catch((error) => console.error('adminjs-resumable: storage start-up failed', error))
  const interval = options.expiry?.sweepIntervalMs ?? DEFAULTS.sweepIntervalMs
  if (interval > 0) {
    setInterval(() => {
      feature.ready.then(() => storage.staging.sweep(ttlMs)).catch((error) => console.error('adminjs-resumable: sweep failed', error))
    }, interval).unref()
  }

  const { componentLoader } = options
  const components = {
    edit: componentLoader.add(COMPONENTS.edit[0], componentPath(COMPONENTS.edit[1])),
    list: componentLoader.add(COMPONENTS.list[0], componentPath(COMPONENTS.list[1])),
    show: componentLoader.add(COMPONENTS.show[0], componentPath(COMPONENTS.show[1])),
  }
  const hidden: PropertyOptions = { isVisible: { list: false, filter: false, show: false, edit: false } }

  return buildFeature((admin): ResourceOptions => {
    const custom: ResumableCustom = {
      featureId: feature.id,
      endpoint: `${admin.options.rootPath.replace(/\/$/, '')}/api/resumable`,
      chunkSize,
      forceChunkSize: !!options.forceChunkSize,
      simultaneousUploads: options.simultaneousUploads ?? DEFAULTS.simultaneousUploads,
      maxSize: feature.rules.maxSize,
      mimeTypes: validation.mimeTypes ?? [],
      extensions: (validation.extensions ?? []).map((e) => e.replace(/^\./, '').toLowerCase()),
      typeByExtension: validation.mimeTypes?.length ? { ...BY_EXTENSION } : {},
      required: !!validation.required,
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
    for (const column of [mapping.key, mapping.filename, mapping.size, mapping.mimeType]) {
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
