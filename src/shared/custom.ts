// `property.custom` of the file property: what the feature hands to the components (JSON only,
// nothing secret). The server builds it; the browser reads it back with readCustom().

/** Which record columns the feature fills; names follow `@adminjs/upload`'s `properties`. */
export interface ResumablePropertyMapping {
  /** Column holding the stored file's key (a path relative to the storage root). Required. */
  key: string
  /** The virtual property staff see in the form. Default `file`. */
  file?: string
  filename?: string
  size?: string
  mimeType?: string
  /**
   * With `multiple`: column filled with each file's sanitised relative path from a folder drop
   * (`photos/2024/a.jpg`; null for a file picked on its own). Display metadata only.
   */
  relativePath?: string
  /**
   * Column filled on Save with the file's SHA-256 (64 hex digits); with it set, downloads send the
   * digest in `Repr-Digest`, `Digest` and `X-Checksum-Sha256`.
   */
  checksum?: string
  /** Column filled on Save with the JSON of what `onUploadComplete` returned as `metadata`. */
  metadata?: string
}

/** The mapping as the components receive it: the file property's name filled in. */
export type ResumableCustomProperties = ResumablePropertyMapping & { file: string }

/**
 * How chunks reach the storage: `through-app` (the chunk route receives each chunk and passes it
 * on), or `direct` (S3 only: the browser PUTs each chunk to the bucket under a URL the route signed
 * for exactly that part; see direct-protocol.ts).
 */
export type UploadMode = 'through-app' | 'direct'

export const UPLOAD_MODES: readonly UploadMode[] = ['through-app', 'direct']

export interface ResumableCustom {
  /** Names this feature in the server's registry. */
  featureId: string
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
  required: boolean
  /** The property holds a list of files; every column holds an array. */
  multiple: boolean
  /** How the chunks travel (`direct`: to the bucket under signed URLs, see direct-protocol.ts). */
  upload: UploadMode
  /** record.params column names */
  properties: ResumableCustomProperties
}

export const DEFAULT_CHUNK_SIZE = 5 * 1024 * 1024
export const DEFAULT_SIMULTANEOUS_UPLOADS = 3

const num = (value: unknown, fallback: number): number => {
  const n = typeof value === 'string' ? Number(value) : value
  return typeof n === 'number' && Number.isFinite(n) ? n : fallback
}

const strings = (value: unknown): string[] => (Array.isArray(value)
  ? value.filter((v): v is string => typeof v === 'string' && v.trim() !== '').map((v) => v.trim())
  : [])

/**
 * Reads `property.custom` defensively: a missing or malformed field falls back to a safe default
 * instead of breaking the form.
 */
export function readCustom(custom: unknown): ResumableCustom {
  const c = (custom && typeof custom === 'object' ? custom : {}) as Record<string, unknown>
  const props = (c.properties && typeof c.properties === 'object' ? c.properties : {}) as Record<string, unknown>
  const opt = (v: unknown): string | undefined => (typeof v === 'string' && v ? v : undefined)
  return {
    featureId: typeof c.featureId === 'string' ? c.featureId : '',
    endpoint: typeof c.endpoint === 'string' ? c.endpoint.replace(/\/+$/, '') : '',
    chunkSize: Math.max(1, Math.floor(num(c.chunkSize, DEFAULT_CHUNK_SIZE))),
    forceChunkSize: Boolean(c.forceChunkSize),
    simultaneousUploads: Math.max(1, Math.floor(num(c.simultaneousUploads, DEFAULT_SIMULTANEOUS_UPLOADS))),
    maxSize: num(c.maxSize, 0),
    mimeTypes: strings(c.mimeTypes).map((m) => m.toLowerCase()),
    extensions: strings(c.extensions).map((e) => e.replace(/^\./, '').toLowerCase()),
    required: Boolean(c.required),
    multiple: Boolean(c.multiple),
    upload: c.upload === 'direct' ? 'direct' : 'through-app',
    properties: {
      key: opt(props.key) ?? 'key',
      file: opt(props.file) ?? 'file',
      filename: opt(props.filename),
      size: opt(props.size),
      mimeType: opt(props.mimeType),
      relativePath: opt(props.relativePath),
      checksum: opt(props.checksum),
      metadata: opt(props.metadata),
    },
  }
}
