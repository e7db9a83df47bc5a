import { Readable } from 'node:stream'
import { checkedStream } from '../src/content/checked-stream.js'
import { checkContent, looksLikeText, SAMPLE_SIZE } from '../src/content/sniff.js'
import { TypeNotAllowed } from '../src/errors.js'
import { bytes } from './support/resumable-client.js'
import { csvFile, htmlFile, pdfFile, pngFile } from './support/samples.js'

const PDF_ONLY = { mimeTypes: ['application/pdf'] }
const DOCUMENTS = { mimeTypes: ['application/pdf', 'image/*', 'text/csv', 'image/svg+xml', 'application/json'] }

describe('checkContent', () => {
  test('an HTML page declared as a PDF is refused', async () => {
    await expect(checkContent(htmlFile(), 'application/pdf', 'evil.html', PDF_ONLY)).rejects.toBeInstanceOf(TypeNotAllowed)
  })

  test('a real PDF passes and keeps its type', async () => {
    await expect(checkContent(pdfFile(), 'application/pdf', 'a.pdf', PDF_ONLY)).resolves.toBe('application/pdf')
  })

  test('the detected type is kept, not the declared one, where both are allowed', async () => {
    await expect(checkContent(pngFile(), 'image/jpeg', 'photo.jpg', DOCUMENTS)).resolves.toBe('image/png')
  })

  test('a signature outside the allowed types is refused even under a generic claim', async () => {
    await expect(checkContent(pngFile(), 'application/octet-stream', 'x.bin', { mimeTypes: ['application/octet-stream'] }))
      .rejects.toBeInstanceOf(TypeNotAllowed)
  })

  test('an allowed signature of another family than declared is refused (an "image" that is a PDF)', async () => {
    await expect(checkContent(pdfFile(), 'image/png', 'a.png', DOCUMENTS)).rejects.toThrow(/application\/pdf/)
  })

  test('a type declared under another of its names is the same type (image/x-png is image/png)', async () => {
    const png = pngFile()
    await expect(checkContent(png, 'image/x-png', 'a.png', { mimeTypes: ['image/x-png'] })).resolves.toBe('image/png')
  })

  test('a container signature does not contradict a format built in it (an OOXML file seen as ZIP)', async () => {
    const zip = Buffer.concat([Buffer.from([0x50, 0x4b, 0x03, 0x04]), Buffer.alloc(26), Buffer.from('other.bin'), bytes(200)])
    zip.writeUInt16LE(9, 26)
    const docx = 'application/vnd.openxmlformats-officedocument.wordprocessingml.document'
    await expect(checkContent(zip, docx, 'a.docx', { mimeTypes: [docx] })).resolves.toBe(docx)
    await expect(checkContent(zip, 'application/pdf', 'a.pdf', PDF_ONLY)).rejects.toBeInstanceOf(TypeNotAllowed)
  })

  test('text types: valid UTF-8 text passes as declared, binary bytes do not', async () => {
    await expect(checkContent(csvFile(), 'text/csv', 'a.csv', DOCUMENTS)).resolves.toBe('text/csv')
    await expect(checkContent(Buffer.from('{"a": "ü"}'), 'application/json', 'a.json', DOCUMENTS)).resolves.toBe('application/json')
    await expect(checkContent(bytes(600, 3), 'text/csv', 'a.csv', DOCUMENTS)).rejects.toBeInstanceOf(TypeNotAllowed)
  })

  test('an SVG, with or without an XML declaration, passes as an SVG', async () => {
    const svg = '<svg xmlns="http://www.w3.org/2000/svg" width="1" height="1"></svg>'
    await expect(checkContent(Buffer.from(svg), 'image/svg+xml', 'a.svg', DOCUMENTS)).resolves.toBe('image/svg+xml')
    await expect(checkContent(Buffer.from(`<?xml version="1.0"?>\n${svg}`), 'image/svg+xml', 'a.svg', DOCUMENTS)).resolves.toBe('image/svg+xml')
  })

  test('a PNG declared as CSV is refused', async () => {
    await expect(checkContent(pngFile(), 'text/csv', 'a.csv', DOCUMENTS)).rejects.toBeInstanceOf(TypeNotAllowed)
  })

  test('a type file-type cannot recognise is accepted as declared when no signature contradicts it', async () => {
    const iso = { mimeTypes: ['application/x-iso9660-image'] }
    await expect(checkContent(Buffer.alloc(SAMPLE_SIZE), 'application/x-iso9660-image', 'a.iso', iso)).resolves.toBe('application/x-iso9660-image')
  })
})

