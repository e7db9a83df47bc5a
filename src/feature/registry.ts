import { randomBytes } from 'node:crypto'
import type { UploadRules } from '../protocol/params.js'
import type { StagingStore } from '../store/staging.js'
import type { OwnerLimits, SweepResult } from '../store/types.js'
import type { ResumableCustom, ResumableUploadFeatureOptions, StorageBackend } from './options.js'

/** What the route needs to serve one feature's property; found from `property.custom.featureId`. */
export interface RegisteredFeature {
  id: string
  storage: StorageBackend
  rules: UploadRules
  mapping: ResumableCustom['properties']
  options: ResumableUploadFeatureOptions
  ttlMs: number
  /** Per admin, checked when a chunk starts a new upload. */
  limits: OwnerLimits
  /** Resolves once the storage has finished its start-up recovery. */
  ready: Promise<void>
}

const features = new Map<string, RegisteredFeature>()

export function registerFeature(feature: Omit<RegisteredFeature, 'id'>): RegisteredFeature {
  const registered = { ...feature, id: randomBytes(8).toString('hex') }
  features.set(registered.id, registered)
  return registered
}

export function findFeature(id: unknown): RegisteredFeature | undefined {
  return typeof id === 'string' ? features.get(id) : undefined
}

/** Runs the expiry sweep of every feature now; what the timer does every `sweepIntervalMs`. */
export async function sweepExpiredUploads(now = Date.now()): Promise<SweepResult[]> {
  const stores = new Map<StagingStore, number>()
  for (const feature of features.values()) {
    const { staging } = feature.storage
    stores.set(staging, Math.min(stores.get(staging) ?? Infinity, feature.ttlMs))
  }
  const results: SweepResult[] = []
  for (const [store, ttl] of stores) results.push(await store.sweep(ttl, now))
  return results
}
