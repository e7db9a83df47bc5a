import { InvalidRequest } from '../errors.js'
import { isChunkDigest } from '../shared/chunk-digest.js'
import { DIRECT_BATCH_MAX, type PartsReport, type SignRequest } from '../shared/direct-protocol.js'

/**
 * The bodies of the direct requests (src/shared/direct-protocol.ts), checked against the upload's
 * part count: anything else is an InvalidRequest naming what is wrong, before anything is signed
 * or recorded.
 */

function object(body: unknown, what: string): Record<string, unknown> {
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw new InvalidRequest(`The ${what} must be a JSON object.`)
  return body as Record<string, unknown>
}

function partList(value: unknown, what: string, min: number): Record<string, unknown>[] {
  if (!Array.isArray(value) || value.length < min || value.length > DIRECT_BATCH_MAX) {
    throw new InvalidRequest(`The ${what} must carry "parts", a list of ${min} to ${DIRECT_BATCH_MAX} parts.`)
  }
  return value.map((part) => object(part, `${what}'s parts each`))
}

function partNumber(value: unknown, partCount: number, seen: Set<number>): number {
  if (!Number.isInteger(value) || (value as number) < 1 || (value as number) > partCount) {
    throw new InvalidRequest(`Part number ${JSON.stringify(value)?.slice(0, 32)} is outside this file's parts 1..${partCount}.`)
  }
  if (seen.has(value as number)) throw new InvalidRequest(`Part ${value as number} is named twice.`)
  seen.add(value as number)
  return value as number
}

function digest(value: unknown, name: string): string | undefined {
  if (value === undefined) return undefined
  if (!isChunkDigest(value)) throw new InvalidRequest(`${name} must be a SHA-256 as 64 lower-case hexadecimal digits.`)
  return value
}

/** `POST .../direct/sign`: the parts to sign, each with its SHA-256 or none at all. */
export function parseSignRequest(body: unknown, partCount: number): SignRequest {
  const request = object(body, 'sign request')
  if (request.held !== undefined && typeof request.held !== 'boolean') throw new InvalidRequest('"held" must be true or false.')
  const seen = new Set<number>()
  const parts = partList(request.parts, 'sign request', 1).map((part) => {
    const number = partNumber(part.partNumber, partCount, seen)
    const sha256 = digest(part.sha256, `The sha256 of part ${number}`)
    return sha256 ? { partNumber: number, sha256 } : { partNumber: number }
  })
  const withDigest = parts.filter((part) => part.sha256).length
  if (withDigest && withDigest !== parts.length) throw new InvalidRequest('Either every part of a sign request carries its sha256, or none does.')
  return request.held ? { parts, held: true } : { parts }
}

/** `POST .../direct/parts`: the ETags the bucket answered (none, to ask for the completion again). */
export function parsePartsReport(body: unknown, partCount: number): PartsReport {
  const report = object(body, 'parts report')
  const seen = new Set<number>()
  const parts = partList(report.parts, 'parts report', 0).map((part) => {
    const number = partNumber(part.partNumber, partCount, seen)
    if (typeof part.etag !== 'string' || !/^"?[!#-~]{1,126}"?$/.test(part.etag)) {
      throw new InvalidRequest(`The etag of part ${number} must be the ETag header the bucket answered to its PUT.`)
    }
    return { partNumber: number, etag: part.etag }
  })
  const fileSha256 = digest(report.fileSha256, 'fileSha256')
  return fileSha256 ? { parts, fileSha256 } : { parts }
}
