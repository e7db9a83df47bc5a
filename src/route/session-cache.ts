import type { SessionData, Store } from 'express-session'

export interface SessionCacheOptions {
  /** A session read from the store is reused for this long. Default 2 s; 0 disables. */
  readCacheMs?: number
  /** `touch` (rewriting the expiry in the store) runs at most this often per session. Default 60 s. */
  touchIntervalMs?: number
}

type Callback<T = unknown> = (error?: unknown, value?: T) => void
type Entry = { json: string; readAt: number; expires: number | null }

/**
 * Chunk uploads send two requests per chunk (a test GET, then the POST), hundreds a minute, each
 * carrying the AdminJS session. With a database-backed store every request would read the session
 * row and rewrite it (`touch`, which express-session awaits before answering: one synchronous
 * database write per request). This wrapper keeps the store authoritative but reads each session
 * at most once per `readCacheMs` and touches it at most once per `touchIntervalMs`.
 *
 * Writes and destroys go through at once and update the cache, so a logout in this process takes
 * effect immediately; in another process sharing the store it takes effect within `readCacheMs`.
 * The stored expiry lags by at most `touchIntervalMs` (the cookie itself still rolls).
 */
export function cacheSessionStore<S extends Store>(store: S, options: SessionCacheOptions = {}): S {
  const readCacheMs = options.readCacheMs ?? 2_000
  const touchIntervalMs = options.touchIntervalMs ?? 60_000
  const cache = new Map<string, Entry>()
  const touchedAt = new Map<string, number>()
  let lastPrune = Date.now()

  const prune = (now: number) => {
    if (now - lastPrune < 10_000) return
    lastPrune = now
    for (const [sid, entry] of cache) if (now - entry.readAt > readCacheMs) cache.delete(sid)
    for (const [sid, at] of touchedAt) if (now - at > touchIntervalMs) touchedAt.delete(sid)
  }
  const remember = (sid: string, session: SessionData | null | undefined, now: number) => {
    if (!session || readCacheMs <= 0) {
      cache.delete(sid)
      return
    }
    const expires = session.cookie?.expires ? new Date(session.cookie.expires).getTime() : null
    cache.set(sid, { json: JSON.stringify(session), readAt: now, expires })
  }

  const wrapper: Partial<Store> = {
    get(sid: string, callback: Callback<SessionData | null>) {
      const now = Date.now()
      prune(now)
      const entry = cache.get(sid)
      if (entry && now - entry.readAt <= readCacheMs && (entry.expires === null || entry.expires > now)) {
        // A fresh copy each time: express-session mutates the object it is given.
        callback(null, JSON.parse(entry.json) as SessionData)
        return
      }
      store.get(sid, (error, session) => {
        if (!error) remember(sid, session, Date.now())
        callback(error, session)
      })
    },
    set(sid: string, session: SessionData, callback?: Callback) {
      remember(sid, session, Date.now())
      touchedAt.set(sid, Date.now())
      store.set(sid, session, (error?: unknown) => {
        if (error) cache.delete(sid)
        callback?.(error)
      })
    },
    destroy(sid: string, callback?: Callback) {
      cache.delete(sid)
      touchedAt.delete(sid)
      store.destroy(sid, callback)
    },
  }
  if (typeof store.touch === 'function') {
    wrapper.touch = (sid: string, session: SessionData, callback?: () => void) => {
      const now = Date.now()
      const last = touchedAt.get(sid)
      // Short-lived sessions are touched more often, so the stored expiry never lags by more than a
      // quarter of their lifetime.
      const maxAge = Number(session?.cookie?.originalMaxAge)
      const interval = maxAge > 0 ? Math.min(touchIntervalMs, maxAge / 4) : touchIntervalMs
      if (last !== undefined && now - last < interval) {
        callback?.()
        return
      }
      touchedAt.set(sid, now)
      store.touch!(sid, session, (error?: unknown) => {
        if (error) touchedAt.delete(sid)
        ;(callback as Callback | undefined)?.(error)
      })
    }
  }
  // Everything else (events, `generate`, `createSession`, all, clear, length...) is the store's own.
  return new Proxy(store, {
    get(target, property, receiver) {
      if (Object.prototype.hasOwnProperty.call(wrapper, property)) return wrapper[property as keyof Store]
      const value = Reflect.get(target, property, receiver)
      return typeof value === 'function' ? value.bind(target) : value
    },
  })
}
