import type { UploadManifest } from './types.js'

/** What makes one identifier one file: its owner, place, size, chunking and name. */
const IDENTITY = ['owner', 'resourceId', 'propertyPath', 'totalSize', 'chunkSize', 'forceChunkSize', 'rawFilenameHash'] as const

/** The identity fields in which two manifests of the same upload id differ (none: the same file). */
export function manifestDifferences(a: UploadManifest, b: UploadManifest): (typeof IDENTITY)[number][] {
  return IDENTITY.filter((field) => a[field] !== b[field])
}
