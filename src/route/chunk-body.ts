import busboy from 'busboy'
import type { Request } from 'express'
import { PassThrough, Readable } from 'node:stream'
import { InvalidRequest, TooLarge } from '../errors.js'
import type { RawParams } from '../protocol/chunk-request.js'

export interface ChunkBody {
  /** Multipart fields that arrived before the file part (Resumable.js sends them first). */
  fields: RawParams
  /** The chunk's bytes, not yet read. */
  stream: Readable
}

const LIMITS = { fields: 32, fieldSize: 8 * 1024, fieldNameSize: 128, files: 1, parts: 48 }

/**
 * Reads a chunk request up to the start of its bytes and hands them over as a stream, so nothing is
 * buffered and the bytes go straight to their offset. Accepts Resumable.js's multipart body (part
 * `file`) and its `method: 'octet'` raw body (parameters in the URL). `onFile` runs once, with the
 * stream; its promise decides the request. Every malformed body is an InvalidRequest.
 */
export function readChunkBody<T>(req: Request, maxBytes: number, onFile: (body: ChunkBody) => Promise<T>): Promise<T> {
  const length = Number(req.get('content-length'))
  if (Number.isFinite(length) && length > maxBytes) {
    return Promise.reject(new TooLarge(`A chunk request may carry at most ${maxBytes} bytes; this one declares ${length}.`))
  }
  const type = (req.get('content-type') ?? '').toLowerCase()
  if (type.startsWith('application/octet-stream')) {
    return onFile({ fields: {}, stream: limitBody(req, maxBytes) })
  }
  if (!type.startsWith('multipart/form-data')) {
    return Promise.reject(new InvalidRequest('Chunks must be sent as multipart/form-data with the bytes in the part "file".'))
  }
  return new Promise<T>((resolve, reject) => {
    let settled = false
    let closed = false
    let partEnded = false
    let fileStream: PassThrough | null = null
    let result: { value: T } | null = null
    /** onFile's promise once the chunk was handed over; a refusal is answered only after it settles. */
    let writing: Promise<unknown> | null = null
    const fields: RawParams = {}
    const fail = (error: unknown) => {
      if (settled) return
      settled = true
      req.unpipe(parser)
      // A stream left waiting would hold the chunk's lock forever: end it with the error.
      if (fileStream && !fileStream.readableEnded) fileStream.destroy(error as Error)
      // Wait for the store to give the chunk's lock back, so an immediate retry is not told "busy".
      if (writing) writing.then(() => reject(error), () => reject(error))
      else reject(error)
    }
    // Answer only after the parser saw the end of the body, so a trailing second file part or
    // garbage after the chunk is still refused.
    const endBody = () => {
      if (!settled && closed && partEnded && fileStream) fileStream.end()
    }
    const finish = () => {
      if (!settled && closed && result) {
        settled = true
        resolve(result.value)
      }
    }
    let parser: busboy.Busboy
    try {
      parser = busboy({ headers: req.headers, limits: LIMITS })
    } catch {
      reject(new InvalidRequest('The multipart body is malformed (no boundary).'))
      return
    }
    parser.on('field', (name, value, info) => {
      if (info.nameTruncated || info.valueTruncated) return fail(new InvalidRequest(`Field ${name.slice(0, 64)} is too long.`))
      if (fileStream) return
      const existing = fields[name]
      fields[name] = existing === undefined ? value : ([] as string[]).concat(existing, value)
    })
    parser.on('file', (name, part) => {
      if (name !== 'file' || fileStream || settled) {
        part.resume()
        return fail(new InvalidRequest(fileStream ? 'The part "file" was sent more than once.' : `Unexpected file part "${name.slice(0, 64)}"; the chunk goes in the part "file".`))
      }
      // The store reads the chunk from `stream`, whose end is held back until the parser has seen the
      // whole body: a second file part or garbage after the chunk then fails the write before the
      // chunk is marked as held (a 400 must not leave a stored chunk behind).
      const stream = new PassThrough()
      fileStream = stream
      // `fail` destroys this stream with the error; when onFile refused before reading it (bad
      // parameters, 409, 503...), nobody else listens and an unhandled 'error' would kill the process.
      stream.on('error', () => undefined)
      part.on('data', (piece: Buffer) => {
        if (!stream.destroyed && !stream.write(piece)) part.pause()
      })
      stream.on('drain', () => part.resume())
      part.on('error', (error: Error) => stream.destroy(error))
      part.on('end', () => {
        partEnded = true
        endBody()
      })
      writing = onFile({ fields, stream })
      writing.then(
        (value) => {
          result = { value: value as T }
          finish()
        },
        (error) => {
          part.resume()
          fail(error)
        },
      )
    })
    parser.on('filesLimit', () => fail(new InvalidRequest('Only one file part is allowed.')))
    parser.on('fieldsLimit', () => fail(new InvalidRequest(`At most ${LIMITS.fields} fields are allowed.`)))
    parser.on('partsLimit', () => fail(new InvalidRequest(`At most ${LIMITS.parts} parts are allowed.`)))
    parser.on('error', (error: Error) => fail(new InvalidRequest(`The multipart body is malformed: ${error.message}`)))
    parser.on('close', () => {
      closed = true
      if (!fileStream) fail(new InvalidRequest('The chunk is missing: no part named "file".'))
      else {
        endBody()
        finish()
      }
    })
    const aborted = () => fail(new InvalidRequest('The request was aborted before the whole chunk arrived.'))
    req.on('aborted', aborted)
    req.on('error', aborted)
    req.on('close', () => {
      if (!req.complete) aborted()
    })
    req.pipe(parser)
  })
}

/** A raw body as a stream that errors once it passes `maxBytes`, or when the client goes away. */
function limitBody(req: Request, maxBytes: number): Readable {
  // Pulled only when the store reads it: a 'data' listener here would start the flow at once and
  // lose every byte that arrives before the store's first read, and an error pushed into a body no
  // one reads any more would be an uncaught 'error' event. Not destroying `req` when the store
  // stops early (a longer body) leaves it to the route's lingering close, so the client gets the
  // answer.
  return Readable.from((async function* limited() {
    let seen = 0
    try {
      for await (const piece of req.iterator({ destroyOnReturn: false })) {
        seen += (piece as Buffer).length
        if (seen > maxBytes) throw new TooLarge(`A chunk request may carry at most ${maxBytes} bytes.`)
        yield piece as Buffer
      }
    } catch (error) {
      if (error instanceof TooLarge) throw error
      // The client went away: a bad request, as on the multipart path, not an unexpected error.
      throw new InvalidRequest('The request was aborted before the whole chunk arrived.')
    }
  })())
}
