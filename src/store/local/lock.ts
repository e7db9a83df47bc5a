import { randomBytes } from 'node:crypto'
import { lstat, lutimes, readFile, readlink } from 'node:fs/promises'
import { hostname } from 'node:os'
import { ChunkBusy } from '../../errors.js'
import type { MetadataIo } from './io.js'

/** Identifies this process across restarts that reuse its pid (containers often run as pid 1). */
const INSTANCE = `${hostname()}:${process.pid}:${randomBytes(6).toString('hex')}`

interface LockOwner { host: string; pid: number; instance: string }

function parseOwner(text: string): LockOwner | null {
  const [host, pid, nonce] = text.trim().split(':')
  if (!host || !pid || !nonce) return null
  return { host, pid: Number(pid), instance: text.trim() }
}

/** A lock whose owner is a process on this host that no longer exists can be taken over at once. */
function ownerIsGone(owner: LockOwner | null): boolean {
  if (!owner || owner.host !== hostname()) return false
  if (owner.instance === INSTANCE) return false
  if (owner.pid === process.pid) return true
  try {
    process.kill(owner.pid, 0)
    return false
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH'
  }
}

export async function isStaleLock(path: string, staleMs: number, now = Date.now()): Promise<boolean> {
  try {
    const info = await lstat(path)
    // Our locks are symbolic links whose target names the owner; a plain file is read instead.
    const text = info.isSymbolicLink() ? await readlink(path) : await readFile(path, 'utf8')
    return now - info.mtimeMs > staleMs || ownerIsGone(parseOwner(text))
  } catch {
    return false
  }
}

/**
 * An exclusive lock that works across processes sharing a directory: a symbolic link whose target
 * names the owner, created in one atomic system call (EEXIST when taken) and removed in one. The
 * holder refreshes its mtime while it works, so a lock is only taken over when its owner has died
 * (same host) or stopped refreshing for `staleMs` (another host).
 */
export async function acquireFileLock(path: string, staleMs: number, busyMessage: string, io: MetadataIo): Promise<() => Promise<void>> {
  for (let attempt = 0; ; attempt++) {
    try {
      await io.symlink(INSTANCE, path)
      break
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) {
        if ((error as NodeJS.ErrnoException).code === 'EEXIST') throw new ChunkBusy(busyMessage)
        throw error
      }
      if (!(await isStaleLock(path, staleMs))) throw new ChunkBusy(busyMessage)
      await io.unlink(path).catch(() => undefined)
    }
  }
  const heartbeat = setInterval(() => {
    const now = new Date()
    lutimes(path, now, now).catch(() => undefined)
  }, Math.max(staleMs / 3, 50))
  heartbeat.unref()
  return async () => {
    clearInterval(heartbeat)
    await io.unlink(path).catch(() => undefined)
  }
}
