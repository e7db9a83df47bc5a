import type AdminJS from 'adminjs'
import type { BaseRecord } from 'adminjs'
import { storedEntries } from '../upload/entries.js'
import type { RegisteredFeature } from '../upload/registry.js'
import type { Request, Response } from 'express'
import { FileMissing, Forbidden, NotFound, RangeNotSatisfiable } from '../errors.js'
import { INLINE_PARAM, THUMB_PARAM, previewKind } from '../shared/preview.js'
import { sendThumbnail } from '../preview/thumbnail.js'
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

function contentDisposition(filename: string, inline: boolean): string {
  const ascii = filename.replace(/[^\x20-\x7E]/g, '_').replace(/["\\]/g, '_')
  return `${inline ? 'inline' : 'attachment'}; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(filename)}`
}

/**
 * For a file shown inline: nothing loads but the file itself (the browser's own image, media or
 * PDF viewer), no script runs, and `sandbox` gives the document an opaque origin, so even a
 * browser that misread the bytes could not reach the admin's cookies or pages.
 */
const INLINE_POLICY = "default-src 'none'; img-src 'self'; media-src 'self'; style-src 'unsafe-inline'; sandbox"

/**
 * The file a download names: the record's file, or with `multiple` the one at `index` (its place
 * in the list, as the show page lists them).
 */
function fileOf(feature: RegisteredFeature, record: BaseRecord, index: string | undefined): { key: string; filename?: string; mimeType?: string } {
  if (!feature.policy.multiple) {
    if (index !== undefined) throw new NotFound('This property holds one file: its download takes no index.')
    const key = record.get(feature.mapping.key) as string | null | undefined
    if (!key) throw new NotFound('This record has no file.')
    const text = (column: string | undefined) => (column ? (record.get(column) as string | undefined) : undefined)
    return { key, filename: text(feature.mapping.filename), mimeType: text(feature.mapping.mimeType) }
  }
  const entry = index !== undefined && /^(0|[1-9][0-9]{0,5})$/.test(index) ? storedEntries(feature, record)[Number(index)] : undefined
  if (!entry) throw new NotFound('This record has no file at that place.')
  const text = (value: unknown) => (typeof value === 'string' && value ? value : undefined)
  return { key: entry.key, filename: text(entry.filename), mimeType: text(entry.mimeType) }
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

/**
 * GET/HEAD: streams a saved file to staff who may `show` its record, with HTTP Range support, or,
 * when the file storage hands out download URLs (S3 presigned GETs), redirects there (302).
 */
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
      const { key, filename: name, mimeType } = fileOf(feature, record, req.params.index as string | undefined)
      const stat = await feature.storage.files.stat(key)
      if (!stat) throw new FileMissing('The file of this record is not in the storage: it was removed, or the storage was switched without moving the files.')
      const filename = name || key.split('/').pop()!
      const type = mimeType || 'application/octet-stream'
      if (req.query[THUMB_PARAM] === '1' && previewKind(type) === 'image') {
        await sendThumbnail(feature.storage.files, key, type, res)
        return
      }
      const url = await feature.storage.files.downloadUrl?.(key, { filename, contentType: type })
      if (url) {
        // The URL itself grants access for its short life: never cached, handed out only past the check above.
        res.setHeader('Cache-Control', 'private, no-store')
        res.redirect(302, url)
        return
      }

      let range: { start: number; end: number } | null
      try {
        range = parseRange(req.get('range'), stat.size)
      } catch (error) {
        res.setHeader('Content-Range', `bytes */${stat.size}`)
        throw error
      }
      // Inline only when asked for and only for types a browser renders without running anything.
      const kind = req.query[INLINE_PARAM] === '1' ? previewKind(type) : null
      res.setHeader('Accept-Ranges', 'bytes')
      res.setHeader('Content-Type', type)
      res.setHeader('Content-Disposition', contentDisposition(filename, kind !== null))
      if (kind) res.setHeader('Content-Security-Policy', INLINE_POLICY)
      // Staff-only bytes: no other site may embed them, even where the browser sends the cookie.
      res.setHeader('Cross-Origin-Resource-Policy', 'same-origin')
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
