import { randomBytes } from 'node:crypto'
import { closeSync, mkdirSync, openSync, unlinkSync } from 'node:fs'
import { join } from 'node:path'
import { ConfigurationError } from '../../errors.js'

/**
 * Creates the folder if it is missing and writes (then removes) a probe file in it, synchronously,
 * while the store is built: a folder the app cannot write stops the app at start-up, naming the
 * option, instead of failing every upload with 507 later. Writing is the only honest test:
 * permission bits say nothing for root, read-only mounts or network file systems.
 */
export function ensureWritableDirectory(path: string, option: string): void {
  const probe = join(path, `.write-test-${process.pid}-${randomBytes(6).toString('hex')}`)
  try {
    mkdirSync(path, { recursive: true })
    closeSync(openSync(probe, 'wx'))
    unlinkSync(probe)
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message
    throw new ConfigurationError(option, `must be a folder this process can write: ${path} is not (${reason})`)
  }
}
