import { randomBytes } from 'node:crypto'
import { open, readFile, stat, unlink, utimes } from 'node:fs/promises'
import { hostname } from 'node:os'
import { ChunkBusy } from '../errors.js'

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
    const [info, text] = await Promise.all([stat(path), readFile(path, 'utf8')])
    return now - info.mtimeMs > staleMs || ownerIsGone(parseOwner(text))
  } catch {
    return false
  }
}

/**
 * An exclusive lock as a file created with O_EXCL, which works across processes sharing a
 * directory. The holder refreshes its mtime while it works, so a lock is only taken over when its
 * owner has died (same host) or stopped refreshing for `staleMs` (another host).
 */
export async function acquireFileLock(path: string, staleMs: number, busyMessage: string): Promise<() => Promise<void>> {
  for (let attempt = 0; ; attempt++) {
    try {
      const handle = await open(path, 'wx')
      try {
        await handle.writeFile(INSTANCE)
      } catch (error) {
        // E.g. ENOSPC: an ownerless lock file left here would refuse every retry until it went stale.
        await handle.close().catch(() => undefined)
        await unlink(path).catch(() => undefined)
        throw error
      }
      await handle.close()
      break
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) {
        if ((error as NodeJS.ErrnoException).code === 'EEXIST') throw new ChunkBusy(busyMessage)
        throw error
      }
      if (!(await isStaleLock(path, staleMs))) throw new ChunkBusy(busyMessage)
      await unlink(path).catch(() => undefined)
    }
  }
  const heartbeat = setInterval(() => {
    const now = new Date()
    utimes(path, now, now).catch(() => undefined)
  }, Math.max(staleMs / 3, 50))
  heartbeat.unref()
  return async () => {
    clearInterval(heartbeat)
    await unlink(path).catch(() => undefined)
  }
}
