import { InvalidRequest, TooLarge, TypeNotAllowed } from '../src/errors.js'
import { mergeParams, parseChunkRequest, type UploadRules } from '../src/protocol/chunk-request.js'

const rules: UploadRules = { chunkSize: 1000, forceChunkSize: false, maxSize: 100_000, mimeTypes: ['video/*', 'application/pdf'] }

function params(over: Record<string, string | string[] | undefined> = {}) {
  return {
    resumableChunkNumber: '1', resumableChunkSize: '1000', resumableCurrentChunkSize: '1000',
    resumableTotalSize: '2500', resumableType: 'video/mp4', resumableIdentifier: '2500-movie_mp4',
    resumableFilename: 'movie.mp4', resumableRelativePath: 'movie.mp4', resumableTotalChunks: '2',
    ...over,
  }
}

describe('parseChunkRequest', () => {
  it('accepts what resumablejs sends and computes the exact chunk length', () => {
    const last = parseChunkRequest(params({ resumableChunkNumber: '2', resumableCurrentChunkSize: '1500' }), rules)
    expect(last).toMatchObject({ chunkNumber: 2, chunkLength: 1500, chunkCount: 2, filename: 'movie.mp4', type: 'video/mp4' })
  })

  it.each([
    ['abc'], ['-1'], ['0'], ['1.5'], ['1e3'], [' 1'], ['99999999999999999'], [''],
  ])('refuses chunk number %j', (value) => {
    expect(() => parseChunkRequest(params({ resumableChunkNumber: value }), rules)).toThrow(InvalidRequest)
  })

  it('refuses a chunk number beyond the count the server computes, ignoring resumableTotalChunks', () => {
    expect(() => parseChunkRequest(params({ resumableChunkNumber: '3', resumableTotalChunks: '3' }), rules)).toThrow(/beyond/)
    // 1.1.0 can send a wrong total: the server's own count decides.
    expect(parseChunkRequest(params({ resumableTotalChunks: '7' }), rules).chunkCount).toBe(2)
  })

  it('refuses a declared chunk size that disagrees with the arithmetic', () => {
    expect(() => parseChunkRequest(params({ resumableCurrentChunkSize: '999' }), rules)).toThrow(/must be 1000 bytes/)
    expect(() => parseChunkRequest(params({ resumableChunkNumber: '2', resumableCurrentChunkSize: '1000' }), rules)).toThrow(/must be 1500 bytes/)
  })

  it('refuses a chunk size other than the configured one', () => {
    expect(() => parseChunkRequest(params({ resumableChunkSize: '10' }), rules)).toThrow(/Chunk size must be 1000/)
  })

  it('answers 413 for a total over maxSize and 415 for a forbidden type', () => {
    expect(() => parseChunkRequest(params({ resumableTotalSize: '100001' }), rules)).toThrow(TooLarge)
    expect(() => parseChunkRequest(params({ resumableType: 'text/html', resumableFilename: 'x.html' }), rules)).toThrow(TypeNotAllowed)
    expect(new TooLarge('x').status).toBe(413)
    expect(new TypeNotAllowed('x').status).toBe(415)
  })

  it('guesses an empty browser type from the extension', () => {
    expect(parseChunkRequest(params({ resumableType: '', resumableFilename: 'a.pdf' }), rules).type).toBe('application/pdf')
    expect(() => parseChunkRequest(params({ resumableType: '', resumableFilename: 'a.exe' }), rules)).toThrow(TypeNotAllowed)
  })

  it('refuses repeated, missing, over-long and control-character parameters', () => {
    expect(() => parseChunkRequest(params({ resumableChunkNumber: ['1', '2'] }), rules)).toThrow(/more than once/)
    expect(() => parseChunkRequest(params({ resumableIdentifier: undefined }), rules)).toThrow(/missing/)
    expect(() => parseChunkRequest(params({ resumableIdentifier: 'x'.repeat(257) }), rules)).toThrow(/longer/)
    expect(() => parseChunkRequest(params({ resumableFilename: 'a\u0000.mp4' }), rules)).toThrow(/control/)
  })

  it('keeps only a sanitised file name', () => {
    expect(parseChunkRequest(params({ resumableFilename: '../../etc/passwd.mp4' }), rules).filename).toBe('passwd.mp4')
  })
})

describe('mergeParams', () => {
  it('merges URL and body and refuses disagreement', () => {
    expect(mergeParams({ a: '1' }, { b: '2', a: '1' })).toEqual({ a: '1', b: '2' })
    expect(() => mergeParams({ a: '1' }, { a: '2' })).toThrow(/differs/)
  })
})
