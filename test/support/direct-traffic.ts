/**
 * What a direct upload sends where, for the Chromium tests: the PUTs that reached the bucket (at the
 * SigV4-verifying proxy), the ETags the page reported to the route, and every request the app
 * process received with its declared body size (the app must carry no file bytes).
 */
import type { IncomingMessage, Server } from 'node:http'
import type { Page } from 'playwright-core'
import type { SigningProxy } from './signing-proxy.js'

export interface AppRequest {
  method: string
  path: string
  bytes: number
}

/** Every request the app's HTTP server receives. */
export function recordAppRequests(server: Server): AppRequest[] {
  const seen: AppRequest[] = []
  server.on('request', (req: IncomingMessage) => {
    seen.push({ method: req.method ?? '', path: (req.url ?? '').split('?')[0]!, bytes: Number(req.headers['content-length'] ?? 0) })
  })
  return seen
}

export interface AcceptedPut {
  uploadId: string
  part: number
  /** When its URL was signed (X-Amz-Date), epoch milliseconds. */
  signedAt: number
  /** The headers its signature covers (X-Amz-SignedHeaders). */
  signedHeaders: string[]
}

/** The part PUTs the bucket answered 200 (verified signatures only reach it), by upload and part. */
export function acceptedPuts(proxy: SigningProxy, from = 0): AcceptedPut[] {
  return proxy.forwarded.slice(from)
    .filter((r) => r.method === 'PUT' && r.status === 200 && r.url.includes('partNumber='))
    .map((r) => {
      const q = new URL(r.url, 'http://bucket').searchParams
      const date = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(q.get('X-Amz-Date') ?? '')
      return {
        uploadId: q.get('uploadId') ?? '',
        part: Number(q.get('partNumber')),
        signedAt: date ? Date.UTC(+date[1]!, +date[2]! - 1, +date[3]!, +date[4]!, +date[5]!, +date[6]!) : NaN,
        signedHeaders: (q.get('X-Amz-SignedHeaders') ?? '').split(';'),
      }
    })
}

/** The parts this page reported to the route (`direct/parts`) and the route recorded, by file identifier. */
export class ReportedParts {
  readonly byFile = new Map<string, Set<number>>()
  readonly completing: string[] = []
  /** Part PUTs whose 200 the page received (a PUT aborted by Pause may land unseen). */
  putsSeen = 0

  constructor(page: Page) {
    page.on('requestfinished', (req) => {
      const url = new URL(req.url())
      if (req.method() === 'PUT' && url.searchParams.has('partNumber')) {
        void req.response().then((res) => { if (res?.status() === 200) this.putsSeen += 1 })
        return
      }
      if (req.method() !== 'POST' || !url.pathname.endsWith('/direct/parts')) return
      void req.response().then((res) => {
        if (!res || res.status() !== 200) return
        const id = url.searchParams.get('resumableIdentifier') ?? ''
        const body = req.postDataJSON() as { parts: Array<{ partNumber: number }>; fileSha256?: string }
        const set = this.byFile.get(id) ?? new Set<number>()
        for (const p of body.parts) set.add(p.partNumber)
        this.byFile.set(id, set)
        if (body.fileSha256) this.completing.push(body.fileSha256)
      })
    })
  }

  count(): number {
    let n = 0
    for (const set of this.byFile.values()) n += set.size
    return n
  }

  /**
   * The parts reported once reporting has stopped for `quietMs` (the page reports an ETag within a
   * second of getting it). Not `putsSeen`: a PUT whose answer the network finished just as Pause
   * aborted its request counts there but never reaches the page's code (a full suite under load
   * showed it).
   */
  async settled(quietMs = 1500): Promise<number> {
    for (let last = -1; last !== this.count();) {
      last = this.count()
      await new Promise((resolve) => { setTimeout(resolve, quietMs) })
    }
    return this.count()
  }
}
