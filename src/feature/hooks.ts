import { ValidationError, type ActionContext, type ActionRequest, type ActionResponse, type After, type Before, type BaseRecord } from 'adminjs'
import { belongsTo, isUploadId, ownerOf } from '../protocol/scope.js'
import { UploadRefused } from '../errors.js'
import { settleCompletion } from '../route/completion.js'
import type { UploadCompletion, UploadManifest } from '../store/types.js'
import { checkedType } from './checked-type.js'
import { CLEAR_MARKER, PENDING_MARKER } from './options.js'
import type { RegisteredFeature } from './registry.js'
import { oneSaveAtATime, placeUnderFreeKey } from './replace.js'
import { buildKey } from './upload-path.js'

interface PendingChange {
  manifest?: UploadManifest
  completion?: UploadCompletion
  clear?: boolean
  oldKey?: string | null
}

export const CONTEXT_KEY = (feature: RegisteredFeature) => `adminjsResumable:${feature.id}`

export function columns(feature: RegisteredFeature): string[] {
  const { key, filename, size, mimeType, relativePath, checksum, metadata } = feature.mapping
  return [key, filename, size, mimeType, relativePath, checksum, metadata].filter((c): c is string => !!c)
}

/** `name` is `column` itself or a key under it in AdminJS's flattened syntax (`column.0`, `column.a.b`). */
function isUnder(name: string, column: string): boolean {
  return name === column || name.startsWith(`${column}.`)
}

/**
 * Removes the file property and every column we own from the payload, with every key under them:
 * AdminJS unflattens `filePath.0=…` into an array (and `filePath.a=…` into an object) for the column.
 * Only the server sets them.
 */
export function stripPayload(payload: Record<string, unknown>, feature: RegisteredFeature): unknown {
  const file = feature.mapping.file
  const value = payload[file]
  const owned = columns(feature)
  let nested = false
  for (const name of Object.keys(payload)) {
    if (name.startsWith(`${file}.`)) nested = true
    if (isUnder(name, file) || owned.some((column) => isUnder(name, column))) delete payload[name]
  }
  // AdminJS's flattened object syntax (`file.path=...`) is no reference: refuse it, do not ignore it.
  return value === undefined && nested ? {} : value
}

export const UNFINISHED = 'The upload has not finished yet: wait until it completes, then save again.'

export function fail(feature: RegisteredFeature, message: string): never {
  throw new ValidationError({ [feature.mapping.file]: { message, type: 'resumable' } }, { message })
}

/**
 * Save (`new`/`edit`), before the record is written: turn the opaque reference into a completed
 * upload of this admin, resource and property, or refuse the save with an error on the property.
 */
export function beforeSave(feature: RegisteredFeature): Before {
  return async (request: ActionRequest, context: ActionContext) => {
    if (request.method !== 'post') return request
    const payload = (request.payload ?? {}) as Record<string, unknown>
    const value = stripPayload(payload, feature)
    const oldKey = (context.record?.get(feature.mapping.key) as string | null | undefined) ?? null
    const required = !!feature.options.validation?.required
    const pending: PendingChange = { oldKey }

    if (value === undefined) {
      if (required && !oldKey) fail(feature, 'A file is required: upload one before saving.')
    } else if (value === CLEAR_MARKER || value === '' || value === null) {
      if (required) fail(feature, 'A file is required here; it cannot be removed, only replaced.')
      pending.clear = !!oldKey
    } else if (value === PENDING_MARKER) {
      fail(feature, UNFINISHED)
    } else {
      pending.manifest = await resolveReference(feature, value, context)
      pending.completion = await settled(feature, pending.manifest, context)
    }
    ;(context as Record<string, unknown>)[CONTEXT_KEY(feature)] = pending
    return { ...request, payload }
  }
}

export async function resolveReference(feature: RegisteredFeature, value: unknown, context: ActionContext): Promise<UploadManifest> {
  const unknown = 'This upload is unknown or has expired: upload the file again.'
  if (!isUploadId(value)) fail(feature, unknown)
  await feature.ready
  const manifest = await feature.storage.staging.get(value)
  const scope = {
    owner: ownerOf(context.currentAdmin) ?? '',
    resourceId: context.resource.decorate().id(),
    propertyPath: feature.mapping.file,
  }
  // Someone else's upload is reported exactly like a missing one: its existence is not revealed.
  if (!manifest || !belongsTo(manifest, scope)) fail(feature, unknown)
  if ((await feature.storage.staging.state(value)) !== 'complete') fail(feature, UNFINISHED)
  return manifest
}

/** The checksum and hook metadata (see route/completion.ts); a refusal becomes the property's error. */
async function settled(feature: RegisteredFeature, manifest: UploadManifest, context: ActionContext): Promise<UploadCompletion> {
  try {
    return await settleCompletion(feature, context.currentAdmin!, manifest)
  } catch (error) {
    if (error instanceof UploadRefused) fail(feature, error.message)
    throw error
  }
}

export function saved(response: ActionResponse): string | null {
  const record = response.record as { id?: string; errors?: Record<string, unknown> } | undefined
  if (!record?.id || (record.errors && Object.keys(record.errors).length)) return null
  return record.id
}

/**
 * Save, after the record is written: place the file under a key where no file is (so the old one
 * keeps its bytes until the record points elsewhere), point the record at it, then remove the file
 * it pointed at before. If the record refuses the update, only the new file goes.
 */
