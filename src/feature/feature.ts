import type AdminJS from 'adminjs'
import { buildFeature, type FeatureType, type PropertyOptions, type ResourceOptions } from 'adminjs'
import { fileURLToPath } from 'node:url'
import type { ResumableCustom } from '../shared/custom.js'
import { normalizeExtension } from '../shared/file-type.js'
import { ConfigurationError } from '../errors.js'
import { PrefixHashes } from '../integrity/prefix-hash.js'
import { localBackend } from '../store/local/index.js'
import { afterDelete, afterSave, beforeSave } from './hooks.js'
import { DEFAULTS, type ResumableUploadFeatureOptions, type StorageBackend } from './options.js'
import { registerFeature, type RegisteredFeature } from './registry.js'

const COMPONENTS = {
  edit: ['ResumableUploadEdit', 'ResumableEdit'],
  list: ['ResumableUploadList', 'ResumableList'],
  show: ['ResumableUploadShow', 'ResumableShow'],
} as const

function componentPath(file: string): string {
  // The components build keeps the repository's layout under components/dist (the components
  // import src/shared by relative path), and that folder ships next to lib/ and src/ alike.
  return fileURLToPath(new URL(`../../components/dist/components/${file}.js`, import.meta.url))
}

function backendOf(storage: ResumableUploadFeatureOptions['storage']): StorageBackend {
  if ('local' in storage) {
    if (!storage.local?.directory) throw new ConfigurationError('storage.local.directory', 'is required (or pass `{ staging, files }` as `storage`)')
    return localBackend(storage.local)
  }
  const { staging, files } = storage as StorageBackend
  if (typeof staging?.writeChunk !== 'function' || typeof files?.place !== 'function') {
    throw new ConfigurationError('storage', 'must be `{ local: { directory } }` or `{ staging, files }`')
  }
  return { staging, files }
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
  if (!options.storage) throw new ConfigurationError('storage', 'is required: `{ local: { directory } }` or `{ staging, files }`')
  const chunkSize = options.chunkSize ?? DEFAULTS.chunkSize
  if (!Number.isSafeInteger(chunkSize) || chunkSize < 1) throw new ConfigurationError('chunkSize', 'must be a positive integer')

  const storage = backendOf(options.storage)
  const limits = {
    uploads: positive(options.limits?.uploadsPerAdmin ?? DEFAULTS.uploadsPerAdmin, 'limits.uploadsPerAdmin'),
    bytes: options.limits?.bytesPerAdmin === undefined ? undefined : positive(options.limits.bytesPerAdmin, 'limits.bytesPerAdmin'),
  }
  const mapping = { ...options.properties, file: options.properties.file ?? DEFAULTS.file }
  const validation = options.validation ?? {}
  const ttlMs = options.expiry?.ttlMs ?? DEFAULTS.ttlMs
  const rules = {
    chunkSize,
    forceChunkSize: !!options.forceChunkSize,
    maxSize: validation.maxSize ?? DEFAULTS.maxSize,
    mimeTypes: validation.mimeTypes,
    extensions: validation.extensions,
  }
  const interval = options.expiry?.sweepIntervalMs ?? DEFAULTS.sweepIntervalMs

  /**
   * Nothing starts before AdminJS applies the feature: the storage's recovery and the sweep timer
   * belong to that AdminJS instance, and `closeResumableUploads(admin)` stops them.
   */
  const start = (admin: AdminJS): RegisteredFeature => {
    const ready = Promise.all([storage.files.init(), storage.staging.init()]).then(() => undefined)
    ready.catch((error) => console.error('adminjs-resumable: storage start-up failed', error))
    let timer: NodeJS.Timeout | null = null
    let sweeping: Promise<unknown> = Promise.resolve()
    if (interval > 0) {
      timer = setInterval(() => {
        sweeping = ready.then(() => storage.staging.sweep(ttlMs)).catch((error) => console.error('adminjs-resumable: sweep failed', error))
      }, interval)
      // Never the reason the process stays alive.
      timer.unref()
    }
    return registerFeature(admin, {
      storage, mapping, options, ttlMs, limits, rules, ready,
      hashes: mapping.checksum ? new PrefixHashes() : null,
      async stop() {
        if (timer) clearInterval(timer)
        timer = null
        await sweeping
      },
    })
  }

  const { componentLoader } = options
  const components = {
    edit: componentLoader.add(COMPONENTS.edit[0], componentPath(COMPONENTS.edit[1])),
    list: componentLoader.add(COMPONENTS.list[0], componentPath(COMPONENTS.list[1])),
    show: componentLoader.add(COMPONENTS.show[0], componentPath(COMPONENTS.show[1])),
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
    for (const column of [mapping.key, mapping.filename, mapping.size, mapping.mimeType, mapping.checksum, mapping.metadata]) {
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
