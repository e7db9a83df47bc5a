import { flat, ValidationError, type ActionContext, type ActionRequest, type ActionResponse, type After, type Before, type BaseRecord } from 'adminjs'
import { ownerOf } from '../protocol/scope.js'
import { commitSave } from '../upload/commit.js'
import { removeFilesOfDeleted } from '../upload/detach.js'
import { storedEntries } from '../upload/entries.js'
import type { RegisteredFeature } from '../upload/registry.js'
import { oneSaveAtATime } from '../upload/replace.js'
import { planSave, type SaveChange } from '../upload/save-plan.js'
import { SaveRefusal } from '../upload/save-refusal.js'

/**
 * The AdminJS side of Save and delete, for single and `multiple` properties alike: the payload in,
 * the lifecycle's plan (src/upload/save-plan.ts) and commit (src/upload/commit.ts) in between, and
 * every failure answered as AdminJS answers a validation error, on the file property: a hook that
 * throws or a store that fails is logged and never becomes a 500, a stack trace or a server path.
 *
 * With `multiple` the form sends one slot per file as AdminJS flattens arrays (`images.0`, …): an
 * upload reference for a new file, `__keep__:<key>` for a file the record has; a file without a
 * slot is removed; `images=__clear__` removes them all. No value at all leaves the files as they are.
 */

const contextKey = (feature: RegisteredFeature) => `adminjsResumable:${feature.id}`

function columns(feature: RegisteredFeature): string[] {
  const { key, filename, size, mimeType, relativePath, checksum, metadata } = feature.mapping
  return [key, filename, size, mimeType, relativePath, checksum, metadata].filter((c): c is string => !!c)
}

/** `name` is `column` itself or a key under it in AdminJS's flattened syntax (`column.0`, `column.a.b`). */
function isUnder(name: string, column: string): boolean {
  return name === column || name.startsWith(`${column}.`)
}

/**
 * What the form sent for the property, with the property and every column we own removed from the
 * payload (and every key under them): only the server sets them. AdminJS unflattens `file.0=…` into
 * an array; on a single-file property that, like `file.path=…`, is no reference and is refused.
 */
function takeSent(payload: Record<string, unknown>, feature: RegisteredFeature): unknown {
  const file = feature.mapping.file
  // flat.get reads both the flattened form (`images.0`) and a nested value.
  const listed = feature.policy.multiple ? flat.get(payload as Parameters<typeof flat.get>[0], file) as unknown : undefined
  const value = payload[file]
  const owned = columns(feature)
  let nested = false
  for (const name of Object.keys(payload)) {
    if (name.startsWith(`${file}.`)) nested = true
    if (isUnder(name, file) || owned.some((column) => isUnder(name, column))) delete payload[name]
  }
  if (feature.policy.multiple) return listed
  return value === undefined && nested ? {} : value
}

/**
 * The refusal on the property, where the edit component shows it in the admin's language (its
 * `type` names the words); the notice says only that Save was refused, in AdminJS's own words, so
 * the page never shows English in a German admin whatever locale tables the app merged.
 */
function propertyError(refusal: SaveRefusal): { message: string; type: string } {
  return { message: refusal.message, type: refusal.key ?? 'resumable' }
}

function refusal(feature: RegisteredFeature, answer: SaveRefusal): ValidationError {
  return new ValidationError({ [feature.mapping.file]: propertyError(answer) })
}

/** An answer the admin can act on, or the generic one for a fault (which is logged). */
function answerOf(error: unknown): SaveRefusal {
  if (error instanceof SaveRefusal) return error
  console.error('adminjs-resumable: saving the file failed', error)
  return SaveRefusal.of('notStored')
}

