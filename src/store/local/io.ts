import { closeSync, constants, openSync, readSync, statSync, symlinkSync, unlinkSync, writeSync } from 'node:fs'
import type { Stats } from 'node:fs'
import { open, stat, symlink, unlink } from 'node:fs/promises'
import type { FileHandle } from 'node:fs/promises'

/**
 * The small file-system operations of a chunk request: a stat, a few mark bytes read or written on
 * an open file, a lock link created and removed. Data bytes never go through here.
 */
export interface MetadataIo {
  stat(path: string): Promise<Stats>
  /** Reads into all of `buffer` from `position`; returns how many bytes there were. */
  read(file: FileHandle, buffer: Buffer, position: number): Promise<number>
  write(file: FileHandle, buffer: Buffer, position: number): Promise<void>
  /** Reads into `buffer` from `position` of the file at `path`; returns how many bytes there were. */
  readAt(path: string, buffer: Buffer, position: number): Promise<number>
  /** Writes all of `buffer` at `position` of the file at `path`, created (0600) if missing. */
  writeAt(path: string, buffer: Buffer, position: number): Promise<void>
  symlink(target: string, path: string): Promise<void>
  unlink(path: string): Promise<void>
}

/**
 * Direct system calls on the event loop. On a local disk each returns at once, while a trip through
 * libuv's thread pool wakes a worker and then the loop again: with few cores those switches can cost
 * more than the calls themselves. Which one wins depends on the machine, so it is measured by
 * `npm run bench`, not claimed here (bench/RESULTS.md). Errors still arrive as rejections.
 */
export const directIo: MetadataIo = {
  async stat(path) {
    return statSync(path)
  },
  async read(file, buffer, position) {
    return readSync(file.fd, buffer, 0, buffer.length, position)
  },
  async write(file, buffer, position) {
    writeSync(file.fd, buffer, 0, buffer.length, position)
  },
  async readAt(path, buffer, position) {
    const fd = openSync(path, 'r')
    try {
      return readSync(fd, buffer, 0, buffer.length, position)
    } finally {
      closeSync(fd)
    }
  },
  async writeAt(path, buffer, position) {
    const fd = openSync(path, constants.O_WRONLY | constants.O_CREAT, 0o600)
    try {
      let written = 0
      while (written < buffer.length) written += writeSync(fd, buffer, written, buffer.length - written, position + written)
    } finally {
      closeSync(fd)
    }
  },
  async symlink(target, path) {
    symlinkSync(target, path)
  },
  async unlink(path) {
    unlinkSync(path)
  },
}

/** Through libuv's thread pool: for network file systems, where one call can take milliseconds. */
export const pooledIo: MetadataIo = {
  stat: (path) => stat(path),
  async read(file, buffer, position) {
    return (await file.read(buffer, 0, buffer.length, position)).bytesRead
  },
  async write(file, buffer, position) {
    await file.write(buffer, 0, buffer.length, position)
  },
  async readAt(path, buffer, position) {
    const file = await open(path, 'r')
    try {
      return (await file.read(buffer, 0, buffer.length, position)).bytesRead
    } finally {
      await file.close()
    }
  },
  async writeAt(path, buffer, position) {
    const file = await open(path, constants.O_WRONLY | constants.O_CREAT, 0o600)
    try {
      let written = 0
      while (written < buffer.length) written += (await file.write(buffer, written, buffer.length - written, position + written)).bytesWritten
    } finally {
      await file.close()
    }
  },
  symlink: (target, path) => symlink(target, path),
  unlink: (path) => unlink(path),
}
