import { afterEach, beforeEach, jest } from '@jest/globals'
import session from 'express-session'
import { cacheSessionStore } from '../src/route/session-cache.js'

// The cache's windows are read from the clock: only Date is faked, so the stores' callbacks
// (setImmediate) still run, and `later(ms)` moves time on exactly, however busy the machine.
beforeEach(() => {
  jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask', 'setTimeout', 'clearTimeout', 'setInterval', 'clearInterval'] })
})
afterEach(() => {
  jest.useRealTimers()
})
const later = (ms: number): void => jest.setSystemTime(Date.now() + ms)

/** A MemoryStore that counts what reaches it. */
function countingStore() {
  const store = new session.MemoryStore()
  const calls = { get: 0, set: 0, touch: 0, destroy: 0 }
  for (const name of ['get', 'set', 'touch', 'destroy'] as const) {
    const original = (store[name] as (...args: unknown[]) => void).bind(store)
    ;(store as unknown as Record<string, unknown>)[name] = (...args: unknown[]) => {
      calls[name]++
      original(...args)
    }
  }
  return { store, calls }
}

const call = <T>(fn: (cb: (error?: unknown, value?: T) => void) => void) =>
  new Promise<T | undefined>((resolve, reject) => fn((error, value) => (error ? reject(error) : resolve(value))))

function sessionData(maxAge = 3_600_000, user = 'admin@example.com') {
  return {
    cookie: { originalMaxAge: maxAge, expires: new Date(Date.now() + maxAge).toISOString(), httpOnly: true, path: '/' },
    adminUser: { email: user },
  } as unknown as session.SessionData
}

describe('cacheSessionStore', () => {
  it('reads each session from the store at most once per readCacheMs, handing out fresh copies', async () => {
    const { store, calls } = countingStore()
    const cached = cacheSessionStore(store, { readCacheMs: 200 })
    await call((cb) => store.set('a', sessionData(), cb))
    const first = await call<session.SessionData | null>((cb) => cached.get('a', cb))
    ;(first as unknown as { adminUser: { email: string } }).adminUser.email = 'mutated'
    const second = await call<session.SessionData | null>((cb) => cached.get('a', cb))
    expect(calls.get).toBe(1)
    expect((second as unknown as { adminUser: { email: string } }).adminUser.email).toBe('admin@example.com')
    later(250)
    await call((cb) => cached.get('a', cb))
    expect(calls.get).toBe(2)
  })

  it('sees a destroy through the wrapper at once, and one behind its back within readCacheMs', async () => {
    const { store } = countingStore()
    const cached = cacheSessionStore(store, { readCacheMs: 150 })
    await call((cb) => cached.set('a', sessionData(), cb))
    await call((cb) => cached.destroy('a', cb))
    expect(await call((cb) => cached.get('a', cb))).toBeFalsy()

    await call((cb) => cached.set('b', sessionData(), cb))
    expect(await call((cb) => cached.get('b', cb))).toBeTruthy()
    await call((cb) => store.destroy('b', cb)) // e.g. a logout in another process
    expect(await call((cb) => cached.get('b', cb))).toBeTruthy() // still cached...
    later(200)
    expect(await call((cb) => cached.get('b', cb))).toBeFalsy() // ...but not for longer than readCacheMs
  })

  it('never serves a cached session past its cookie expiry', async () => {
    const { store, calls } = countingStore()
    const cached = cacheSessionStore(store, { readCacheMs: 60_000 })
    await call((cb) => store.set('a', sessionData(80), cb))
    expect(await call((cb) => cached.get('a', cb))).toBeTruthy()
    later(120)
    expect(await call((cb) => cached.get('a', cb))).toBeFalsy()
    expect(calls.get).toBe(2)
  })

  it('touches at most once per touchIntervalMs, and at least every quarter of a short session lifetime', async () => {
    const { store, calls } = countingStore()
    const cached = cacheSessionStore(store, { touchIntervalMs: 60_000 })
    await call((cb) => store.set('a', sessionData(), cb))
    for (let i = 0; i < 20; i++) await call<void>((cb) => cached.touch!('a', sessionData(), cb as () => void))
    expect(calls.touch).toBe(1)

    await call((cb) => store.set('short', sessionData(400), cb))
    await call<void>((cb) => cached.touch!('short', sessionData(400), cb as () => void))
    await call<void>((cb) => cached.touch!('short', sessionData(400), cb as () => void))
    expect(calls.touch).toBe(2)
    later(120) // > 400 / 4
    await call<void>((cb) => cached.touch!('short', sessionData(400), cb as () => void))
    expect(calls.touch).toBe(3)
  })

  it('keeps the rest of the store (events, length, all) working', async () => {
    const { store } = countingStore()
    const cached = cacheSessionStore(store)
    await call((cb) => cached.set('a', sessionData(), cb))
    expect(await call<number>((cb) => cached.length!(cb as (e: unknown, n?: number) => void))).toBe(1)
    let heard = false
    cached.on('ping', () => { heard = true })
    store.emit('ping')
    expect(heard).toBe(true)
  })
})
