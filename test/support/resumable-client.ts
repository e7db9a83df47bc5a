import { createHash } from 'node:crypto'
import { chunkCount, chunkLength, chunkOffset } from '../../src/shared/arithmetic.js'

/** Builds the parameters the npm `resumablejs` 1.1.0 client sends for one chunk. */
export interface FileSpec {
  identifier: string
  filename: string
  type?: string
  data: Buffer
  chunkSize: number
  forceChunkSize?: boolean
}

export function chunkParams(file: FileSpec, n: number): Record<string, string> {
  const layout = { totalSize: file.data.length, chunkSize: file.chunkSize, forceChunkSize: !!file.forceChunkSize }
  return {
    resumableChunkNumber: String(n),
    resumableChunkSize: String(file.chunkSize),
    resumableCurrentChunkSize: String(chunkLength(layout, n)),
    resumableTotalSize: String(file.data.length),
    resumableType: file.type ?? 'application/octet-stream',
    resumableIdentifier: file.identifier,
    resumableFilename: file.filename,
    resumableRelativePath: file.filename,
    resumableTotalChunks: String(chunkCount(layout)),
  }
}

export function chunkBytes(file: FileSpec, n: number): Buffer {
  const layout = { totalSize: file.data.length, chunkSize: file.chunkSize, forceChunkSize: !!file.forceChunkSize }
  const start = chunkOffset(layout, n)
  return file.data.subarray(start, start + chunkLength(layout, n))
}

export function countOf(file: FileSpec): number {
  return chunkCount({ totalSize: file.data.length, chunkSize: file.chunkSize, forceChunkSize: !!file.forceChunkSize })
}

export function sha256(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex')
}

/** Deterministic pseudo-random bytes, so failures are reproducible. */
export function bytes(size: number, seed = 1): Buffer {
  const out = Buffer.alloc(size)
  let x = seed * 2654435761 >>> 0
  for (let i = 0; i < size; i++) {
    x ^= x << 13; x >>>= 0
    x ^= x >>> 17
    x ^= x << 5; x >>>= 0
    out[i] = x & 0xff
  }
  return out
}

export const ENDPOINT = '/admin/api/resumable/Document/file'
export const XHR = { 'X-Requested-With': 'XMLHttpRequest' }

type Agent = import('./app.js').Agent

export function postChunk(agent: Agent, file: FileSpec, n: number, override: { params?: Record<string, string>; body?: Buffer } = {}) {
  const params = { ...chunkParams(file, n), ...override.params }
  const req = agent.post(ENDPOINT).query(params).set(XHR)
  for (const [k, v] of Object.entries(params)) req.field(k, v)
  return req.attach('file', override.body ?? chunkBytes(file, n), { filename: 'blob', contentType: 'application/octet-stream' })
}

export function testChunk(agent: Agent, file: FileSpec, n: number) {
  return agent.get(ENDPOINT).query(chunkParams(file, n)).set(XHR)
}

/** Sends every chunk in order; returns the reference from the completing answer. */
export async function uploadAll(agent: Agent, file: FileSpec): Promise<string> {
  let reference = ''
  for (let n = 1; n <= countOf(file); n++) {
    const res = await postChunk(agent, file, n)
    if (res.status !== 200) throw new Error(`chunk ${n}: ${res.status} ${res.text}`)
    if (res.body.status === 'complete') reference = res.body.reference
  }
  if (!reference) throw new Error('upload never completed')
  return reference
}
