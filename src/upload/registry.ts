import type AdminJS from 'adminjs'
import { randomBytes } from 'node:crypto'
import type { PrefixHashes } from '../integrity/prefix-hash.js'
import type { UploadRules } from '../protocol/chunk-request.js'
import type { FilesWithThumbnails } from '../preview/thumbnail-storage.js'
import type { StorageBackend } from '../store/backend.js'
import type { ResumableCustom } from '../shared/custom.js'
import type { OwnerLimits } from '../store/types.js'
import type { DirectMode } from './direct-setup.js'
import type { UploadCompleteHook, UploadPathOption, UploadStartHook } from './hook-types.js'

/** What the lifecycle needs of the feature's options. */
export interface UploadPolicy {
  /** The property holds a list of files; without it, a list of at most one. */
  multiple: boolean
  /** A record cannot be saved without a file. */
  required: boolean
  uploadPath?: UploadPathOption
  onUploadStart?: UploadStartHook
  onUploadComplete?: UploadCompleteHook
}

/** One feature's property as the lifecycle and the routes serve it; found from `property.custom.featureId`. */
export interface RegisteredFeature {
  id: string
  /** The configured backend, its files kept apart from their thumbnails. */
  storage: StorageBackend & { files: FilesWithThumbnails }
  rules: UploadRules
  mapping: ResumableCustom['properties']
  policy: UploadPolicy
  ttlMs: number
  /** Per admin, checked when a chunk starts a new upload. */
  limits: OwnerLimits
  /** Set when browsers send the chunks straight to the bucket instead of through the chunk route. */
  direct: DirectMode | null
  /** Running SHA-256 of uploads in progress; null when no checksum column is configured. */
  hashes: PrefixHashes | null
  /** Resolves once the storage has finished its start-up recovery. */
  ready: Promise<void>
  /** Stops the feature's timers; resolves once any sweep it started has ended. */
  stop(): Promise<void>
}

/**
 * The features of each AdminJS instance. Keyed weakly by the instance, so an app that is dropped
 * takes its features with it; `closeResumableUploads` removes them at once and stops their timers.
 */
const byAdmin = new WeakMap<AdminJS, Map<string, RegisteredFeature>>()

export function registerFeature(admin: AdminJS, feature: Omit<RegisteredFeature, 'id'>): RegisteredFeature {
  const registered = { ...feature, id: randomBytes(8).toString('hex') }
  let features = byAdmin.get(admin)
  if (!features) byAdmin.set(admin, features = new Map())
  features.set(registered.id, registered)
  return registered
}

export function findFeature(admin: AdminJS, id: unknown): RegisteredFeature | undefined {
  return typeof id === 'string' ? byAdmin.get(admin)?.get(id) : undefined
}

/** The features registered for `admin` (none once it was closed). */
export function featuresOf(admin: AdminJS): RegisteredFeature[] {
  return [...(byAdmin.get(admin)?.values() ?? [])]
}

/**
 * Resolves once every feature of `admin` can serve: its storage's start-up recovery has run and,
 * with direct uploads, the bucket's CORS allows the admin's pages. Rejects with the first failure:
 * a ConfigurationError that names what is missing (and the CORS JSON to apply). Await it before
 * the app listens, so that a misconfigured app does not start.
 */
export async function resumableUploadsReady(admin: AdminJS): Promise<void> {
  // Every check ends before the answer: an app that closes on the first failure must not cut the others short.
  const settled = await Promise.allSettled(featuresOf(admin).map(async (feature) => {
    await feature.ready
    await feature.direct?.corsChecked()
  }))
  const failed = settled.find((result): result is PromiseRejectedResult => result.status === 'rejected')
  if (failed) throw failed.reason
}

/**
 * Ends the uploads side of one AdminJS instance: stops every feature's sweep timer, waits for their
 * start-up recovery and running sweeps, forgets them (the chunk route then answers 404 for their
 * properties), and closes their stores where the store has a `close()`. Call it when the app shuts
 * down, or in tests that build many apps. Uploads on disk are kept: a new instance picks them up.
 */
export async function closeResumableUploads(admin: AdminJS): Promise<void> {
  const features = featuresOf(admin)
  byAdmin.delete(admin)
  await Promise.all(features.map(async (feature) => {
    await feature.stop()
    await feature.ready.catch(() => undefined)
  }))
  type Closable = { close?: () => unknown }
  const parts = new Set<Closable>(features.flatMap((feature) => [feature.storage.staging, feature.storage.files] as Closable[]))
  for (const part of parts) await part.close?.()
}
