import AdminJSExpress from '@adminjs/express'
import type AdminJS from 'adminjs'
import express, { type Router } from 'express'
import session from 'express-session'
import { ConfigurationError } from '../errors.js'
import { createBodyGuard, type BodyLimits } from '../guard/body-guard.js'
import { createCrossSiteGuard, type CrossSiteOptions } from '../guard/cross-site.js'
import { createResumableRouter } from './router.js'
import { cacheSessionStore, type SessionCacheOptions } from './session-cache.js'

type AuthOptions = Parameters<typeof AdminJSExpress.buildAuthenticatedRouter>[1]
type FormidableOptions = Parameters<typeof AdminJSExpress.buildAuthenticatedRouter>[4]

export interface ResumableRouterOptions {
  /** Body limits on every admin URL except the chunk route (which has its own, from chunkSize). */
  limits?: Partial<BodyLimits>
  /**
   * How the session is read and touched (see session-cache.ts): by default each session is read
   * from the store at most every 2 s and its expiry rewritten at most once a minute, instead of a
   * read and a write per request (two requests per chunk). `false` uses the store as it is.
   */
  sessionCache?: SessionCacheOptions | false
  /**
   * Origins besides the admin's own whose pages may send it POST, PUT, PATCH or DELETE requests
   * (see "Guarding the admin"): every other origin's are refused with 403.
   */
  trustedOrigins?: CrossSiteOptions['trustedOrigins']
}

/**
 * A drop-in for `@adminjs/express`'s `buildAuthenticatedRouter` (same arguments, one more for our
 * options) that also mounts the chunk and download routes at `<rootPath>/api/resumable`, in front
 * of AdminJS's router, sharing its session, and guards every admin URL against requests from other
 * sites' pages and against oversized or anonymous bodies before AdminJS's body parser can write them
 * to disk. The session cookie is `SameSite=Lax` unless `sessionOptions.cookie.sameSite` says otherwise.
 *
 * One session store is shared by our routes and AdminJS's (express-session skips itself when the
 * session is already loaded); a MemoryStore is made when none is given: pass a real store in
 * production and whenever several processes serve the admin.
 */
export function buildAuthenticatedRouter(
  admin: AdminJS,
  auth: AuthOptions,
  predefinedRouter?: Router | null,
  sessionOptions?: session.SessionOptions,
  formidableOptions?: FormidableOptions,
  options: ResumableRouterOptions = {},
): Router {
  if (typeof auth?.cookiePassword !== 'string' || !auth.cookiePassword) {
    // Without it express-session answers every admin request with 500 "secret option required".
    throw new ConfigurationError('cookiePassword', 'is required: the secret that signs the admin session cookie')
  }
  const sessionConfig: session.SessionOptions = {
    resave: false,
    saveUninitialized: false,
    ...sessionOptions,
    // Lax keeps the cookie out of POSTs from other sites' pages (AdminJS has no CSRF token); an
    // app that sets sameSite itself keeps its choice.
    cookie: { sameSite: 'lax', ...sessionOptions?.cookie },
    store: options.sessionCache === false
      ? sessionOptions?.store ?? new session.MemoryStore()
      : cacheSessionStore(sessionOptions?.store ?? new session.MemoryStore(), options.sessionCache),
    secret: auth.cookiePassword,
    name: auth.cookieName || 'adminjs',
  }
  const router = predefinedRouter ?? express.Router()
  // First: a request another site's page made is refused before the session is read or a byte of
  // its body, on every admin URL (the chunk route, login and logout included).
  router.use(createCrossSiteGuard({ trustedOrigins: options.trustedOrigins }))
  router.use(session(sessionConfig))
  router.use(createBodyGuard({
    rootPath: admin.options.rootPath,
    loginPath: admin.options.loginPath,
    isAuthenticated: (req) => !!(req as { session?: { adminUser?: unknown } }).session?.adminUser,
    limits: options.limits,
    skipPaths: ['/api/resumable'],
  }))
  router.use('/api/resumable', createResumableRouter(admin))
  return AdminJSExpress.buildAuthenticatedRouter(admin, auth, router, sessionConfig, formidableOptions)
}
