import { extensionOf } from './filename.js'

/**
 * Type checks shared by the route (on every chunk) and mirrored by the edit component. The browser's
 * `File.type` is often empty (unknown extensions, some OSes), so an empty type is guessed from the
 * extension before it is matched. This table is sent to the edit component too
 * (property.custom.typeByExtension): one table for both checks.
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

const MIME = /^[a-z0-9][a-z0-9!#$&^_.+-]{0,126}\/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$/

export function effectiveType(declared: string, filename: string): string {
  const type = declared.trim().toLowerCase().split(';')[0].trim()
  if (type && MIME.test(type)) return type
  return BY_EXTENSION[extensionOf(filename)] ?? 'application/octet-stream'
}

export function typeAllowed(
  type: string,
  filename: string,
  rules: { mimeTypes?: string[]; extensions?: string[] },
): boolean {
  if (rules.mimeTypes?.length) {
    const ok = rules.mimeTypes.some((pattern) => {
      const p = pattern.toLowerCase()
      return p.endsWith('/*') ? type.startsWith(p.slice(0, -1)) : type === p
    })
    if (!ok) return false
  }
  if (rules.extensions?.length) {
    const ext = extensionOf(filename)
    if (!rules.extensions.some((e) => e.replace(/^\./, '').toLowerCase() === ext)) return false
  }
  return true
}
