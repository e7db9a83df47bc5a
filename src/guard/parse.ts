import type { IncomingMessage } from 'node:http'
import { pipeline } from 'node:stream'
import querystring from 'node:querystring'
import busboy from 'busboy'

import type { TempFileSet } from './temp-files.js'

/**
 * What express-formidable 1.2.0 (formidable 1.2.x) puts into `req.files[name]`, plus the formidable
 * v2+/v3 names that @adminjs/upload and newer code read (`filepath`, `originalFilename`, `mimetype`).
 */
export interface UploadedFile {
  size: number
  path: string
  name: string
  type: string
  filepath: string
  originalFilename: string
  mimetype: string
  lastModifiedDate: Date
}

export type Fields = Record<string, unknown>
export type Files = Record<string, UploadedFile>

/** Why a body was refused; mapped to a status by the guard. */
export class BodyError extends Error {
  constructor(
    readonly status: 400 | 408 | 413 | 415,
    readonly code: 'bad_request' | 'request_timeout' | 'too_large' | 'unsupported_media_type',
    message: string,
  ) {
    super(message)
    this.name = 'BodyError'
  }
}

export interface ParseLimits {
  maxBodySize: number
  maxFileSize: number
  maxFields: number
  maxFieldSize: number
  maxFiles: number
}

export interface ParseResult {
  fields: Fields
  files: Files
}

/**
 * Parser handle: `promise` settles exactly once. `abort(err)` stops reading (the request stays
 * paused, so Node does not pull the rest of the body) and rejects with `err`.
 */
export interface BodyParse {
  promise: Promise<ParseResult>
  abort(err: Error): void
}

const tooLarge = (what: string): BodyError => new BodyError(413, 'too_large', what)

/**
 * Counts every body byte; more than `maxBodySize` rejects at once, so a chunked body (no
 * Content-Length) is stopped mid-stream. A client that goes away rejects with a 400.
 */
function readBody(
  req: IncomingMessage,
  maxBodySize: number,
  onChunk: (chunk: Buffer) => boolean,
  onEnd: () => void,
  fail: (err: Error) => void,
): () => void {
  let received = 0
  const onData = (chunk: Buffer): void => {
    received += chunk.length
    if (received > maxBodySize) {
      fail(tooLarge(`Request body is larger than ${maxBodySize} bytes`))
      return
    }
    if (!onChunk(chunk)) req.pause()
  }
  const onClose = (): void => {
    if (!req.complete) fail(new BodyError(400, 'bad_request', 'Request aborted by the client'))
  }
  const onError = (err: Error): void => {
    fail(new BodyError(400, 'bad_request', `Request stream error: ${err.message}`))
  }
  req.on('data', onData)
  req.once('end', onEnd)
  req.once('close', onClose)
  req.on('error', onError)
  return () => {
    req.off('data', onData)
    req.off('end', onEnd)
    req.off('close', onClose)
    // Keep an error listener: an IncomingMessage only emits 'error' when one is attached, and a
    // late one must never become an uncaught exception.
    req.off('error', onError)
    req.on('error', () => {})
    req.pause()
  }
}

/** urlencoded or JSON, in memory, with formidable v1's field semantics. */
export function parseBuffered(
  req: IncomingMessage,
  kind: 'urlencoded' | 'json',
  limits: Pick<ParseLimits, 'maxBodySize' | 'maxFields' | 'maxFieldSize'>,
): BodyParse {
  let settled = false
  let stop: () => void = () => {}
  let resolve!: (r: ParseResult) => void
  let reject!: (e: Error) => void
  const promise = new Promise<ParseResult>((res, rej) => {
    resolve = res
    reject = rej
  })
  const fail = (err: Error): void => {
    if (settled) return
    settled = true
    stop()
    reject(err)
  }
  const chunks: Buffer[] = []
  stop = readBody(
    req,
    limits.maxBodySize,
    (chunk) => {
      chunks.push(chunk)
      return true
    },
    () => {
      if (settled) return
      try {
        const text = Buffer.concat(chunks).toString('utf8')
        const fields = kind === 'json' ? parseJson(text) : parseUrlencoded(text, limits)
        settled = true
        stop()
        resolve({ fields, files: {} })
      } catch (err) {
        fail(err as Error)
      }
    },
    fail,
  )
  return { promise, abort: fail }
}

