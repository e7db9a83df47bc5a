/**
 * The query parameters Resumable.js 1.1.0 sends with every request, rebuilt for the requests the
 * component makes itself (the DELETE that cancels an upload and the GET that asks for the
 * reference of a finished one).
 */
export interface ChunkingOptions {
  chunkSize: number
  forceChunkSize: boolean
}

export interface UploadDescriptor {
  uniqueIdentifier: string
  fileName: string
  relativePath?: string
  size: number
  type: string
}

export function totalChunks(size: number, o: ChunkingOptions): number {
  const round = o.forceChunkSize ? Math.ceil : Math.floor
  return Math.max(round(size / o.chunkSize), 1)
}

/** Byte count of chunk `n` (1-based), as Resumable.js cuts it. */
export function chunkLength(n: number, size: number, o: ChunkingOptions): number {
  const start = (n - 1) * o.chunkSize
  let end = Math.min(size, n * o.chunkSize)
  if (size - end < o.chunkSize && !o.forceChunkSize) end = size
  return Math.max(0, end - start)
}

export function chunkQuery(file: UploadDescriptor, n: number, o: ChunkingOptions): string {
  const params = new URLSearchParams()
  params.set('resumableChunkNumber', String(n))
  params.set('resumableChunkSize', String(o.chunkSize))
  params.set('resumableCurrentChunkSize', String(chunkLength(n, file.size, o)))
  params.set('resumableTotalSize', String(file.size))
  params.set('resumableType', file.type)
  params.set('resumableIdentifier', file.uniqueIdentifier)
  params.set('resumableFilename', file.fileName)
  params.set('resumableRelativePath', file.relativePath || file.fileName)
  params.set('resumableTotalChunks', String(totalChunks(file.size, o)))
  return params.toString()
}

export function withQuery(url: string, query: string): string {
  return `${url}${url.includes('?') ? '&' : '?'}${query}`
}

export interface ServerAnswer {
  status?: string
  reference?: string
  code?: string
  message?: string
}

/** Parses a response body defensively: anything that is not a JSON object gives null. */
export function parseAnswer(text: string | null | undefined): ServerAnswer | null {
  if (!text) return null
  try {
    const value = JSON.parse(text)
    return value && typeof value === 'object' && !Array.isArray(value) ? value as ServerAnswer : null
  } catch {
    return null
  }
}

export const REQUEST_HEADERS = { 'X-Requested-With': 'XMLHttpRequest' }

/** Cancels an upload on the server. Failures are ignored: expiry removes it anyway. */
export async function deleteUpload(target: string, file: UploadDescriptor, o: ChunkingOptions): Promise<void> {
  try {
    await fetch(withQuery(target, chunkQuery(file, 1, o)), {
      method: 'DELETE',
      headers: REQUEST_HEADERS,
      credentials: 'same-origin',
    })
  } catch {
    // offline or the server is gone: nothing to do
  }
}

/** Asks the server, with chunk 1's test GET, for the reference of a finished upload. */
export async function fetchReference(
  target: string,
  file: UploadDescriptor,
  o: ChunkingOptions,
  attempts = 5,
  intervalMs = 1000,
): Promise<{ reference?: string; answer?: ServerAnswer | null; status?: number }> {
  let last: { reference?: string; answer?: ServerAnswer | null; status?: number } = {}
  for (let i = 0; i < attempts; i += 1) {
    if (i > 0) await new Promise((resolve) => { setTimeout(resolve, intervalMs) })
    try {
      const response = await fetch(withQuery(target, chunkQuery(file, 1, o)), {
        method: 'GET',
        headers: REQUEST_HEADERS,
        credentials: 'same-origin',
      })
      const answer = parseAnswer(await response.text())
      last = { answer, status: response.status }
      if (typeof answer?.reference === 'string' && answer.reference) return { ...last, reference: answer.reference }
      // A definite error will not change by asking again.
      if (response.status >= 400 && response.status !== 503 && response.status !== 507) return last
    } catch {
      // network hiccup: try again
    }
  }
  return last
}
