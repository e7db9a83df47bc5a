import { InvalidRequest, TooLarge, TypeNotAllowed } from '../errors.js'
import { chunkCount, chunkLength, type ChunkLayout } from '../shared/arithmetic.js'
import { effectiveType, typeProblem } from '../shared/file-type.js'
import { PARAM } from '../shared/chunk-params.js'
import { CHUNK_DIGEST_PARAM, isChunkDigest } from '../shared/chunk-digest.js'
import { sanitizeFilename, sanitizeRelativePath } from './filename.js'

export type RawParams = Record<string, string | string[] | undefined>

/** What the server accepts for one property: fixed by the feature's options, never by the client. */
export interface UploadRules {
  chunkSize: number
  forceChunkSize: boolean
  maxSize: number
  mimeTypes?: string[]
  extensions?: string[]
}

/** One request's parameters after every check that needs no stored state. */
export interface ChunkRequest {
  layout: ChunkLayout
  chunkNumber: number
  /** Exact byte length this chunk must have. */
  chunkLength: number
  chunkCount: number
  identifier: string
  /** Sanitised display name; never used as a path on its own. */
  filename: string
  /** The client's file name as sent, only compared between chunks of one upload. */
  rawFilename: string
  /** Sanitised folder path of a file from a folder drop (`a/b/name.ext`); metadata only. */
  relativePath?: string
  /** The SHA-256 the client computed of this chunk (64 lower-case hex), when it sent one. */
  sha256?: string
  type: string
}

export const MAX_IDENTIFIER = 256
const MAX_FILENAME = 1024
const MAX_TYPE = 255

function single(params: RawParams, name: string, required: boolean): string | undefined {
  const value = params[name]
  if (Array.isArray(value)) throw new InvalidRequest(`Parameter ${name} was sent more than once.`)
  if (value === undefined || value === '') {
    if (required) throw new InvalidRequest(`Parameter ${name} is missing.`)
    return undefined
  }
  return value
}

function integer(params: RawParams, name: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const raw = single(params, name, true) as string
  if (!/^[0-9]{1,16}$/.test(raw)) throw new InvalidRequest(`Parameter ${name} must be a whole number, got "${preview(raw)}".`)
  const value = Number(raw)
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new InvalidRequest(`Parameter ${name} must be between ${min} and ${max}, got ${raw}.`)
  }
  return value
}

function text(params: RawParams, name: string, max: number, required: boolean): string {
  const value = single(params, name, required) ?? ''
  if (value.length > max) throw new InvalidRequest(`Parameter ${name} is longer than ${max} characters.`)
  // eslint-disable-next-line no-control-regex -- finding control characters is the point
  if (/[\u0000-\u001F\u007F]/.test(value)) throw new InvalidRequest(`Parameter ${name} contains control characters.`)
  return value
}

function preview(raw: string): string {
  return raw.length > 40 ? `${raw.slice(0, 40)}…` : raw
}

/**
 * Merges the query string with the multipart fields that preceded the file part. Resumable.js 1.1.0
 * sends every parameter in both; a parameter present in both must agree, or the request is refused,
 * so that no check can be passed with one value while another is used.
 */
export function mergeParams(query: RawParams, fields: RawParams): RawParams {
  const merged: RawParams = { ...query }
  for (const [key, value] of Object.entries(fields)) {
    const existing = merged[key]
    if (existing === undefined) merged[key] = value
    else if (Array.isArray(existing) || Array.isArray(value) || existing !== value) {
      throw new InvalidRequest(`Parameter ${key} differs between the URL and the body.`)
    }
  }
  return merged
}

/** Parses and checks everything a chunk request (test GET, POST or DELETE) carries. */
export function parseChunkRequest(params: RawParams, rules: UploadRules): ChunkRequest {
  const identifier = text(params, PARAM.identifier, MAX_IDENTIFIER, true)
  const rawFilename = text(params, PARAM.filename, MAX_FILENAME, true)
  const totalSize = integer(params, PARAM.totalSize, 1)
  const chunkSize = integer(params, PARAM.chunkSize, 1)
  const chunkNumber = integer(params, PARAM.chunkNumber, 1)
  const currentChunkSize = integer(params, PARAM.currentChunkSize, 1)
  const declaredType = text(params, PARAM.type, MAX_TYPE, false)
  const relativePath = sanitizeRelativePath(text(params, PARAM.relativePath, MAX_FILENAME * 4, false))
  const sha256 = chunkDigest(params)
  if (params[PARAM.totalChunks] !== undefined) integer(params, PARAM.totalChunks, 1)

  if (chunkSize !== rules.chunkSize) {
    throw new InvalidRequest(`Chunk size must be ${rules.chunkSize} bytes, got ${chunkSize}.`)
  }
  if (totalSize > rules.maxSize) {
    throw new TooLarge(`The file is ${totalSize} bytes; the largest allowed is ${rules.maxSize} bytes.`)
  }
  const filename = sanitizeFilename(rawFilename)
  const type = effectiveType(declaredType, filename)
  if (typeProblem(declaredType, filename, rules)) {
    throw new TypeNotAllowed(`Files of type ${type} (${filename}) are not allowed here.`)
  }
  const layout: ChunkLayout = { totalSize, chunkSize, forceChunkSize: rules.forceChunkSize }
  const count = chunkCount(layout)
  if (chunkNumber > count) {
    throw new InvalidRequest(`Chunk ${chunkNumber} is beyond this file's ${count} chunks.`)
  }
  const length = chunkLength(layout, chunkNumber)
  if (currentChunkSize !== length) {
    throw new InvalidRequest(`Chunk ${chunkNumber} must be ${length} bytes, but ${currentChunkSize} were declared.`)
  }
  return {
    layout, chunkNumber, chunkLength: length, chunkCount: count, identifier, filename, rawFilename, relativePath, type,
    ...(sha256 ? { sha256 } : {}),
  }
}

/**
 * The SHA-256 the client sent for a chunk: undefined when it sent none, InvalidRequest when it is not
 * 64 lower-case hex digits (a malformed digest is never ignored, or a damaged chunk could pass
 * unchecked).
 */
function chunkDigest(params: RawParams): string | undefined {
  const value = params[CHUNK_DIGEST_PARAM]
  if (value === undefined || value === '') return undefined
  if (!isChunkDigest(value)) throw new InvalidRequest(`Parameter ${CHUNK_DIGEST_PARAM} must be 64 lower-case hex digits (SHA-256).`)
  return value
}
