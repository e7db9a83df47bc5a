import { fileTypeFromBuffer, supportedMimeTypes } from 'file-type'
import { TypeNotAllowed } from '../errors.js'
import { mimeMatches } from '../shared/file-type.js'

/**
 * How many leading bytes decide a file's type: file-type's own sample size. Every signature it
 * knows, except a few at large offsets (ISO images), lies within them.
 */
export const SAMPLE_SIZE = 4100

/**
 * Names browsers and operating systems give to types file-type reports under another name: a file
 * declared under one of these is the same type as its canonical name.
 */
const ALIASES: Readonly<Record<string, string>> = {
  'application/x-zip-compressed': 'application/zip',
  'application/x-gzip': 'application/gzip',
  'application/x-pdf': 'application/pdf',
  'audio/x-wav': 'audio/wav',
  'audio/wave': 'audio/wav',
  'audio/vnd.wave': 'audio/wav',
  'audio/mp3': 'audio/mpeg',
  'audio/x-mpeg': 'audio/mpeg',
  'audio/x-flac': 'audio/flac',
  'audio/x-m4a': 'audio/mp4',
  'image/jpg': 'image/jpeg',
  'image/pjpeg': 'image/jpeg',
  'image/x-png': 'image/png',
  'video/x-matroska': 'video/matroska',
  'video/x-msvideo': 'video/vnd.avi',
  'video/avi': 'video/vnd.avi',
  'video/x-m4v': 'video/mp4',
}

function canonical(type: string): string {
  return ALIASES[type] ?? type
}

/**
 * Formats built inside a generic container: in the first bytes file-type may only see the
 * container (a ZIP, an OLE compound file, XML), which then does not contradict the declared type.
 */
const CONTAINED_IN: Readonly<Record<string, RegExp>> = {
  'application/zip': /^application\/(vnd\.openxmlformats-|vnd\.oasis\.opendocument\.|vnd\.android\.package-archive$|java-archive$|[a-z0-9.-]+\+zip$)/,
  'application/x-cfb': /^application\/(msword$|vnd\.ms-|x-msi$|vnd\.visio$)/,
  'application/xml': /^(text\/xml$|application\/xml$|[a-z]+\/[a-z0-9.-]+\+xml$)/,
}

/** Types whose content is text, which file-type has no signature for (plain text, CSV, JSON, SVG...). */
export function isTextType(type: string): boolean {
  return type.startsWith('text/')
    || /^application\/(json|xml|sql|javascript|x-ndjson|x-yaml|yaml|x-sh|csv)$/.test(type)
    || /\+(json|xml)$/.test(type)
}

/**
 * Text: valid UTF-8 (a sequence cut by the end of the sample is fine) without NUL or other C0
 * controls than tab, line feed, vertical tab, form feed, carriage return and escape.
 */
export function looksLikeText(sample: Uint8Array): boolean {
  for (const byte of sample) {
    if (byte < 0x20 && !(byte >= 0x09 && byte <= 0x0d) && byte !== 0x1b) return false
  }
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(sample, { stream: true })
    return true
  } catch {
    return false
  }
}

function family(type: string): string {
  return type.split('/')[0]
}

/**
 * Decides whether the file's first bytes agree with its declared type and the allowed types, and
 * returns the type to keep for it (the one Save stores and downloads send). Throws TypeNotAllowed
 * otherwise. The policy:
 * - a signature file-type recognises must itself be an allowed type, or the declared type under
 *   another name, or the container of the declared type (a DOCX is a ZIP); and it must be of the
 *   declared type's family (an "image" that is a PDF is refused even where PDFs are allowed), unless
 *   the declared type is the generic `application/octet-stream`. The detected type is kept, except
 *   for a container, where the declared, more precise type is;
 * - no signature, declared a text type: the bytes must look like text;
 * - no signature, declared a type file-type would have recognised: refused (an "application/pdf"
 *   that does not start like a PDF);
 * - no signature, declared a type file-type cannot recognise (an ISO image, a proprietary format):
 *   accepted as declared, as there is nothing to compare with.
 */
export async function checkContent(
  sample: Uint8Array,
  declared: string,
  filename: string,
  rules: { mimeTypes?: string[] },
): Promise<string> {
  const wanted = canonical(declared)
  const detected = await fileTypeFromBuffer(sample)
  if (detected) {
    const found = detected.mime
    if (CONTAINED_IN[found]?.test(declared)) return declared
    const sameType = canonical(found) === wanted
    const genericClaim = declared === 'application/octet-stream'
    const allowed = !rules.mimeTypes?.length || mimeMatches(found, rules.mimeTypes)
    if ((sameType || allowed) && (sameType || genericClaim || family(found) === family(declared))) return found
    throw new TypeNotAllowed(`${filename} was declared as ${declared}, but its content is ${found}, which is not allowed here.`)
  }
  if (isTextType(declared)) {
    if (looksLikeText(sample)) return declared
    throw new TypeNotAllowed(`${filename} was declared as ${declared}, but its content is not text.`)
  }
  if (supportedMimeTypes.has(wanted)) {
    throw new TypeNotAllowed(`${filename} was declared as ${declared}, but its content is not of that type.`)
  }
  return declared
}