export function afterSave(feature: RegisteredFeature): After<ActionResponse> {
  return async (response: ActionResponse, request: ActionRequest, context: ActionContext) => {
    if (request.method !== 'post') return response
    const pending = (context as Record<string, unknown>)[CONTEXT_KEY(feature)] as PendingChange | undefined
    const id = saved(response)
    if (!pending || !id || (!pending.manifest && !pending.clear)) return response
    const resourceId = context.resource.decorate().id()
    return oneSaveAtATime(`${feature.id}\0${resourceId}\0${id}`, async () => {
      const record = await context.resource.findOne(id, context)
      if (!record) return response
      const placed: { key: string | null } = { key: null }
      try {
        return await applyChange(feature, pending, record, response, context, placed)
      } catch (error) {
        // AdminJS does not catch what an after hook throws: it would become a 500 with a stack trace.
        const placedKeys = placed.key && placed.key !== pending.oldKey ? [placed.key] : []
        return refuseSave(feature, pending.manifest ? [pending.manifest] : [], record, response, context, placedKeys, error)
      }
    })
  }
}

/** Places the new file (never over another), points the record at it, then drops the old one. */
async function applyChange(
  feature: RegisteredFeature,
  pending: PendingChange,
  record: BaseRecord,
  response: ActionResponse,
  context: ActionContext,
  placed: { key: string | null },
): Promise<ActionResponse> {
  const { storage: { staging, files }, mapping } = feature
  const { manifest } = pending
  const id = record.id()
  const resourceId = context.resource.decorate().id()
  const before = (record.get(mapping.key) as string | null | undefined) ?? null

  let newKey: string | null = null
  const params: Record<string, unknown> = {}
  if (manifest) {
    const upload = await staging.finished(manifest.id)
    if (!upload) fail(feature, 'This upload is unknown or has expired: upload the file again.')
    newKey = await placeUnderFreeKey(files, upload, buildKey(feature.options.uploadPath, resourceId, record, manifest.filename))
    placed.key = newKey
    params[mapping.key] = newKey
    if (mapping.filename) params[mapping.filename] = manifest.filename
    if (mapping.size) params[mapping.size] = manifest.totalSize
    if (mapping.mimeType) params[mapping.mimeType] = await checkedType(feature, manifest, newKey)
    if (mapping.checksum) params[mapping.checksum] = pending.completion?.sha256 ?? null
    if (mapping.metadata) params[mapping.metadata] = pending.completion?.metadata ? JSON.stringify(pending.completion.metadata) : null
  } else {
    for (const column of columns(feature)) params[column] = null
  }
  await record.update(params, context)
  if (record.errors && Object.keys(record.errors).length) {
    // The record refused the new values: it still points at the old file, which is untouched.
    if (newKey) await files.delete(newKey).catch(() => undefined)
    response.record = record.toJSON(context.currentAdmin)
    return response
  }
  if (manifest) await staging.remove(manifest.id).catch(() => undefined)
  // A Save of another process may have updated the record meanwhile: the last update wins, and
  // only a Save whose file the record points at removes the older ones.
  const after = await context.resource.findOne(id, context)
  const current = (after?.get(mapping.key) as string | null | undefined) ?? null
  if (current === newKey) {
    for (const old of new Set([pending.oldKey, before])) {
      if (old && old !== newKey) await files.delete(old).catch(() => undefined)
    }
  } else if (newKey) {
    await files.delete(newKey).catch(() => undefined)
  }
  response.record = record.toJSON(context.currentAdmin)
  return response
}

/**
 * The store (or the record update after it) failed: answer as AdminJS answers a validation error,
 * on the file property, with a message that names no server path. A record that `new` has just
 * created is deleted again, so saving once more does not make a second one; an edited record keeps
 * its old file.
 */
export async function refuseSave(
  feature: RegisteredFeature,
  manifests: UploadManifest[],
  record: BaseRecord,
  response: ActionResponse,
  context: ActionContext,
  placedKeys: string[],
  error: unknown,
  reason?: string,
): Promise<ActionResponse> {
  // A refusal the feature raised itself (an expired upload, a hook's verdict) is an answer, not a fault.
  if (!(error instanceof ValidationError)) console.error('adminjs-resumable: saving the file failed', error)
  const { staging, files } = feature.storage
  for (const key of placedKeys) await files.delete(key).catch(() => undefined)
  let gone = false
  for (const manifest of manifests) {
    if ((await staging.state(manifest.id).catch(() => 'missing')) !== 'complete') gone = true
  }
  const message = reason ?? (gone
    ? 'This upload is no longer on the server (it was cancelled or expired): upload the file again, then save.'
    : 'The file could not be stored on the server: save again, or upload the file again if that fails too.')
  const created = context.action.name === 'new'
  if (created) await context.resource.delete(record.id(), context).catch(() => undefined)
  const json = record.toJSON(context.currentAdmin)
  const idProperty = context.resource.properties().find((p) => p.isId())?.path()
  const params = { ...json.params }
  if (created && idProperty) delete params[idProperty]
  delete response.redirectUrl
  response.notice = { message, type: 'error' }
  response.record = {
    ...json,
    ...(created ? { id: '' } : {}),
    params,
    errors: { ...json.errors, [feature.mapping.file]: { message, type: 'resumable' } },
  }
  return response
}

/** Delete and bulk delete: the files of deleted records go too. */
export function afterDelete(feature: RegisteredFeature): After<ActionResponse> {
  return async (response: ActionResponse, request: ActionRequest, context: ActionContext) => {
    if (request.method !== 'post') return response
    const records: BaseRecord[] = context.records ?? (context.record ? [context.record] : [])
    for (const record of records) {
      // With `multiple` the column holds an array of keys.
      const value = record.get(feature.mapping.key) as unknown
      for (const key of Array.isArray(value) ? value : [value]) {
        if (typeof key === 'string' && key) await feature.storage.files.delete(key).catch(() => undefined)
      }
    }
    return response
  }
}
