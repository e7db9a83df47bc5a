/**
 * Which saved files the browser may show inline instead of downloading, by their checked type
 * (the record's mimeType column). The download route serves only these with
 * `Content-Disposition: inline`, and the show and list components preview only these, so both
 * agree. Everything else, HTML, SVG (it can carry scripts), XML and text included, stays an
 * attachment: an uploaded page must never run in the admin's origin.
 */
export type PreviewKind = 'image' | 'video' | 'audio' | 'pdf'

/** Raster formats browsers decode themselves; no format that can hold a script. */
const INLINE_IMAGES: ReadonlySet<string> = new Set([
  'image/png', 'image/jpeg', 'image/gif', 'image/webp', 'image/avif', 'image/bmp',
])

/** `image/PNG; charset=x` → `image/png`. */
export function essence(mimeType: string | null | undefined): string {
  return String(mimeType ?? '').split(';')[0].trim().toLowerCase()
}

/** How a file of this type is previewed, or null when it is only ever downloaded. */
export function previewKind(mimeType: string | null | undefined): PreviewKind | null {
  const type = essence(mimeType)
  if (INLINE_IMAGES.has(type)) return 'image'
  if (type === 'application/pdf') return 'pdf'
  // Browsers hand any video/* or audio/* body to their media player, never to the HTML parser.
  if (/^video\/[\w.+-]+$/.test(type)) return 'video'
  if (/^audio\/[\w.+-]+$/.test(type)) return 'audio'
  return null
}

/** The query parameter that asks the download route for an image's small thumbnail (src/preview/thumbnail.ts). */
export const THUMB_PARAM = 'thumb'

/** The query parameter that asks the download route for an inline answer. */
export const INLINE_PARAM = 'inline'
