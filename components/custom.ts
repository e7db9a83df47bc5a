/** URLs and the stored file, derived from `property.custom` (src/shared/custom.ts) and the record. */
import type { ResumableCustom } from '../src/shared/custom.js'

/** Resumable.js target: `${endpoint}/${resourceId}/${propertyPath}` */
export function chunkUrl(custom: ResumableCustom, resourceId: string, propertyPath: string): string {
  return `${custom.endpoint}/${encodeURIComponent(resourceId)}/${encodeURIComponent(propertyPath)}`
}

/** Download URL of the file saved on a record. */
export function downloadUrl(
  custom: ResumableCustom,
  resourceId: string,
  propertyPath: string,
  recordId: string,
): string {
  return `${chunkUrl(custom, resourceId, propertyPath)}/download/${encodeURIComponent(recordId)}`
}

/** Last segment of a storage key, for display when no file name column is configured. */
export function basename(key: string): string {
  const parts = key.split(/[\\/]/).filter(Boolean)
  return parts.length ? parts[parts.length - 1] : key
}

export interface StoredFile {
  name: string
  size?: number
  mimeType?: string
  url?: string
}

/** The file currently saved on the record, or null when there is none. */
export function storedFile(
  custom: ResumableCustom,
  params: Record<string, unknown> | undefined,
  resourceId: string,
  propertyPath: string,
  recordId: string | undefined,
): StoredFile | null {
  if (!params) return null
  const p = custom.properties
  const key = params[p.key]
  const filename = p.filename ? params[p.filename] : undefined
  const hasKey = typeof key === 'string' ? key !== '' : key !== undefined && key !== null
  const hasName = typeof filename === 'string' && filename !== ''
  if (!hasKey && !hasName) return null
  const name = hasName ? String(filename) : basename(String(key))
  const rawSize = p.size ? params[p.size] : undefined
  const size = rawSize === undefined || rawSize === null || rawSize === '' ? undefined : Number(rawSize)
  const mime = p.mimeType ? params[p.mimeType] : undefined
  return {
    name,
    size: size !== undefined && Number.isFinite(size) ? size : undefined,
    mimeType: typeof mime === 'string' && mime ? mime : undefined,
    url: recordId ? downloadUrl(custom, resourceId, propertyPath, recordId) : undefined,
  }
}
