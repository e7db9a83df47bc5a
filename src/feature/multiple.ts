import { flat, type ActionContext, type ActionRequest, type ActionResponse, type After, type Before, type BaseRecord } from 'adminjs'
import { CLEAR_MARKER, FAILED_MARKER, KEEP_PREFIX, PENDING_MARKER } from '../shared/markers.js'
import type { UploadManifest } from '../store/types.js'
import { checkedType } from './checked-type.js'
import { CONTEXT_KEY, fail, refuseSave, resolveReference, saved, stripPayload, UNFINISHED } from './hooks.js'
import type { RegisteredFeature } from './registry.js'
import { oneSaveAtATime, placeUnderFreeKey } from './replace.js'
import { buildKey } from './upload-path.js'

/**
 * `multiple: true`: the property holds an ordered list of files, each mapped column an array with
 * one entry per file. The form sends one slot per file as AdminJS flattens arrays (`images.0`,
 * `images.1`, …): an upload reference for a new file, `__keep__:<key>` for a file the record
 * already has; a file without a slot is removed; `images=__clear__` removes them all. No slot at
 * all leaves the files as they are.
 */

type Slot = { keep: string } | { manifest: UploadManifest }

interface PendingList {
  slots: Slot[]
}

/** One stored file as the record's columns describe it, at one index. */
export interface StoredEntry {
  key: string
  filename: unknown
  size: unknown
  mimeType: unknown
  relativePath: unknown
}

function column(record: BaseRecord | undefined, name: string | undefined): unknown[] {
  if (!record || !name) return []
  const value = record.get(name) as unknown
  return Array.isArray(value) ? value : []
}

/** The record's files, in order; entries without a key string are skipped. */
export function storedEntries(feature: RegisteredFeature, record: BaseRecord | undefined): StoredEntry[] {
  const { key, filename, size, mimeType, relativePath } = feature.mapping
  const keys = column(record, key)
  const names = column(record, filename)
  const sizes = column(record, size)
  const types = column(record, mimeType)
  const paths = column(record, relativePath)
  const entries: StoredEntry[] = []
  keys.forEach((k, i) => {
    if (typeof k === 'string' && k) {
      entries.push({ key: k, filename: names[i] ?? null, size: sizes[i] ?? null, mimeType: types[i] ?? null, relativePath: paths[i] ?? null })
    }
  })
  return entries
}

const NOT_A_LIST = 'The files must be sent as a list of upload references (file.0, file.1, …).'
const FAILED_ROW = 'A file in the list could not be uploaded: remove it from the list (or retry it), then save again.'
const CHANGED = 'The files of this record changed since the form was opened: reload the page and save again.'

/** Save, before the record is written: every slot checked, nothing placed yet. */
export function beforeSaveMany(feature: RegisteredFeature): Before {
  return async (request: ActionRequest, context: ActionContext) => {
    if (request.method !== 'post') return request
    const payload = (request.payload ?? {}) as Record<string, unknown>
    // flat.get reads both the flattened form (`images.0`) and a nested value.
    const raw = flat.get(payload as Parameters<typeof flat.get>[0], feature.mapping.file) as unknown
    stripPayload(payload, feature)
    const current = storedEntries(feature, context.record)
    const required = !!feature.options.validation?.required
    let slots: Slot[] | undefined
    if (raw === undefined) {
      if (required && !current.length) fail(feature, 'A file is required: upload one before saving.')
    } else if (raw === CLEAR_MARKER || raw === '' || raw === null) {
      slots = []
    } else if (Array.isArray(raw)) {
      slots = await resolveSlots(feature, raw, current, context)
    } else {
      fail(feature, NOT_A_LIST)
    }
    if (slots && !slots.length && required) fail(feature, 'At least one file is required here.')
    ;(context as Record<string, unknown>)[CONTEXT_KEY(feature)] = slots ? { slots } satisfies PendingList : undefined
    return { ...request, payload }
  }
}

/** Every slot is checked before anything happens: one bad slot refuses the whole Save. */
async function resolveSlots(feature: RegisteredFeature, raw: unknown[], current: StoredEntry[], context: ActionContext): Promise<Slot[]> {
  const slots: Slot[] = []
  const seen = new Set<string>()
  for (const value of raw) {
    // Holes (`images.5` alone), nested keys (`images.0.x`) and numbers are no slot.
    if (typeof value !== 'string') fail(feature, NOT_A_LIST)
    if (value === PENDING_MARKER) fail(feature, UNFINISHED)
    if (value === FAILED_MARKER) fail(feature, FAILED_ROW)
    if (seen.has(value)) fail(feature, 'The same file is listed twice.')
    seen.add(value)
    if (value.startsWith(KEEP_PREFIX)) {
      const key = value.slice(KEEP_PREFIX.length)
      if (!current.some((entry) => entry.key === key)) fail(feature, CHANGED)
      slots.push({ keep: key })
    } else {
      // Anything else must be a reference to a complete upload of this admin and property: a
      // storage key sent as is names no upload.
      slots.push({ manifest: await resolveReference(feature, value, context) })
    }
  }
  return slots
}

