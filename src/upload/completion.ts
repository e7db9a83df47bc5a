import type { CurrentAdmin } from 'adminjs'
import { Readable } from 'node:stream'
import { UploadExpired, UploadRefused } from '../errors.js'
import type { UploadCompletion, UploadManifest } from '../store/types.js'
import { checkDirectContent } from './direct-content.js'
import type { UploadHookContext } from './hook-types.js'
import type { RegisteredFeature } from './registry.js'

/** Settlements under way in this process, by upload: a second request waits for the first. */
const settling = new Map<string, Promise<UploadCompletion>>()

function hookContext(currentAdmin: CurrentAdmin, manifest: UploadManifest): UploadHookContext {
  return {
    admin: currentAdmin,
    resourceId: manifest.resourceId,
    property: manifest.propertyPath,
    filename: manifest.filename,
    size: manifest.totalSize,
    type: manifest.type,
  }
}

/** Normalises a hook's refusal (returned or thrown as UploadRefused) into an UploadRefused. */
function refusal(result: unknown): UploadRefused | null {
  const refuse = (result as { refuse?: unknown } | null | undefined)?.refuse
  if (refuse === undefined || refuse === null || refuse === false) return null
  return new UploadRefused(typeof refuse === 'string' && refuse ? refuse : 'The upload was refused.')
}

/** `onUploadStart`: before a chunk creates a new upload. Throws UploadRefused to refuse it. */
export async function checkUploadStart(feature: RegisteredFeature, currentAdmin: CurrentAdmin, manifest: UploadManifest): Promise<void> {
  const hook = feature.policy.onUploadStart
  if (!hook) return
  const refused = refusal(await hook(hookContext(currentAdmin, manifest)))
  if (refused) throw refused
}

/**
 * The one gate between a complete upload and its reference: every request that would hand the
 * reference out (the completing chunk, a test GET, a duplicate chunk, Save) goes through here.
 * The first computes the checksum and runs `onUploadComplete`; its answer is kept with the upload,
 * so later requests, in any process, only read it. A refusal removes the upload.
 *
 * A direct upload's bytes never passed the app: its content is checked on the object's first
 * bytes here, and its checksum is the one the browser `reported` (hashed over the bytes whose
 * per-part digests the bucket verified); without a report the checksum stays empty.
 */
export async function settleCompletion(
  feature: RegisteredFeature, currentAdmin: CurrentAdmin, manifest: UploadManifest, reported: { sha256?: string } = {},
): Promise<UploadCompletion> {
  const store = feature.storage.staging
  const known = await store.completion(manifest.id)
  if (known) return known
  const key = `${feature.id}\0${manifest.id}`
  let running = settling.get(key)
  if (!running) {
    running = settle(feature, currentAdmin, manifest, reported).finally(() => settling.delete(key))
    settling.set(key, running)
  }
  return running
}

async function settle(feature: RegisteredFeature, currentAdmin: CurrentAdmin, manifest: UploadManifest, reported: { sha256?: string }): Promise<UploadCompletion> {
  const store = feature.storage.staging
  const completion: UploadCompletion = {}
  if (feature.direct) {
    await checkDirectContent(feature, feature.direct, manifest)
    if (feature.mapping.checksum && reported.sha256) completion.sha256 = reported.sha256
  } else if (feature.hashes) {
    completion.sha256 = await feature.hashes.digest(store, manifest)
  }
  const hook = feature.policy.onUploadComplete
  if (hook) {
    let result
    try {
      result = await hook({
        ...hookContext(currentAdmin, manifest),
        reference: manifest.id,
        checksum: completion.sha256,
        read: () => Readable.from((async function* whole() {
          const finished = await store.finished(manifest.id)
          if (!finished) throw new UploadExpired('The upload is no longer on the server.')
          yield* finished.read()
        })()),
      })
    } catch (error) {
      if (error instanceof UploadRefused) result = { refuse: error.message || 'The upload was refused.' }
      else throw error
    }
    const refused = refusal(result)
    if (refused) {
      await store.remove(manifest.id)
      throw refused
    }
    const metadata = (result as { metadata?: unknown } | undefined)?.metadata
    if (metadata && typeof metadata === 'object') completion.metadata = JSON.parse(JSON.stringify(metadata)) as Record<string, unknown>
  }
  await store.saveCompletion(manifest.id, completion)
  return completion
}
