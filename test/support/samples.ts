/**
 * Small real files for the content checks: each starts as its format requires (what file-type and
 * any viewer look at) and is padded to the size a test needs.
 */
import { bytes } from './resumable-client.js'

const PNG_1X1 = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==',
  'base64',
)

function padded(head: Buffer, size: number, tail = Buffer.alloc(0)): Buffer {
  const filler = bytes(Math.max(size - head.length - tail.length, 0), 7)
  return Buffer.concat([head, filler, tail]).subarray(0, Math.max(size, head.length + tail.length))
}

/** A 1x1 PNG followed by bytes after its IEND chunk (which readers ignore). */
export function pngFile(size = PNG_1X1.length): Buffer {
  return padded(PNG_1X1, size)
}

/** A PDF: header, one object, padding inside a stream, trailer. */
export function pdfFile(size = 512): Buffer {
  const head = Buffer.from('%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n2 0 obj\n<< /Length 0 >>\nstream\n', 'latin1')
  const tail = Buffer.from('\nendstream\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n')
  return padded(head, size, tail)
}

/** An HTML page with a script: what must never pass as a PDF or an image. */
export function htmlFile(size = 512): Buffer {
  const page = '<!doctype html><html><body><script>alert(document.cookie)</script>\n'
  return Buffer.from(page + 'x'.repeat(Math.max(size - page.length - 15, 0)) + '</body></html>\n').subarray(0, Math.max(size, page.length))
}

/** UTF-8 text (CSV) of about `size` bytes, with multi-byte characters. */
export function csvFile(size = 512): Buffer {
  const rows: string[] = ['name,city']
  for (let i = 0; rows.join('\n').length < size; i++) rows.push(`Zoë ${i},Zürich`)
  return Buffer.from(`${rows.join('\n')}\n`)
}

const SIGNATURES: Readonly<Record<string, Buffer>> = {
  'application/pdf': Buffer.from('%PDF-1.4\n'),
  // An ISO base media file type box: size 24, "ftyp", brand isom, version, compatible brands.
  'video/mp4': Buffer.concat([Buffer.from([0, 0, 0, 0x18]), Buffer.from('ftypisom'), Buffer.from([0, 0, 2, 0]), Buffer.from('isommp42')]),
}

/** Deterministic bytes that start with `type`'s signature, so that a content check recognises them. */
export function signed(type: keyof typeof SIGNATURES, size: number, seed = 1): Buffer {
  const head = SIGNATURES[type]
  return Buffer.concat([head, bytes(Math.max(size - head.length, 0), seed)]).subarray(0, size)
}
