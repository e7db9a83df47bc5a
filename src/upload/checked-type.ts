import { checkContent, SAMPLE_SIZE } from '../content/sniff.js'
import { chunkLength } from '../shared/arithmetic.js'
import { limitsTypes } from '../shared/file-type.js'
import type { UploadManifest } from '../store/types.js'
import type { RegisteredFeature } from './registry.js'

/**
 * The type Save records for a committed file (and downloads then send). Where the allowed types are
 * limited, the route checked the first chunk's bytes; the same check on the same bytes, read back
 * from the committed file, gives the same type, so nothing has to be carried from that request to
 * this one. A sample that no longer passes (the allowed types changed since the upload) is recorded
 * as `application/octet-stream` rather than as the declared type, which nothing confirmed.
 */
export async function checkedType(feature: RegisteredFeature, manifest: UploadManifest, key: string): Promise<string> {
  const { rules, storage } = feature
  if (!limitsTypes(rules.mimeTypes)) return manifest.type
  const size = Math.min(SAMPLE_SIZE, chunkLength(manifest, 1))
  try {
    const pieces: Buffer[] = []
    if (size > 0) {
      for await (const piece of storage.files.read(key, { start: 0, end: size - 1 })) pieces.push(piece as Buffer)
    }
    return await checkContent(Buffer.concat(pieces), manifest.type, manifest.filename, rules)
  } catch {
    return 'application/octet-stream'
  }
}
