/**
 * The shape of `property.custom` the server hands to the components (all JSON), and the URLs
 * derived from it. Everything is read defensively: a missing or malformed field falls back to a
 * safe default instead of breaking the form.
 */
export interface ResumableCustomProperties {
  key: string
  file: string
  filename?: string
  size?: string
  mimeType?: string
}

export interface ResumableCustom {
  /** e.g. "/admin/api/resumable" */
  endpoint: string
  chunkSize: number
  forceChunkSize: boolean
  simultaneousUploads: number
  /** bytes; 0 or less = no limit */
  maxSize: number
  /** may contain wildcards like "video/*"; empty = any */
  mimeTypes: string[]
  /** lower case without dot; empty = any */
  extensions: string[]
  /** The server's type guesses by extension, for files the browser gives no type. */
  typeByExtension: Record<string, string>
  required: boolean
  /** record.params column names */
  properties: ResumableCustomProperties
}

const num = (value: unknown, fallback: number): number => {
  const n = typeof value === 'string' ? Number(value) : value
  return typeof n === 'number' && Number.isFinite(n) ? n : fallback
}

const strings = (value: unknown): string[] => (Array.isArray(value)
  ? value.filter((v): v is string => typeof v === 'string' && v.trim() !== '').map((v) => v.trim())
  : [])

export function readCustom(custom: unknown): ResumableCustom {
  const c = (custom && typeof custom === 'object' ? custom : {}) as Record<string, unknown>
  const props = (c.properties && typeof c.properties === 'object' ? c.properties : {}) as Record<string, unknown>
  const opt = (v: unknown): string | undefined => (typeof v === 'string' && v ? v : undefined)
  return {
    endpoint: typeof c.endpoint === 'string' ? c.endpoint.replace(/\/+$/, '') : '',
    chunkSize: Math.max(1, Math.floor(num(c.chunkSize, 5 * 1024 * 1024))),
    forceChunkSize: Boolean(c.forceChunkSize),
    simultaneousUploads: Math.max(1, Math.floor(num(c.simultaneousUploads, 3))),
    maxSize: num(c.maxSize, 0),
    mimeTypes: strings(c.mimeTypes).map((m) => m.toLowerCase()),
    extensions: strings(c.extensions).map((e) => e.replace(/^\./, '').toLowerCase()),
    typeByExtension: c.typeByExtension && typeof c.typeByExtension === 'object'
      ? Object.fromEntries(Object.entries(c.typeByExtension).filter(([, v]) => typeof v === 'string')) as Record<string, string>
      : {},
    required: Boolean(c.required),
    properties: {
      key: opt(props.key) ?? 'key',
      file: opt(props.file) ?? 'file',
      filename: opt(props.filename),
      size: opt(props.size),
      mimeType: opt(props.mimeType),
    },
  }
}

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
