/**
 * The direct-mode requests the edit component makes on the chunk route (src/shared/direct-protocol.ts):
 * sign a batch of parts, report the ETags the bucket gave. Both carry chunk 1's parameters, as the
 * cancel DELETE does, and answer either the parsed body or why not.
 */
import { chunkParams, type UploadDescriptor } from '../src/shared/chunk-params.js'
import {
  DIRECT_PATH, type PartsAnswer, type PartsReport, type SignAnswer, type SignRequest, type SignedPartAnswer,
} from '../src/shared/direct-protocol.js'
import { REQUEST_HEADERS, parseAnswer, withQuery, type Chunking, type ServerAnswer } from './protocol.js'

/** Why a direct request gave no answer: `status` 0 when the network failed. */
export interface DirectFailure {
  ok: false
  status: number
  answer: ServerAnswer | null
  body: string
}

export type DirectResult<T> = { ok: true; value: T; receivedAt: number; serverDate?: number } | DirectFailure

const isPartNumber = (n: unknown): n is number => Number.isInteger(n) && (n as number) >= 1
const partNumbers = (v: unknown): number[] | null => (Array.isArray(v) && v.every(isPartNumber) ? v : null)

function readSigned(v: unknown): SignedPartAnswer | null {
  if (!v || typeof v !== 'object') return null
  const p = v as Record<string, unknown>
  const headers = p.headers && typeof p.headers === 'object' ? p.headers as Record<string, unknown> : {}
  if (!isPartNumber(p.partNumber) || typeof p.url !== 'string' || typeof p.expiresAt !== 'number') return null
  if (!Object.values(headers).every((h) => typeof h === 'string')) return null
  return { partNumber: p.partNumber, url: p.url, headers: headers as Record<string, string>, expiresAt: p.expiresAt }
}

export function readSignAnswer(body: unknown): SignAnswer | null {
  if (!body || typeof body !== 'object') return null
  const b = body as Record<string, unknown>
  const held = b.held === undefined ? undefined : partNumbers(b.held)
  if (b.status !== 'signed' || !Array.isArray(b.parts) || held === null) return null
  const parts = b.parts.map(readSigned)
  if (!parts.every((p): p is SignedPartAnswer => p !== null)) return null
  return held ? { status: 'signed', parts, held } : { status: 'signed', parts }
}

export function readPartsAnswer(body: unknown): PartsAnswer | null {
  if (!body || typeof body !== 'object') return null
  const b = body as Record<string, unknown>
  if (b.status === 'complete' && typeof b.reference === 'string' && b.reference) return { status: 'complete', reference: b.reference }
  const held = partNumbers(b.held ?? [])
  if (b.status === 'partial' && held) return { status: 'partial', held }
  const parts = partNumbers(b.parts)
  if (b.status === 'resend' && parts) return { status: 'resend', parts }
  return null
}

async function post<T>(
  url: string,
  payload: unknown,
  read: (body: unknown) => T | null,
  keepalive = false,
): Promise<DirectResult<T>> {
  let response: Response
  let text: string
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: { ...REQUEST_HEADERS, 'Content-Type': 'application/json' },
      credentials: 'same-origin',
      body: JSON.stringify(payload),
      keepalive,
    })
    text = await response.text()
  } catch {
    return { ok: false, status: 0, answer: null, body: '' }
  }
  const receivedAt = Date.now()
  let json: unknown = null
  try {
    json = JSON.parse(text)
  } catch {
    // not JSON: a proxy's page, kept as the body
  }
  const value = response.ok ? read(json) : null
  if (value === null) return { ok: false, status: response.status, answer: parseAnswer(text), body: text }
  const date = Date.parse(response.headers.get('date') ?? '')
  return { ok: true, value, receivedAt, serverDate: Number.isFinite(date) ? date : undefined }
}

function directUrl(target: string, path: string, file: UploadDescriptor, chunking: Chunking): string {
  return withQuery(`${target}/${path}`, chunkParams(file, 1, chunking))
}

export function signParts(target: string, file: UploadDescriptor, chunking: Chunking, request: SignRequest): Promise<DirectResult<SignAnswer>> {
  return post(directUrl(target, DIRECT_PATH.sign, file, chunking), request, readSignAnswer)
}

/** Reports outlive the page (`keepalive`): the parts a closing tab sent are still recorded. */
export function reportParts(target: string, file: UploadDescriptor, chunking: Chunking, report: PartsReport): Promise<DirectResult<PartsAnswer>> {
  return post(directUrl(target, DIRECT_PATH.parts, file, chunking), report, readPartsAnswer, true)
}
