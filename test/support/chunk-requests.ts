/**
 * What the edit component sends on the chunk route, as a browser test records it: every chunk POST
 * carries its chunk's SHA-256, and so does every test GET Resumable.js sends. The one GET that may
 * go without it is the component asking for the reference (chunk 1's test GET) when the last POST's
 * answer had none yet, as on a slow machine: it reads the upload's state and sends no bytes.
 */
import { expect } from '@jest/globals'

export interface ChunkRequest {
  method: string
  chunk: number
  digest: string | null
}

export function expectChunkDigests(requests: ChunkRequest[], digestOf: (chunk: number) => string, chunks: number[]): void {
  const posts = requests.filter((r) => r.method === 'POST')
  expect(new Set(posts.map((r) => r.chunk))).toEqual(new Set(chunks))
  for (const { chunk, digest } of posts) expect(digest).toBe(digestOf(chunk))
  for (const { chunk, digest } of requests.filter((r) => r.digest !== null)) expect(digest).toBe(digestOf(chunk))
  const lastPost = requests.lastIndexOf(posts[posts.length - 1]!)
  expect(requests.slice(0, lastPost).filter((r) => r.digest === null)).toEqual([])
  expect(requests.slice(lastPost).filter((r) => r.digest === null).every((r) => r.method === 'GET' && r.chunk === 1)).toBe(true)
}
