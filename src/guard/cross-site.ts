import { CrossSiteRequest } from '../errors.js'
import type { NextFunction, Request, RequestHandler, Response } from 'express'
import { closeAfterAnswer } from './linger.js'

export interface CrossSiteOptions {
  /**
   * Origins (`https://admin.example.com`, scheme, host and port as the browser sends them in
   * `Origin`) whose pages may send state-changing requests to the admin although they are not the
   * admin's own origin: a separate front end, or the public name of an app behind a proxy that
   * rewrites `Host` when old browsers (without `Sec-Fetch-Site`) must work.
   */
  trustedOrigins?: string[]
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS'])

/**
 * Why this request must be refused as cross-origin, or null. The same rules as Go's
 * `net/http.CrossOriginProtection`:
 *
 * - GET, HEAD and OPTIONS change nothing and pass.
 * - An `Origin` listed in `trustedOrigins` passes.
 * - `Sec-Fetch-Site` (every current browser sends it) decides when present: `same-origin` and
 *   `none` (typed in the address bar, a bookmark) pass; `same-site` is refused as well as
 *   `cross-site`: a page on a sibling subdomain or on another port of the same host is same-site,
 *   `SameSite=Lax` sends it the session cookie, and it may well be hostile.
 * - Otherwise (older browsers) an `Origin` whose host and port differ from the request's `Host`
 *   (`X-Forwarded-Host` when the app trusts its proxy) is refused. The scheme is not compared: behind
 *   a proxy that terminates TLS the browser says `https` while the app sees `http`.
 * - A request with neither header (curl, scripts, very old browsers) passes: no browser sends a
 *   state-changing request across origins without at least one of them.
 */
export function crossOriginReason(req: Request, trusted: ReadonlySet<string>): string | null {
  if (SAFE_METHODS.has(req.method)) return null
  const origin = req.get('origin')
  if (origin !== undefined && trusted.has(origin.toLowerCase())) return null
  const site = req.get('sec-fetch-site')
  if (site !== undefined) {
    return site === 'same-origin' || site === 'none' ? null : `Sec-Fetch-Site: ${site.slice(0, 32)}`
  }
  if (origin === undefined) return null
  let originHost: string
  try {
    originHost = new URL(origin).host
  } catch {
    return 'Origin is not a URL'
  }
  return originHost && originHost === requestHost(req) ? null : 'Origin names another host'
}

/** The Host header with its port, or X-Forwarded-Host when the app's `trust proxy` trusts the peer. */
function requestHost(req: Request): string {
  let host = req.get('x-forwarded-host')
  const trust = req.app?.get('trust proxy fn') as ((address: string | undefined, hop: number) => boolean) | undefined
  if (!host || !trust || !trust(req.socket.remoteAddress, 0)) host = req.get('host')
  return (host ?? '').split(',')[0]!.trim().toLowerCase()
}

/**
 * Refuses state-changing requests that a page of another origin made the browser send (forms that
 * submit themselves, fetch with credentials): 403 JSON, before the body is read. AdminJS has no CSRF
 * token; the session cookie's `SameSite=Lax` keeps it out of cross-site POSTs, this keeps out the
 * same-site pages Lax lets through and browsers that ignore SameSite.
 */
export function createCrossSiteGuard(options: CrossSiteOptions = {}): RequestHandler {
  const trusted = new Set((options.trustedOrigins ?? []).map(normaliseOrigin))
  return function crossSiteGuard(req: Request, res: Response, next: NextFunction): void {
    const reason = crossOriginReason(req, trusted)
    if (!reason) {
      next()
      return
    }
    closeAfterAnswer(req, res)
    const error = new CrossSiteRequest(`This admin does not accept ${req.method} requests from pages of other sites (${reason}).`)
    const body = JSON.stringify(error.toJSON())
    res.statusCode = error.status
    res.setHeader('Cache-Control', 'no-store')
    res.setHeader('Content-Type', 'application/json; charset=utf-8')
    res.setHeader('Content-Length', Buffer.byteLength(body))
    res.end(body)
  }
}

function normaliseOrigin(origin: string): string {
  let url: URL
  try {
    url = new URL(origin)
  } catch {
    throw new TypeError(`trustedOrigins: "${origin}" is not an origin like https://admin.example.com`)
  }
  if (url.origin === 'null' || url.pathname !== '/' || url.search || url.hash || url.username) {
    throw new TypeError(`trustedOrigins: "${origin}" is not an origin like https://admin.example.com`)
  }
  return url.origin.toLowerCase()
}
