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

/** A playable PCM WAV: `seconds` of a 440 Hz tone, 8 kHz mono 16-bit. */
export function wavFile(seconds = 1): Buffer {
  const rate = 8000
  const samples = Math.round(seconds * rate)
  const data = Buffer.alloc(samples * 2)
  for (let i = 0; i < samples; i += 1) data.writeInt16LE(Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / rate)), i * 2)
  const header = Buffer.alloc(44)
  header.write('RIFF', 0)
  header.writeUInt32LE(36 + data.length, 4)
  header.write('WAVEfmt ', 8)
  header.writeUInt32LE(16, 16)
  header.writeUInt16LE(1, 20) // PCM
  header.writeUInt16LE(1, 22) // mono
  header.writeUInt32LE(rate, 24)
  header.writeUInt32LE(rate * 2, 28)
  header.writeUInt16LE(2, 32)
  header.writeUInt16LE(16, 34)
  header.write('data', 36)
  header.writeUInt32LE(data.length, 40)
  return Buffer.concat([header, data])
}

/** An SVG image with a script in it: fine in an `<img>`, dangerous as a page. */
export function svgFile(): Buffer {
  return Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><script>alert(1)</script><rect width="10" height="10"/></svg>\n')
}
