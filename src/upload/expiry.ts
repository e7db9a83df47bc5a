import type AdminJS from 'adminjs'
import type { StorageBackend } from '../store/backend.js'
import type { StagingStore } from '../store/staging.js'
import type { SweepResult } from '../store/types.js'
import { featuresOf } from './registry.js'

/** Runs the expiry sweep of every feature of `admin` now; what the timer does every `sweepIntervalMs`. */
export async function sweepExpiredUploads(admin: AdminJS, now = Date.now()): Promise<SweepResult[]> {
  const stores = new Map<StagingStore, number>()
  for (const feature of featuresOf(admin)) {
    const { staging } = feature.storage
    stores.set(staging, Math.min(stores.get(staging) ?? Infinity, feature.ttlMs))
  }
  const results: SweepResult[] = []
  for (const [store, ttl] of stores) results.push(await store.sweep(ttl, now))
  return results
}

/**
 * The storage's start-up recovery and its expiry timer for one feature. `stop` ends the timer and
 * waits for a sweep under way.
 */
export function startStorage(storage: StorageBackend, ttlMs: number, intervalMs: number): { ready: Promise<void>; stop(): Promise<void> } {
  const ready = Promise.all([storage.files.init(), storage.staging.init()]).then(() => undefined)
  ready.catch((error) => console.error('adminjs-resumable: storage start-up failed', error))
  let timer: NodeJS.Timeout | null = null
  let sweeping: Promise<unknown> = Promise.resolve()
  if (intervalMs > 0) {
    timer = setInterval(() => {
      sweeping = ready.then(() => storage.staging.sweep(ttlMs)).catch((error) => console.error('adminjs-resumable: sweep failed', error))
    }, intervalMs)
    // Never the reason the process stays alive.
    timer.unref()
  }
  return {
    ready,
    async stop() {
      if (timer) clearInterval(timer)
      timer = null
      await sweeping
    },
  }
}