function parseUrlencoded(text: string, limits: Pick<ParseLimits, 'maxFields' | 'maxFieldSize'>): Fields {
  const pairs = text.split('&').filter((p) => p.length > 0).length
  if (pairs > limits.maxFields) throw tooLarge(`More than ${limits.maxFields} fields`)
  // formidable 1.x uses querystring.parse too: a repeated key becomes an array of strings.
  const parsed = querystring.parse(text, '&', '=', { maxKeys: 0 })
  const fields: Fields = {}
  for (const [key, value] of Object.entries(parsed)) {
    const values = Array.isArray(value) ? value : [value]
    for (const v of values) {
      if (v !== undefined && Buffer.byteLength(v) > limits.maxFieldSize) {
        throw tooLarge(`Field "${key}" is larger than ${limits.maxFieldSize} bytes`)
      }
    }
    fields[key] = value
  }
  return fields
}

function parseJson(text: string): Fields {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    throw new BodyError(400, 'bad_request', 'Malformed JSON body')
  }
  // formidable 1.x: `for (key in parsed) emit('field', key, parsed[key])`.
  if (value !== null && typeof value === 'object') return { ...(value as Record<string, unknown>) }
  return {}
}

/**
 * multipart/form-data with busboy: fields in memory, each file part streamed into its own temp file.
 * Repeated names: the last one wins, for fields and files (formidable 1.x without `multiples`).
 * Resolves only after every temp file is fully written and closed.
 */
export function parseMultipart(req: IncomingMessage, limits: ParseLimits, temp: TempFileSet): BodyParse {
  let settled = false
  let stop: () => void = () => {}
  let resolve!: (r: ParseResult) => void
  let reject!: (e: Error) => void
  const promise = new Promise<ParseResult>((res, rej) => {
    resolve = res
    reject = rej
  })

  let bb: busboy.Busboy
  try {
    bb = busboy({
      headers: req.headers,
      defParamCharset: 'utf8',
      limits: {
        fieldNameSize: 16 * 1024,
        fieldSize: limits.maxFieldSize,
        fields: limits.maxFields,
        fileSize: limits.maxFileSize,
        files: limits.maxFiles,
      },
    })
  } catch (err) {
    return {
      promise: Promise.reject(new BodyError(400, 'bad_request', `Malformed multipart request: ${(err as Error).message}`)),
      abort: () => {},
    }
  }

  const fail = (err: Error): void => {
    if (settled) return
    settled = true
    stop()
    bb.removeAllListeners('drain')
    bb.on('error', () => {})
    // Never destroy busboy from inside one of its own events ('limit', 'field', 'filesLimit' fire in
    // the middle of its parser callback): busboy 1.6 then dereferences the file stream it just
    // nulled and throws a TypeError out of req's 'data' handler, which kills the process.
    setImmediate(() => bb.destroy())
    reject(err)
  }

  const fields: Fields = {}
  const files: Files = {}
  let pendingFiles = 0
  let parserDone = false
  const maybeDone = (): void => {
    if (settled || !parserDone || pendingFiles > 0) return
    settled = true
    stop()
    resolve({ fields, files })
  }

  bb.on('field', (name, value, info) => {
    if (settled) return
    if (info.valueTruncated) {
      fail(tooLarge(`Field "${name}" is larger than ${limits.maxFieldSize} bytes`))
      return
    }
    if (info.nameTruncated) {
      fail(tooLarge('Field name too long'))
      return
    }
    fields[name] = value
  })
  bb.on('file', (name, stream, info) => {
    if (settled) {
      stream.resume()
      return
    }
    const { path: filePath, stream: out } = temp.create()
    const filename = info.filename ?? ''
    pendingFiles++
    stream.once('limit', () => {
      fail(tooLarge(`File "${filename}" is larger than ${limits.maxFileSize} bytes`))
    })
    pipeline(stream, out, (err) => {
      pendingFiles--
      if (settled) return
      if (err) {
        fail(new BodyError(400, 'bad_request', `Could not store file part: ${err.message}`))
        return
      }
      const size = out.bytesWritten
      files[name] = {
        size,
        path: filePath,
        name: filename,
        type: info.mimeType,
        filepath: filePath,
        originalFilename: filename,
        mimetype: info.mimeType,
        lastModifiedDate: new Date(),
      }
      maybeDone()
    })
  })
  bb.once('filesLimit', () => fail(tooLarge(`More than ${limits.maxFiles} files`)))
  bb.once('fieldsLimit', () => fail(tooLarge(`More than ${limits.maxFields} fields`)))
  bb.on('error', (err: Error) => fail(new BodyError(400, 'bad_request', `Malformed multipart body: ${err.message}`)))
  bb.once('close', () => {
    parserDone = true
    maybeDone()
  })
  bb.on('drain', () => {
    if (!settled) req.resume()
  })

  stop = readBody(
    req,
    limits.maxBodySize,
    (chunk) => bb.write(chunk),
    () => {
      if (!settled) bb.end()
    },
    fail,
  )
  return { promise, abort: fail }
}
