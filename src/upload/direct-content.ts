import { TypeNotAllowed } from '../errors.js'
import { checkContent, SAMPLE_SIZE } from '../content/sniff.js'
import { chunkLength } from '../shared/arithmetic.js'
import { limitsTypes } from '../shared/file-type.js'
import type { UploadManifest } from '../store/types.js'
import type { DirectMode } from './direct-setup.js'
import type { RegisteredFeature } from './registry.js'

/**
 * The content check of a direct upload: the bytes never passed the app, so the check that a
 * through-app upload makes on its first chunk as it streams is made on the completed object's
 * first bytes (one ranged GET), with the same rules. A refused object is deleted with its upload.
 */
export async function checkDirectContent(feature: RegisteredFeature, direct: DirectMode, manifest: UploadManifest): Promise<void> {
  const { rules } = feature
  if (!limitsTypes(rules.mimeTypes)) return
  const parts = await direct.uploads.parts()
  const sample = await parts.head(manifest.id, Math.min(SAMPLE_SIZE, chunkLength(manifest, 1)))
  try {
    await checkContent(sample, manifest.type, manifest.filename, rules)
  } catch (error) {
    if (error instanceof TypeNotAllowed) await feature.storage.staging.remove(manifest.id)
    throw error
  }
}
