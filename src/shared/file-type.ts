/**
 * The one rule, for the browser and the server alike, that decides whether a file's type and
 * extension are allowed. The browser's `File.type` is often empty (unknown extensions, some OSes),
 * so a missing or malformed declared type is inferred from the extension through BY_EXTENSION
 * before it is matched: the browser's pre-check and the route's check on every chunk then agree.
 */
export const BY_EXTENSION: Readonly<Record<string, string>> = {
  pdf: 'application/pdf', zip: 'application/zip', gz: 'application/gzip', tgz: 'application/gzip',
  tar: 'application/x-tar', json: 'application/json', csv: 'text/csv', txt: 'text/plain',
  mp4: 'video/mp4', m4v: 'video/mp4', mov: 'video/quicktime', mkv: 'video/x-matroska', webm: 'video/webm',
  avi: 'video/x-msvideo', mp3: 'audio/mpeg', wav: 'audio/wav', ogg: 'audio/ogg', flac: 'audio/flac',
  png: 'image/png', jpg: 'image/jpeg', jpeg: 'image/jpeg', gif: 'image/gif', webp: 'image/webp',
  svg: 'image/svg+xml', iso: 'application/x-iso9660-image', bin: 'application/octet-stream',
  parquet: 'application/vnd.apache.parquet', sql: 'application/sql', xml: 'application/xml',
}

/** The type given to a file whose type is neither declared nor known by its extension. */
export const UNKNOWN_TYPE = 'application/octet-stream'

const MIME = /^[a-z0-9][a-z0-9!#$&^_.+-]{0,126}\/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$/

/** Lower-case extension of the last path segment, without the dot; '' when there is none. */
export function extensionOf(name: string): string {
  const base = name.split(/[\\/]/).pop() ?? name
  const dot = base.lastIndexOf('.')
  return dot > 0 ? base.slice(dot + 1).toLowerCase() : ''
}

/** The declared type without parameters, or, when it is missing or malformed, the extension's. */
export function effectiveType(declared: string, filename: string): string {
  const type = declared.trim().toLowerCase().split(';')[0].trim()
  if (type && MIME.test(type)) return type
  return BY_EXTENSION[extensionOf(filename)] ?? UNKNOWN_TYPE
}

/** `*` and `*\/*` match any type, `video/*` any video type, anything else itself (case-insensitive). */
export function mimeMatches(type: string, patterns: readonly string[]): boolean {
  const t = type.toLowerCase()
  return patterns.some((pattern) => {
    const p = pattern.trim().toLowerCase()
    if (p === '*' || p === '*/*') return true
    return p.endsWith('/*') ? t.startsWith(p.slice(0, -1)) : t === p
  })
}

/** False when the list allows every type (absent, empty, or holding `*` or `*\/*`): nothing to check. */
export function limitsTypes(patterns: readonly string[] | undefined): patterns is readonly string[] {
  return !!patterns?.length && !patterns.some((p) => ['*', '*/*'].includes(p.trim()))
}

export function normalizeExtension(extension: string): string {
  return extension.trim().replace(/^\./, '').toLowerCase()
}

export interface TypeRules {
  /** Empty or absent: any type. */
  mimeTypes?: readonly string[]
  /** With or without the dot, any case. Empty or absent: any extension. */
  extensions?: readonly string[]
}

export type TypeProblem =
  | { code: 'extension'; extension: string; allowed: string[] }
  | { code: 'type'; type: string; allowed: string[] }

/**
 * Why a file of this declared type and name is refused, or null when it is allowed. The extension
 * is checked first: its message is the one a person can act on.
 */
export function typeProblem(declared: string, filename: string, rules: TypeRules): TypeProblem | null {
  if (rules.extensions?.length) {
    const allowed = rules.extensions.map(normalizeExtension)
    const extension = extensionOf(filename)
    if (!allowed.includes(extension)) return { code: 'extension', extension, allowed }
  }
  if (rules.mimeTypes?.length) {
    const type = effectiveType(declared, filename)
    if (!mimeMatches(type, rules.mimeTypes)) return { code: 'type', type, allowed: [...rules.mimeTypes] }
  }
  return null
}