describe('looksLikeText', () => {
  test('accepts UTF-8 cut in the middle of a character, refuses NUL and invalid sequences', () => {
    const text = Buffer.from('abc ü')
    expect(looksLikeText(text.subarray(0, text.length - 1))).toBe(true)
    expect(looksLikeText(Buffer.from('a\u0000b'))).toBe(false)
    expect(looksLikeText(Buffer.from([0x61, 0xc3, 0x28]))).toBe(false)
    expect(looksLikeText(Buffer.from('tab\there\r\n'))).toBe(true)
  })
})

describe('checkedStream', () => {
  async function drain(stream: NodeJS.ReadableStream): Promise<Buffer> {
    const pieces: Buffer[] = []
    for await (const piece of stream) pieces.push(piece as Buffer)
    return Buffer.concat(pieces)
  }

  test('passes every byte through and checks exactly the first SAMPLE_SIZE bytes, once', async () => {
    const data = pdfFile(3 * SAMPLE_SIZE)
    const samples: Buffer[] = []
    const pieces = [data.subarray(0, 1000), data.subarray(1000, 5000), data.subarray(5000)]
    const out = await drain(Readable.from(pieces).pipe(checkedStream(async (sample) => { samples.push(sample) })))
    expect(out.equals(data)).toBe(true)
    expect(samples).toHaveLength(1)
    expect(samples[0].equals(data.subarray(0, SAMPLE_SIZE))).toBe(true)
  })

  test('a body shorter than the sample is checked whole, at its end', async () => {
    const data = pdfFile(300)
    const samples: Buffer[] = []
    await drain(Readable.from([data]).pipe(checkedStream(async (sample) => { samples.push(sample) })))
    expect(samples.map((s) => s.equals(data))).toEqual([true])
  })

  test('the stream does not end before the check has passed, and fails with its error', async () => {
    let release!: () => void
    const gate = new Promise<void>((resolve) => { release = resolve })
    let ended = false
    const stream = Readable.from([pdfFile(100)]).pipe(checkedStream(() => gate))
    const done = drain(stream).then(() => { ended = true })
    await new Promise((resolve) => setImmediate(resolve))
    await new Promise((resolve) => setImmediate(resolve))
    expect(ended).toBe(false)
    release()
    await done
    expect(ended).toBe(true)

    const refused = Readable.from([htmlFile(100)]).pipe(checkedStream(async () => { throw new TypeNotAllowed('no') }))
    await expect(drain(refused)).rejects.toBeInstanceOf(TypeNotAllowed)
  })

  test('a refusal stops the stream before the rest of a long body is passed on', async () => {
    const data = htmlFile(20 * SAMPLE_SIZE)
    const source = new Readable({ read() {} })
    const stream = checkedStream(async () => { throw new TypeNotAllowed('no') })
    source.pipe(stream)
    source.push(data.subarray(0, SAMPLE_SIZE))
    const seen: Buffer[] = []
    const outcome = (async () => { for await (const piece of stream) seen.push(piece as Buffer) })()
    await expect(outcome).rejects.toBeInstanceOf(TypeNotAllowed)
    source.push(data.subarray(SAMPLE_SIZE))
    expect(Buffer.concat(seen).length).toBeLessThanOrEqual(SAMPLE_SIZE)
  })
})
