import { sanitizeFilename } from '../src/protocol/filename.js'
import { effectiveType, typeProblem } from '../src/shared/file-type.js'

const typeAllowed = (type: string, name: string, rules: { mimeTypes?: string[]; extensions?: string[] }) => typeProblem(type, name, rules) === null

describe('sanitizeFilename', () => {
  it.each([
    ['report.pdf', 'report.pdf'],
    ['../../etc/passwd', 'passwd'],
    ['..\\..\\windows\\win.ini', 'win.ini'],
    ['/abs/path/x.bin', 'x.bin'],
    ['a\u2215b.txt', 'b.txt'],
    ['a\uFF0Fb.txt', 'b.txt'],
    ['..', 'file'],
    ['.hidden', 'hidden'],
    ['\uFF0E\uFF0E', 'file'],
    ['nul\u0000byte.txt', 'nulbyte.txt'],
    ['CON', '_CON'],
    ['com1.txt', '_com1.txt'],
    ['trailing. . ', 'trailing'],
    ['', 'file'],
    ['a<b>c:d"e|f?g*h.txt', 'abcdefgh.txt'],
  ])('%j becomes %j', (input, output) => {
    expect(sanitizeFilename(input)).toBe(output)
  })

  it('truncates 10,000-character names to 200 bytes, keeping the extension', () => {
    const name = sanitizeFilename(`${'é'.repeat(10_000)}.mp4`)
    expect(Buffer.byteLength(name)).toBeLessThanOrEqual(200)
    expect(name.endsWith('.mp4')).toBe(true)
  })
})

describe('file types', () => {
  it('matches wildcards and exact types', () => {
    expect(typeAllowed('video/mp4', 'a.mp4', { mimeTypes: ['video/*'] })).toBe(true)
    expect(typeAllowed('videos/mp4', 'a.mp4', { mimeTypes: ['video/*'] })).toBe(false)
    expect(typeAllowed('application/pdf', 'a.pdf', { mimeTypes: ['application/pdf'], extensions: ['.PDF'] })).toBe(true)
    expect(typeAllowed('application/pdf', 'a.exe', { extensions: ['pdf'] })).toBe(false)
    expect(typeAllowed('anything/x', 'a', {})).toBe(true)
  })

  it('ignores parameters and garbage in the declared type', () => {
    expect(effectiveType('Video/MP4; codecs=x', 'a.mp4')).toBe('video/mp4')
    expect(effectiveType('<script>', 'a.pdf')).toBe('application/pdf')
    expect(effectiveType('', 'a.unknown')).toBe('application/octet-stream')
  })
})
