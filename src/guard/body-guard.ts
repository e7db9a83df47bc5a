/**
 * A body guard for the AdminJS admin router.
 *
 * `buildAuthenticatedRouter` installs express-formidable on every admin URL before the login check:
 * an anonymous multipart POST over formidable's maxFileSize crashes the process (double `next(err)`
 * then ERR_HTTP_HEADERS_SENT), and refused requests leave temp files behind. express-formidable
 * 1.2.0 skips parsing when `req.express_formidable.parsed` is set, so this middleware, mounted on the
 * admin router after the session middleware, parses (or refuses) the body itself and hands AdminJS
 * exactly what express-formidable would have: `req.fields`, `req.files` (formidable v1 File shape)
 * and `req.express_formidable = { parsed: true }`.
 *
 *   const router = express.Router()
 *   router.use(session({ store, secret: cookiePassword, name: 'adminjs', resave: false, saveUninitialized: false }))
 *   router.use(createBodyGuard({ rootPath: admin.options.rootPath, loginPath: admin.options.loginPath,
 *     isAuthenticated: (req) => Boolean(req.session?.adminUser), skipPaths: ['/api/resumable'] }))
 *   AdminJSExpress.buildAuthenticatedRouter(admin, auth, router, { store, resave: false, saveUninitialized: false })
 */
import os from 'node:os'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { NextFunction, Request, RequestHandler, Response } from 'express'

import { closeAfterAnswer } from './linger.js'
import { BodyError, parseBuffered, parseMultipart, type BodyParse } from './parse.js'
import { TempFileSet } from './temp-files.js'

export type { UploadedFile, Fields, Files } from './parse.js'
export { BodyError } from './parse.js'

export interface BodyLimits {
  /** Whole request body, in bytes. Default 1 MiB. */
  maxBodySize: number
  /** Each file part, in bytes. Default 10 MiB (only reachable if maxBodySize is raised). */
  maxFileSize: number
  /** Number of non-file fields. Default 1000. */
  maxFields: number
  /** Each field value, in bytes. Default 1 MiB. */
  maxFieldSize: number
  /** Number of file parts. Default 10. */
  maxFiles: number
  /**
   * Time for the whole body to arrive, in milliseconds. Default 30 s. Bodies here are small (files go
   * through the chunk route, which has no such deadline), so a client that trickles a login form or
   * a Save byte by byte gets a 408 instead of holding the connection for as long as it likes.
   */
  bodyTimeoutMs: number
  /** Where file parts are written. Default `os.tmpdir()`, read per request. */
  tempDirectory?: string
}

export const DEFAULT_BODY_LIMITS: Readonly<Required<Omit<BodyLimits, 'tempDirectory'>>> = Object.freeze({
  maxBodySize: 1024 * 1024,
  maxFileSize: 10 * 1024 * 1024,
  maxFields: 1000,
  maxFieldSize: 1024 * 1024,
  maxFiles: 10,
  bodyTimeoutMs: 30_000,
})

/** The largest body an anonymous request may send (to the login path only). */
export const LOGIN_BODY_LIMIT = 64 * 1024

export interface BodyGuardOptions {
  /** AdminJS `rootPath`, e.g. '/admin'. */
  rootPath: string
  /** AdminJS `loginPath`, absolute ('/admin/login') or relative to rootPath ('/login'). */
  loginPath: string
  isAuthenticated(req: Request): boolean
  limits?: Partial<BodyLimits>
  /** Path prefixes, relative to the mount point, whose routes read their own bodies ('/api/resumable'). */
  skipPaths?: string[]
}

type GuardedRequest = Request & {
  fields?: Record<string, unknown>
  files?: Record<string, unknown>
  express_formidable?: { parsed?: boolean }
}

const URLENCODED = 'application/x-www-form-urlencoded'
const JSON_TYPE = 'application/json'

