import type { Request } from 'express'
import { InvalidRequest, TooLarge } from '../errors.js'

/**
 * Reads a small JSON body (a direct upload's sign request or parts report) whole, up to `maxBytes`:
 * a larger one is refused with TooLarge as soon as it is declared or passed, anything but
 * `application/json` or JSON that does not parse with InvalidRequest.
 */
export async function readJsonBody(req: Request, maxBytes: number): Promise<unknown> {
  // An app-wide express.json() in front of the admin has read it already (body-parser marks `_body`).
  if ((req as Request & { _body?: boolean })._body) return req.body as unknown
  const type = (req.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase()
  if (type !== 'application/json') throw new InvalidRequest('Send the body as application/json.')
  const declared = Number(req.get('content-length'))
  if (Number.isFinite(declared) && declared > maxBytes) {
    throw new TooLarge(`The body may carry at most ${maxBytes} bytes; this one declares ${declared}.`)
  }
  const pieces: Buffer[] = []
  let size = 0
  try {
    for await (const piece of req.iterator({ destroyOnReturn: false })) {
      size += (piece as Buffer).length
      if (size > maxBytes) throw new TooLarge(`The body may carry at most ${maxBytes} bytes.`)
      pieces.push(piece as Buffer)
    }
  } catch (error) {
    if (error instanceof TooLarge) throw error
    throw new InvalidRequest('The request was aborted before its body arrived.')
  }
  try {
    return JSON.parse(Buffer.concat(pieces).toString('utf8')) as unknown
  } catch {
    throw new InvalidRequest('The body is not valid JSON.')
  }
}
