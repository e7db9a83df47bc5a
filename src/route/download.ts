import type AdminJS from 'adminjs'
import type { Request, Response } from 'express'
import { Forbidden, NotFound, RangeNotSatisfiable } from '../errors.js'
import { sendError } from './respond.js'
import { resolveTarget } from './target.js'

/** Parses a single `bytes=` range; multiple ranges are answered with the whole file (allowed by RFC 9110). */
export function parseRange(header: string | undefined, size: number): { start: number; end: number } | null {
  if (!header) return null
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim())
  if (!match || (!match[1] && !match[2])) {
    if (header.includes(',')) return null
    throw new RangeNotSatisfiable(`Unsupported range "${header.slice(0, 64)}".`)
  }
  let start: number
  let end: number
  if (!match[1]) {
    const suffix = Number(match[2])
    if (suffix === 0) throw new RangeNotSatisfiable('Empty suffix range.')
    start = Math.max(size - suffix, 0)
    end = size - 1
  } else {
    start = Number(match[1])
    end = match[2] ? Math.min(Number(match[2]), size - 1) : size - 1
  }
  if (start >= size || start > end) throw new RangeNotSatisfiable(`Range ${header} lies outside the ${size} bytes of the file.`)
  return { start, end }
}

function contentDisposition(filename: string): string {
  const ascii = filename.replace(/[^\x20-\x7E]/g, '_').replace(/["\\]/g, '_')
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(filename)}`
}

/**
 * The saved file's SHA-256 in the headers clients check: `Repr-Digest` (RFC 9530; the digest of the
 * whole file, so also right on a 206), the older `Digest` (RFC 3230) and `X-Checksum-Sha256` (hex).
 */
export function digestHeaders(sha256Hex: unknown): Record<string, string> {
  if (typeof sha256Hex !== 'string' || !/^[a-f0-9]{64}$/.test(sha256Hex)) return {}
  const base64 = Buffer.from(sha256Hex, 'hex').toString('base64')
  return { 'Repr-Digest': `sha-256=:${base64}:`, Digest: `sha-256=${base64}`, 'X-Checksum-Sha256': sha256Hex }
}

/** GET/HEAD: streams a saved file to staff who may `show` its record, with HTTP Range support. */
export function downloadFile(admin: AdminJS) {
  return async (req: Request, res: Response) => {
    try {
      const target = resolveTarget(admin, req)
      const { feature, resource, currentAdmin } = target
      await feature.ready
      const record = await resource.findOne(String(req.params.recordId))
      if (!record) throw new NotFound('There is no such record.')
      if (!resource.decorate().actions.show?.isAccessible(currentAdmin, record)) {
        throw new Forbidden('You may not view this record.')
      }
      const key = record.get(feature.mapping.key) as string | null | undefined
      if (!key) throw new NotFound('This record has no file.')
      const stat = await feature.storage.files.stat(key)
      if (!stat) throw new NotFound('The file of this record is missing from storage.')
      const filename = (feature.mapping.filename && (record.get(feature.mapping.filename) as string)) || key.split('/').pop()!
      const type = (feature.mapping.mimeType && (record.get(feature.mapping.mimeType) as string)) || 'application/octet-stream'

      let range: { start: number; end: number } | null
      try {
        range = parseRange(req.get('range'), stat.size)
      } catch (error) {
        res.setHeader('Content-Range', `bytes */${stat.size}`)
        throw error
      }
      res.setHeader('Accept-Ranges', 'bytes')
      res.setHeader('Content-Type', type)
      res.setHeader('Content-Disposition', contentDisposition(filename))
      res.setHeader('Last-Modified', stat.modifiedAt.toUTCString())
      res.setHeader('X-Content-Type-Options', 'nosniff')
      res.setHeader('Cache-Control', 'private, no-store')
      if (feature.mapping.checksum) {
        for (const [name, value] of Object.entries(digestHeaders(record.get(feature.mapping.checksum)))) res.setHeader(name, value)
      }
      if (range) {
        res.status(206)
        res.setHeader('Content-Range', `bytes ${range.start}-${range.end}/${stat.size}`)
      }
      res.setHeader('Content-Length', String(range ? range.end - range.start + 1 : stat.size))
      if (req.method === 'HEAD') {
        res.end()
        return
      }
      const stream = feature.storage.files.read(key, range ?? undefined)
      stream.on('error', (error) => sendError(res, error))
      res.on('close', () => stream.destroy())
      stream.pipe(res)
    } catch (error) {
      sendError(res, error)
    }
  }
}