export function createBodyGuard(options: BodyGuardOptions): RequestHandler {
  const limits = resolveLimits(options.limits)
  const loginPath = relativePath(options.loginPath, options.rootPath)
  const skipPaths = (options.skipPaths ?? []).map((p) => stripTrailingSlash(ensureLeadingSlash(p)))

  return function bodyGuard(rawReq: Request, res: Response, next: NextFunction): void {
    const req = rawReq as GuardedRequest
    if (req.express_formidable?.parsed || !hasBody(req)) {
      next()
      return
    }
    const path = req.path
    if (skipPaths.some((p) => p === '' || path === p || path.startsWith(`${p}/`))) {
      // Those routes read the body themselves. Should a request there reach AdminJS's router
      // anyway (a route that does not answer), express-formidable must still leave it alone: it
      // would write the body to disk unchecked and crash the process past its maxFileSize.
      markParsed(req, {}, {})
      next()
      return
    }
    const api = path === '/api' || path.startsWith('/api/')

    if (req.method === 'GET' || req.method === 'HEAD') {
      // No AdminJS GET route reads a body, but express-formidable parses one on any method. Leave it
      // unread, hide it from express-formidable and close the connection after the response so Node
      // does not drain it.
      markParsed(req, {}, {})
      closeAfterAnswer(req, res)
      next()
      return
    }

    const type = mediaType(req)
    const declared = declaredLength(req)

    let authenticated = false
    try {
      authenticated = options.isAuthenticated(req)
    } catch {
      authenticated = false
    }
    if (!authenticated) {
      if (path !== loginPath || (type !== URLENCODED && type !== JSON_TYPE)) {
        refuse(req, res, api, 401, 'not_authenticated', 'Log in first: this request needs an AdminJS session', false)
        return
      }
      if (declared !== undefined && declared > LOGIN_BODY_LIMIT) {
        refuse(req, res, api, 413, 'too_large', `Login body is larger than ${LOGIN_BODY_LIMIT} bytes`, false)
        return
      }
      run(req, res, next, api, parseBuffered(req, type === JSON_TYPE ? 'json' : 'urlencoded', {
        maxBodySize: LOGIN_BODY_LIMIT,
        maxFields: limits.maxFields,
        maxFieldSize: Math.min(limits.maxFieldSize, LOGIN_BODY_LIMIT),
      }), limits.bodyTimeoutMs)
      return
    }

    if (declared !== undefined && declared > limits.maxBodySize) {
      refuse(req, res, api, 413, 'too_large', `Request body is larger than ${limits.maxBodySize} bytes`, false)
      return
    }
    if (type === 'multipart/form-data') {
      const temp = new TempFileSet(limits.tempDirectory ?? os.tmpdir())
      // Whatever happens next (AdminJS answers, a hook throws, the client goes away), the files this
      // request created go when the response is over, unless the action moved them away.
      const cleanup = (): void => temp.removeAll()
      res.once('finish', cleanup)
      res.once('close', cleanup)
      run(req, res, next, api, parseMultipart(req, limits, temp), limits.bodyTimeoutMs, temp)
      return
    }
    if (type === URLENCODED || type === JSON_TYPE) {
      run(req, res, next, api, parseBuffered(req, type === JSON_TYPE ? 'json' : 'urlencoded', limits), limits.bodyTimeoutMs)
      return
    }
    refuse(req, res, api, 415, 'unsupported_media_type',
      'Admin requests must be multipart/form-data, application/x-www-form-urlencoded or application/json', false)
  }
}

function run(
  req: GuardedRequest,
  res: Response,
  next: NextFunction,
  api: boolean,
  parse: BodyParse,
  timeoutMs: number,
  temp?: TempFileSet,
): void {
  const deadline = setTimeout(() => {
    parse.abort(new BodyError(408, 'request_timeout', `The request body did not arrive within ${timeoutMs} ms`))
  }, timeoutMs)
  parse.promise.finally(() => clearTimeout(deadline)).catch(() => undefined)
  parse.promise.then(
    ({ fields, files }) => {
      if (res.headersSent || res.writableEnded || res.destroyed) {
        temp?.removeAll()
        return
      }
      markParsed(req, fields, files)
      next()
    },
    (err: Error) => {
      temp?.removeAll()
      const e = err instanceof BodyError ? err : new BodyError(400, 'bad_request', err.message)
      refuse(req, res, api, e.status, e.code, e.message, false)
    },
  )
}

