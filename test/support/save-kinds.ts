/**
 * The two kinds of file property the shared Save suite (test/save-contract.ts) runs for, and what it
 * needs to drive them: a PNG both accept, and the running feature's policy set for one case.
 */
import type AdminJS from 'adminjs'
import { findFeature, type RegisteredFeature } from '../../src/upload/registry.js'
import { bytes, type FileSpec } from './resumable-client.js'

export const CHUNK = 64 * 1024

/** One kind of file property: where its chunks go, how the form names its files, which columns it fills. */
export interface SaveKind {
  name: string
  resource: 'Document' | 'Gallery'
  property: string
  /** The record's files live under `<folder>/<id>/`. */
  folder: string
  columns: { key: string; filename: string; size: string; mimeType: string; checksum: string; metadata: string; relativePath: string }
  /** The form fields that make the record's files exactly these references (one, for a single file). */
  fields(references: string[]): Record<string, string>
  /** The keys an AdminJS answer shows for the record (its params, arrays flattened). */
  keysIn(params: Record<string, unknown>): unknown[]
}

export const SINGLE: SaveKind = {
  name: 'single file',
  resource: 'Document',
  property: 'file',
  folder: 'documents',
  columns: {
    key: 'filePath', filename: 'fileName', size: 'fileSize', mimeType: 'fileMimeType',
    checksum: 'fileChecksum', metadata: 'fileMetadata', relativePath: 'fileRelativePath',
  },
  fields(references) {
    if (references.length !== 1) throw new Error('a single-file property takes exactly one reference')
    return { file: references[0] }
  },
  keysIn: (params) => (params.filePath ? [params.filePath] : []),
}

export const MULTIPLE: SaveKind = {
  name: 'multiple files',
  resource: 'Gallery',
  property: 'images',
  folder: 'galleries',
  columns: {
    key: 'imagePaths', filename: 'imageNames', size: 'imageSizes', mimeType: 'imageMimeTypes',
    checksum: 'imageChecksums', metadata: 'imageMetadata', relativePath: 'imageRelativePaths',
  },
  fields: (references) => Object.fromEntries(references.map((reference, i) => [`images.${i}`, reference])),
  keysIn: (params) => Object.entries(params).filter(([name]) => /^imagePaths\.\d+$/.test(name)).map(([, value]) => value),
}

const PNG_HEAD = Buffer.from([
  0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52,
  0, 0, 0, 1, 0, 0, 0, 1, 8, 2, 0, 0, 0, 0x90, 0x77, 0x53, 0xde,
  0, 0, 0xff, 0xff, 0x49, 0x44, 0x41, 0x54,
])

export type Upload = FileSpec & { relativePath?: string }

let seq = 0
/** A PNG both properties accept (the Gallery takes images only). */
export function png(name = `save-${seq + 1}.png`, size = 2 * CHUNK + 333, relativePath?: string): Upload {
  seq += 1
  const data = Buffer.concat([PNG_HEAD, bytes(size - PNG_HEAD.length, 900 + seq)])
  return { identifier: `${size}-contract-${process.pid}-${seq}`, filename: name, type: 'image/png', data, chunkSize: CHUNK, relativePath }
}

export function featureOf(admin: AdminJS, kind: SaveKind): RegisteredFeature {
  const custom = admin.findResource(kind.resource).decorate().getPropertyByKey(kind.property)?.options.custom as { featureId?: string }
  const feature = findFeature(admin, custom.featureId)
  if (!feature) throw new Error(`no feature on ${kind.resource}.${kind.property}`)
  return feature
}

export type Policy = Pick<RegisteredFeature['policy'], 'onUploadComplete' | 'required'>

/** Sets policy options of the running app's feature for one case (the app is shared by the suite). */
export function withPolicy(admin: AdminJS, kind: SaveKind, policy: Partial<Policy>): () => void {
  const feature = featureOf(admin, kind)
  const saved: Partial<Policy> = { onUploadComplete: feature.policy.onUploadComplete, required: feature.policy.required }
  Object.assign(feature.policy, policy)
  return () => Object.assign(feature.policy, saved)
}
