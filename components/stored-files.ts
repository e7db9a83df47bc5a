/** The files a `multiple` property holds on a record, read from its flattened params. */
import type { ResumableCustom } from '../src/shared/custom.js'
import { basename, downloadUrl } from './custom.js'

export interface StoredListFile {
  key: string
  name: string
  size?: number
  mimeType?: string
  relativePath?: string
  /** Download of the file at this place in the list. */
  url?: string
}

/** `column.<i>` of AdminJS's flattened params (or the array itself when not flattened). */
function columnAt(params: Record<string, unknown>, column: string | undefined, index: number): unknown {
  if (!column) return undefined
  const nested = params[column]
  if (Array.isArray(nested)) return nested[index]
  return params[`${column}.${index}`]
}

export function storedFiles(
  custom: ResumableCustom,
  params: Record<string, unknown> | undefined,
  resourceId: string,
  propertyPath: string,
  recordId: string | undefined,
): StoredListFile[] {
  if (!params) return []
  const p = custom.properties
  const files: StoredListFile[] = []
  for (let i = 0; i < 10000; i += 1) {
    const key = columnAt(params, p.key, i)
    if (key === undefined) break
    if (typeof key !== 'string' || !key) continue
    const name = columnAt(params, p.filename, i)
    const size = Number(columnAt(params, p.size, i))
    const mime = columnAt(params, p.mimeType, i)
    const relativePath = columnAt(params, p.relativePath, i)
    files.push({
      key,
      name: typeof name === 'string' && name ? name : basename(key),
      size: Number.isFinite(size) && columnAt(params, p.size, i) !== null ? size : undefined,
      mimeType: typeof mime === 'string' && mime ? mime : undefined,
      relativePath: typeof relativePath === 'string' && relativePath ? relativePath : undefined,
      // The place among the files, as the download route counts them (entries without a key skipped).
      url: recordId ? `${downloadUrl(custom, resourceId, propertyPath, recordId)}/${files.length}` : undefined,
    })
  }
  return files
}
