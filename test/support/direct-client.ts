/**
 * A Node client of direct uploads (src/shared/direct-protocol.ts), as the edit component speaks
 * it: sign a batch on the chunk route, PUT each chunk to its signed URL straight to the S3 server,
 * report the ETags; the report that makes the file whole completes it, or names parts to send again.
 */
import { createHash } from 'node:crypto'
import { DIRECT_BATCH_MAX, DIRECT_PATH, type PartsAnswer, type SignAnswer } from '../../src/shared/direct-protocol.js'
import type { Agent } from './app.js'
import type { HttpClient } from './processes.js'
import { rawPut, type RawAnswer } from './raw-put.js'
import { chunkBytes, chunkParams, countOf, ENDPOINT, XHR, type FileSpec } from './resumable-client.js'

export interface JsonAnswer {
  status: number
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- whatever JSON the route sent; the tests assert its shape
  body: any
}

/** How the client reaches the app: an in-process supertest agent or a real HTTP client. */
export type DirectTransport = (path: string, body: unknown) => Promise<JsonAnswer>

export function viaAgent(agent: Agent): DirectTransport {
  return async (path, body) => {
    const res = await agent.post(path).set(XHR).set('Content-Type', 'application/json').send(JSON.stringify(body))
    return { status: res.status, body: res.body }
  }
}

export function viaHttp(client: HttpClient): DirectTransport {
  return async (path, body) => {
    const res = await client.request('POST', path, { headers: { ...XHR, 'Content-Type': 'application/json' }, body: Buffer.from(JSON.stringify(body)) })
    return { status: res.status, body: res.body }
  }
}

export function directPath(file: FileSpec, action: keyof typeof DIRECT_PATH, endpoint = ENDPOINT): string {
  return `${endpoint}/${DIRECT_PATH[action]}?${new URLSearchParams(chunkParams(file, 1))}`
}

export function partDigest(file: FileSpec, n: number): string {
  return createHash('sha256').update(chunkBytes(file, n)).digest('hex')
}

/** Signs `parts`; with `held`, asks which parts the upload holds (as a page's first sign does). */
export async function sign(send: DirectTransport, file: FileSpec, parts: number[], digests = false, held = false): Promise<{ status: number; body: SignAnswer & { code?: string; message?: string } }> {
  return send(directPath(file, 'sign'), {
    parts: parts.map((n) => (digests ? { partNumber: n, sha256: partDigest(file, n) } : { partNumber: n })),
    ...(held ? { held: true } : {}),
  })
}

export async function report(send: DirectTransport, file: FileSpec, parts: Array<{ partNumber: number; etag: string }>, fileSha256?: string): Promise<{ status: number; body: PartsAnswer & { code?: string; message?: string } }> {
  return send(directPath(file, 'parts'), fileSha256 ? { parts, fileSha256 } : { parts })
}

/** PUTs chunk `n` to the URL signed for it, with the headers the signature names. */
export function putPart(file: FileSpec, signed: SignAnswer['parts'][number], body = chunkBytes(file, signed.partNumber)): Promise<RawAnswer> {
  return rawPut(signed.url, body, signed.headers)
}

export interface DirectRun {
  reference: string | null
  /** Every JSON answer, in order. */
  answers: JsonAnswer[]
  /** Part numbers sent again after a `resend` answer. */
  resent: number[]
  /** A refusal that ended the run. */
  failure: JsonAnswer | RawAnswer | null
}

/**
 * The whole file: parts signed a batch at a time, PUT `simultaneous` at a time, each batch's ETags
 * reported as it completes; the last report carries the file's SHA-256. A `resend` answer signs
 * and sends those parts again (up to `maxResends` rounds).
 */
export async function directUpload(send: DirectTransport, file: FileSpec, options: { digests?: boolean; simultaneous?: number; maxResends?: number; etagOf?: (n: number, etag: string) => string } = {}): Promise<DirectRun> {
  const run: DirectRun = { reference: null, answers: [], resent: [], failure: null }
  const fileSha256 = createHash('sha256').update(file.data).digest('hex')
  const all = Array.from({ length: countOf(file) }, (_, i) => i + 1)
  let wanted = all
  for (let round = 0; round <= (options.maxResends ?? 3); round++) {
    let last: JsonAnswer | null = null
    for (let start = 0; start < wanted.length; start += DIRECT_BATCH_MAX) {
      const batch = wanted.slice(start, start + DIRECT_BATCH_MAX)
      const signed = await sign(send, file, batch, options.digests)
      run.answers.push(signed)
      if (signed.status !== 200) return { ...run, failure: signed }
      const queue = [...signed.body.parts]
      const etags: Array<{ partNumber: number; etag: string }> = []
      const worker = async () => {
        for (let part = queue.shift(); part; part = queue.shift()) {
          const put = await putPart(file, part)
          if (put.status !== 200) throw Object.assign(new Error(`PUT of part ${part.partNumber}: ${put.status} ${put.body}`), { answer: put })
          const etag = String(put.headers.etag)
          etags.push({ partNumber: part.partNumber, etag: options.etagOf ? options.etagOf(part.partNumber, etag) : etag })
        }
      }
      try {
        await Promise.all(Array.from({ length: options.simultaneous ?? 3 }, worker))
      } catch (error) {
        return { ...run, failure: (error as { answer: RawAnswer }).answer }
      }
      const lastBatch = start + DIRECT_BATCH_MAX >= wanted.length
      last = await report(send, file, etags.sort((a, b) => a.partNumber - b.partNumber), lastBatch ? fileSha256 : undefined)
      run.answers.push(last)
      if (last.status !== 200) return { ...run, failure: last }
    }
    const answer = last!.body as PartsAnswer
    if (answer.status === 'complete') return { ...run, reference: answer.reference }
    if (answer.status !== 'resend') return { ...run, failure: last }
    run.resent.push(...answer.parts)
    wanted = answer.parts
  }
  return run
}