/** Save (`new`/`edit`), before the record is written: every file checked, nothing placed yet. */
export function beforeSave(feature: RegisteredFeature): Before {
  return async (request: ActionRequest, context: ActionContext) => {
    if (request.method !== 'post') return request
    const payload = (request.payload ?? {}) as Record<string, unknown>
    const sent = takeSent(payload, feature)
    let change: SaveChange | null
    try {
      const saver = {
        feature,
        currentAdmin: context.currentAdmin!,
        scope: { owner: ownerOf(context.currentAdmin) ?? '', resourceId: context.resource.decorate().id(), propertyPath: feature.mapping.file },
      }
      change = await planSave(saver, sent, storedEntries(feature, context.record))
    } catch (error) {
      throw refusal(feature, answerOf(error))
    }
    ;(context as Record<string, unknown>)[contextKey(feature)] = change ?? undefined
    return { ...request, payload }
  }
}

function savedId(response: ActionResponse): string | null {
  const record = response.record as { id?: string; errors?: Record<string, unknown> } | undefined
  if (!record?.id || (record.errors && Object.keys(record.errors).length)) return null
  return record.id
}

/** Save, after AdminJS wrote the record's other fields: the files placed and the record pointed at them. */
export function afterSave(feature: RegisteredFeature): After<ActionResponse> {
  return async (response: ActionResponse, request: ActionRequest, context: ActionContext) => {
    if (request.method !== 'post') return response
    const change = (context as Record<string, unknown>)[contextKey(feature)] as SaveChange | undefined
    const id = savedId(response)
    if (!change || !id) return response
    const resourceId = context.resource.decorate().id()
    return oneSaveAtATime(`${feature.id}\0${resourceId}\0${id}`, async () => {
      let record: BaseRecord | null = null
      try {
        record = await context.resource.findOne(id, context)
        if (!record) return response
        const saved = record
        await commitSave(feature, change, {
          resourceId,
          record: saved,
          async update(params) {
            await saved.update(params, context)
            return !(saved.errors && Object.keys(saved.errors).length)
          },
          reread: () => context.resource.findOne(id, context),
        })
        response.record = saved.toJSON(context.currentAdmin)
        return response
      } catch (error) {
        // Only errors before the record update reach here (commitSave undid its files): AdminJS does
        // not catch what an after hook throws, it would become a 500 with a stack trace.
        return refuseSave(feature, change, id, record, response, context, error)
      }
    })
  }
}

/**
 * Answers a Save whose files were not committed: as AdminJS answers a validation error, on the
 * file property. A record that `new` has just created is deleted again, so saving once more does
 * not make a second one; an edited record keeps its old files.
 */
async function refuseSave(
  feature: RegisteredFeature,
  change: SaveChange,
  id: string,
  record: BaseRecord | null,
  response: ActionResponse,
  context: ActionContext,
  error: unknown,
): Promise<ActionResponse> {
  let answer = answerOf(error)
  if (!(error instanceof SaveRefusal)) {
    for (const slot of change.slots) {
      if ('upload' in slot && (await feature.storage.staging.state(slot.upload.id).catch(() => 'missing')) !== 'complete') answer = SaveRefusal.of('uploadGone')
    }
  }
  const created = context.action.name === 'new'
  if (created) {
    await context.resource.delete(id, context)
      .catch((failure) => console.error('adminjs-resumable: removing the record of a refused Save failed', failure))
  }
  const json = record?.toJSON(context.currentAdmin) ?? (response.record as ReturnType<BaseRecord['toJSON']>)
  const idProperty = context.resource.properties().find((p) => p.isId())?.path()
  const params = { ...json?.params }
  if (created && idProperty) delete params[idProperty]
  delete response.redirectUrl
  // AdminJS's own key: the page translates it as it does for a validation error.
  response.notice = { message: 'thereWereValidationErrors', type: 'error' }
  response.record = {
    ...json,
    ...(created ? { id: '' } : {}),
    params,
    errors: { ...json?.errors, [feature.mapping.file]: propertyError(answer) },
  }
  return response
}

/** Delete and bulk delete: the files of records that are really gone go too. */
export function afterDelete(feature: RegisteredFeature): After<ActionResponse> {
  return async (response: ActionResponse, request: ActionRequest, context: ActionContext) => {
    if (request.method !== 'post') return response
    const records: BaseRecord[] = context.records ?? (context.record ? [context.record] : [])
    for (const record of records) {
      await removeFilesOfDeleted(feature, record, () => context.resource.findOne(String(record.id()), context))
    }
    return response
  }
}