class FilesChanged extends Error {}

/**
 * Save, after the record is written: every new file placed under a free key, then one update of
 * the record with every column's array, then the removed files' bytes deleted. Any failure removes
 * every file placed by this Save and leaves the record's files as they were.
 */
export function afterSaveMany(feature: RegisteredFeature): After<ActionResponse> {
  return async (response: ActionResponse, request: ActionRequest, context: ActionContext) => {
    if (request.method !== 'post') return response
    const pending = (context as Record<string, unknown>)[CONTEXT_KEY(feature)] as PendingList | undefined
    const id = saved(response)
    if (!pending || !id) return response
    const resourceId = context.resource.decorate().id()
    return oneSaveAtATime(`${feature.id}\0${resourceId}\0${id}`, async () => {
      const record = await context.resource.findOne(id, context)
      if (!record) return response
      const placed: string[] = []
      const manifests = pending.slots.flatMap((slot) => ('manifest' in slot ? [slot.manifest] : []))
      try {
        return await applyList(feature, pending.slots, record, response, context, placed)
      } catch (error) {
        return refuseSave(feature, manifests, record, response, context, placed, error, error instanceof FilesChanged ? CHANGED : undefined)
      }
    })
  }
}

async function applyList(
  feature: RegisteredFeature,
  slots: Slot[],
  record: BaseRecord,
  response: ActionResponse,
  context: ActionContext,
  placed: string[],
): Promise<ActionResponse> {
  const { storage: { staging, files }, mapping } = feature
  const resourceId = context.resource.decorate().id()
  const before = storedEntries(feature, record)
  const entries: StoredEntry[] = []
  // Another Save may have removed a kept file since the form was checked: nothing is placed then.
  for (const slot of slots) {
    if ('keep' in slot && !before.some((entry) => entry.key === slot.keep)) throw new FilesChanged()
  }
  for (const slot of slots) {
    if ('keep' in slot) {
      entries.push(before.find((entry) => entry.key === slot.keep)!)
      continue
    }
    const { manifest } = slot
    const upload = await staging.finished(manifest.id)
    if (!upload) throw new Error(`upload ${manifest.id} is no longer complete`)
    const key = await placeUnderFreeKey(files, upload, buildKey(feature.options.uploadPath, resourceId, record, manifest.filename))
    placed.push(key)
    entries.push({
      key,
      filename: manifest.filename,
      size: manifest.totalSize,
      mimeType: await checkedType(feature, manifest, key),
      relativePath: manifest.relativePath ?? null,
    })
  }
  const params: Record<string, unknown> = { [mapping.key]: entries.map((e) => e.key) }
  if (mapping.filename) params[mapping.filename] = entries.map((e) => e.filename)
  if (mapping.size) params[mapping.size] = entries.map((e) => e.size)
  if (mapping.mimeType) params[mapping.mimeType] = entries.map((e) => e.mimeType)
  if (mapping.relativePath) params[mapping.relativePath] = entries.map((e) => e.relativePath)
  await record.update(params, context)
  if (record.errors && Object.keys(record.errors).length) {
    // The record refused the new lists: it still points at its old files, which are untouched.
    for (const key of placed) await files.delete(key).catch(() => undefined)
    response.record = record.toJSON(context.currentAdmin)
    return response
  }
  for (const slot of slots) if ('manifest' in slot) await staging.remove(slot.manifest.id).catch(() => undefined)
  // As for one file: only a Save whose list the record holds now deletes the files it dropped.
  const after = storedEntries(feature, (await context.resource.findOne(record.id(), context)) ?? undefined).map((e) => e.key)
  const mine = entries.map((e) => e.key)
  if (after.length === mine.length && after.every((key, i) => key === mine[i])) {
    for (const old of before) if (!mine.includes(old.key)) await files.delete(old.key).catch(() => undefined)
  } else {
    for (const key of placed) if (!after.includes(key)) await files.delete(key).catch(() => undefined)
  }
  response.record = record.toJSON(context.currentAdmin)
  return response
}
