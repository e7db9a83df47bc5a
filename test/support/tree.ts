import { createHash } from 'node:crypto'
import { closeSync, openSync, writeSync } from 'node:fs'
import { lstat, readFile, readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { chunkBytes, type FileSpec } from './resumable-client.js'

/** One entry of a recursive listing: directories by kind, files by size and content hash. */
export type Tree = Record<string, string>

const LOCK = /(^|\/)lock-\d+$/

/**
 * Every path under `root` (relative, '/'-separated) with a description of what is there. Symlinks are
 * listed as such (never followed). `skipTop` leaves out top-level names (e.g. '.staging'). Chunk
 * locks are listed too: the route answers only after the store released its lock, so a listing
 * taken right after an answer is stable, and a lock a refused request left behind shows up.
 */
export async function listTree(root: string, options: { skipTop?: string[] } = {}): Promise<Tree> {
  const out: Tree = {}
  async function walk(dir: string, rel: string): Promise<void> {
    let names: string[]
    try {
      names = await readdir(dir)
    } catch {
      return
    }
    for (const name of names.sort()) {
      if (!rel && options.skipTop?.includes(name)) continue
      const path = join(dir, name)
      const relPath = rel ? `${rel}/${name}` : name
      const info = await lstat(path).catch(() => null)
      if (!info) continue
      if (info.isSymbolicLink()) out[relPath] = 'symlink'
      else if (info.isDirectory()) {
        out[relPath] = 'dir'
        await walk(path, relPath)
      } else if (info.isFile()) {
        const hash = createHash('sha256').update(await readFile(path)).digest('hex').slice(0, 16)
        out[relPath] = `file ${info.size} ${hash}`
      } else out[relPath] = 'other'
    }
  }
  await walk(root, '')
  return out
}

/** Lock files left anywhere under `root`. */
export async function lockFiles(root: string): Promise<string[]> {
  const found: string[] = []
  async function walk(dir: string, rel: string): Promise<void> {
    for (const entry of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
      const relPath = rel ? `${rel}/${entry.name}` : entry.name
      if (entry.isDirectory()) await walk(join(dir, entry.name), relPath)
      else if (LOCK.test(relPath)) found.push(relPath)
    }
  }
  await walk(root, '')
  return found
}

/** Hashes of the staging files of one upload that a refused request must never change. */
export async function uploadFingerprint(stagingDir: string, id: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {}
  for (const name of ['manifest.json', 'received', 'data', 'complete']) {
    try {
      out[name] = createHash('sha256').update(await readFile(join(stagingDir, id, name))).digest('hex')
    } catch {
      out[name] = 'absent'
    }
  }
  return out
}

/** Added, removed and changed paths between two listings (for readable failure messages). */
export function treeDiff(before: Tree, after: Tree): string[] {
  const diff: string[] = []
  for (const [path, what] of Object.entries(after)) {
    if (!(path in before)) diff.push(`+ ${path} (${what})`)
    else if (before[path] !== what) diff.push(`~ ${path} (${before[path]} -> ${what})`)
  }
  for (const path of Object.keys(before)) if (!(path in after)) diff.push(`- ${path}`)
  return diff
}

/**
 * Writes chunk `n` of `file` into its upload's staging folder `dir` and marks it held, behind the
 * route's back: with the last chunk, what a process killed between that mark and the `data` →
 * `complete` rename leaves behind.
 */
export function writeAndMarkChunk(dir: string, file: FileSpec, n: number): void {
  const bytes = chunkBytes(file, n)
  const data = openSync(join(dir, 'data'), 'r+')
  writeSync(data, bytes, 0, bytes.length, (n - 1) * file.chunkSize)
  closeSync(data)
  const marks = openSync(join(dir, 'received'), 'r+')
  writeSync(marks, Buffer.from([1]), 0, 1, n - 1)
  closeSync(marks)
}
