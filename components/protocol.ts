/**
 * The requests the edit component makes itself, besides Resumable.js's: the DELETE that cancels an
 * upload and the GET that asks for the reference of a finished one. Both carry chunk 1's parameters,
 * exactly as Resumable.js would send them (src/shared/chunk-params.ts).
 */
import type { ChunkLayout } from '../src/shared/arithmetic.js'
import { isErrorCode, type ErrorCode } from '../src/shared/error-codes.js'
import { chunkParams, type UploadDescriptor } from '../src/shared/chunk-params.js'

export type Chunking = Omit<ChunkLayout, 'totalSize'>

export function withQuery(url: string, params: Record<string, string>): string {
  return `${url}${url.includes('?') ? '&' : '?'}${new URLSearchParams(params).toString()}`
}

/** A response body as the component understands it; `code` is only ever one the server sends. */
export interface ServerAnswer {
  status?: string
  reference?: string
  code?: ErrorCode
  message?: string
}

/** Parses a response body defensively: anything that is not a JSON object gives null. */
export function parseAnswer(text: string | null | undefined): ServerAnswer | null {
  if (!text) return null
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return null
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) return null
  const v = value as Record<string, unknown>
  const str = (x: unknown): string | undefined => (typeof x === 'string' && x ? x : undefined)
  return {
    status: str(v.status),
    reference: str(v.reference),
    code: isErrorCode(v.code) ? v.code : undefined,
    message: str(v.message),
  }
}

export const REQUEST_HEADERS = { 'X-Requested-With': 'XMLHttpRequest' }

/** Rejected with these, an upload will not get better by trying again. */
export const PERMANENT_ERRORS = [400, 401, 403, 404, 409, 410, 413, 415, 422, 429, 500, 501]

/** Cancels an upload on the server. Failures are ignored: expiry removes it anyway. */
export async function deleteUpload(target: string, file: UploadDescriptor, chunking: Chunking): Promise<void> {
  try {
    await fetch(withQuery(target, chunkParams(file, 1, chunking)), {
      method: 'DELETE',
      headers: REQUEST_HEADERS,
      credentials: 'same-origin',
    })
  } catch {
    // offline or the server is gone: nothing to do
  }
}

export interface ReferenceResult {
  reference?: string
  /** Direct mode: the route named parts to send again; the file finishes once they are in. */
  resending?: boolean
  answer?: ServerAnswer | null
  status?: number
}

/** Asks the server, with chunk 1's test GET, for the reference of a finished upload. */
export async function fetchReference(
  target: string,
  file: UploadDescriptor,
  chunking: Chunking,
  attempts = 5,
  intervalMs = 1000,
): Promise<ReferenceResult> {
  let last: ReferenceResult = {}
  for (let i = 0; i < attempts; i += 1) {
    if (i > 0) await new Promise((resolve) => { setTimeout(resolve, intervalMs) })
    try {
      const response = await fetch(withQuery(target, chunkParams(file, 1, chunking)), {
        method: 'GET',
        headers: REQUEST_HEADERS,
        credentials: 'same-origin',
      })
      const answer = parseAnswer(await response.text())
      last = { answer, status: response.status }
      if (answer?.reference) return { ...last, reference: answer.reference }
      // A definite error will not change by asking again.
      if (response.status >= 400 && response.status !== 503 && response.status !== 507) return last
    } catch {
      // network hiccup: try again
    }
  }
  return last
}
