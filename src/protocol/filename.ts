/**
 * The client's file name is metadata, never a path: it is reduced to a safe display name here and
 * only ever used as the last segment of a path the server builds (see upload/upload-path.ts).
 */
const WINDOWS_RESERVED = /^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³])(\..*)?$/i
const MAX_NAME_BYTES = 200

export function sanitizeFilename(raw: string): string {
  let name = raw.normalize('NFC')
  // Only the last segment of anything that looks like a path, for both separators and the common
  // Unicode look-alikes (fraction slash, division slash, fullwidth slash and backslash).
  name = name.split(/[\\/\u2044\u2215\uFF0F\uFF3C\u29F5\u29F8\u29F9]/).pop() ?? ''
  // Control characters, and characters that are invalid on Windows or troublesome in shells/URLs.
  name = name.replace(/[\p{Cc}<>:"|?*\u200B-\u200F\u202A-\u202E\u2066-\u2069\uFEFF]/gu, '')
  // No leading dots (hidden files, "..") and no trailing dots or spaces (Windows strips them).
  name = name.replace(/^[\s.\u2024\u2025\u2026\uFE52\uFF0E]+/, '').replace(/[\s.]+$/, '')
  if (WINDOWS_RESERVED.test(name)) name = `_${name}`
  name = truncateUtf8(name, MAX_NAME_BYTES)
  return name || 'file'
}

/**
 * A folder drop's relative path (`photos/2024/a.jpg`) as display metadata: each segment reduced by
 * sanitizeFilename, so no segment is empty, `.`, `..` or hidden. Never used to build a key: the
 * stored file's key comes from `uploadPath` and the file name alone. Undefined when the file came
 * without a folder (Resumable.js then sends the file name itself).
 */
export function sanitizeRelativePath(raw: string | undefined): string | undefined {
  if (!raw) return undefined
  const segments = raw.normalize('NFC').split(/[\\/]+/).filter((s) => s.trim() !== '')
  if (segments.length < 2) return undefined
  return segments.slice(-16).map(sanitizeFilename).join('/')
}

/** Truncates to a byte budget while keeping the extension when there is a short one. */
function truncateUtf8(name: string, maxBytes: number): string {
  if (Buffer.byteLength(name) <= maxBytes) return name
  const dot = name.lastIndexOf('.')
  const ext = dot > 0 && name.length - dot <= 16 ? name.slice(dot) : ''
  const budget = maxBytes - Buffer.byteLength(ext)
  let base = ''
  let used = 0
  for (const ch of ext ? name.slice(0, dot) : name) {
    const size = Buffer.byteLength(ch)
    if (used + size > budget) break
    base += ch
    used += size
  }
  return base + ext
}