function markParsed(req: GuardedRequest, fields: Record<string, unknown>, files: Record<string, unknown>): void {
  Object.assign(req, { fields, files, express_formidable: { parsed: true } })
}

/**
 * One response, never `next(err)`. The body was not (fully) read: the connection is closed after the
 * response, lingering (see linger.ts) so that a client still sending reads its answer instead of a
 * reset; the rest of the body is dropped, never parsed. If the client is already gone there is
 * nobody to answer: just make sure the socket is closed.
 */
function refuse(
  req: IncomingMessage,
  res: ServerResponse,
  api: boolean,
  status: number,
  code: string,
  message: string,
  bodyConsumed: boolean,
): void {
  if (res.headersSent || res.writableEnded) return
  const socket = req.socket
  if (!socket || socket.destroyed || !socket.writable) {
    socket?.destroy()
    return
  }
  if (!bodyConsumed) closeAfterAnswer(req, res)
  res.statusCode = status
  res.setHeader('Cache-Control', 'no-store')
  if (status === 401 && !api) res.setHeader('WWW-Authenticate', 'Session')
  let body: string
  if (api) {
    body = JSON.stringify({ status: 'error', code, message })
    res.setHeader('Content-Type', 'application/json; charset=utf-8')
  } else {
    body = `${message}\n`
    res.setHeader('Content-Type', 'text/plain; charset=utf-8')
  }
  res.setHeader('Content-Length', Buffer.byteLength(body))
  res.end(body)
}

export function resolveLimits(partial?: Partial<BodyLimits>): BodyLimits {
  const merged: BodyLimits = { ...DEFAULT_BODY_LIMITS }
  for (const key of ['maxBodySize', 'maxFileSize', 'maxFields', 'maxFieldSize', 'maxFiles', 'bodyTimeoutMs'] as const) {
    const value = partial?.[key]
    if (value === undefined) continue
    if (!Number.isSafeInteger(value) || value < 0 || (key === 'bodyTimeoutMs' && value === 0)) {
      const what = key === 'bodyTimeoutMs' ? 'a positive integer' : 'a non-negative integer'
      throw new TypeError(`body guard: limits.${key} must be ${what}, got ${String(value)}`)
    }
    merged[key] = value
  }
  if (partial?.tempDirectory !== undefined) merged.tempDirectory = partial.tempDirectory
  return merged
}

/** Same rule as type-is's hasBody: a Transfer-Encoding, or a Content-Length above zero. */
function hasBody(req: IncomingMessage): boolean {
  if (req.headers['transfer-encoding'] !== undefined) return true
  const length = declaredLength(req)
  return length !== undefined && length > 0
}

function declaredLength(req: IncomingMessage): number | undefined {
  const raw = req.headers['content-length']
  if (raw === undefined) return undefined
  const n = Number(raw)
  return Number.isFinite(n) ? n : undefined
}

function mediaType(req: IncomingMessage): string {
  return (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase()
}

function ensureLeadingSlash(p: string): string {
  return p.startsWith('/') ? p : `/${p}`
}

function stripTrailingSlash(p: string): string {
  return p.length > 1 && p.endsWith('/') ? p.slice(0, -1) : p === '/' ? '' : p
}

/** '/admin/login' with rootPath '/admin' gives '/login', as @adminjs/express computes it. */
function relativePath(p: string, rootPath: string): string {
  const root = stripTrailingSlash(rootPath)
  const relative = root && (p === root || p.startsWith(`${root}/`)) ? p.slice(root.length) : p
  return ensureLeadingSlash(relative)
}
