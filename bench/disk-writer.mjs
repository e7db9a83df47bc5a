// The disk ceiling: write SIZE bytes sequentially to FILE in BLOCK-byte writes, fsync at the end.
// Prints one JSON line: { ms, bytes, writeMs, fsyncMs }.
import { open } from 'node:fs/promises'
import { randomFillSync } from 'node:crypto'
import { performance } from 'node:perf_hooks'

const file = process.env.FILE
const size = Number(process.env.SIZE)
const block = Number(process.env.BLOCK || 1024 * 1024)
const buffer = randomFillSync(Buffer.allocUnsafe(block))
const started = performance.now()
const handle = await open(file, 'w')
let written = 0
while (written < size) {
  const n = Math.min(block, size - written)
  const { bytesWritten } = await handle.write(buffer, 0, n, written)
  written += bytesWritten
}
const writeMs = performance.now() - started
await handle.sync()
await handle.close()
const ms = performance.now() - started
console.log(JSON.stringify({ ms, bytes: written, writeMs, fsyncMs: ms - writeMs }))
