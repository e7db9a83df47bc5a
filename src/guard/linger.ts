import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Socket } from 'node:net'

/**
 * How long and how much a refused client may go on sending after its answer, like nginx's
 * `lingering_close` (`lingering_time` 30 s, `lingering_timeout` 5 s). Past the time bounds the
 * connection is reset: the client has then had every chance to read its answer. Past `maxBytes`
 * nothing more is read: the client's sending stalls, which leaves it nothing to do but read its
 * answer, and the idle bound ends the connection.
 */
export interface LingerLimits {
  /** The whole lingering phase. */
  timeMs: number
  /** Without a byte read from the client. */
  idleMs: number
  /** Bytes read and dropped. */
  maxBytes: number
}

export const LINGER: Readonly<LingerLimits> = Object.freeze({ timeMs: 30_000, idleMs: 5_000, maxBytes: 64 * 1024 * 1024 })

const LINGERING = Symbol('adminjs-resumable.lingering')

type LingeringSocket = Socket & { destroySoon?: () => void; [LINGERING]?: true }

/**
 * Answers with `Connection: close` and, when the request body was not read to its end, closes the
 * connection the way nginx does instead of Node's way.
 *
 * Node ends such a connection as soon as the answer is written: it closes the socket while the
 * client's unread bytes sit in the kernel, and the kernel then sends a reset, which makes the
 * client's kernel drop the answer it had already received. A browser or curl that is still sending
 * sees "connection reset" instead of its 401 or 413 (Resumable.js then retries silently). Here the
 * answer is sent, our side of the connection is half-closed (FIN), and what the client goes on
 * sending is read and dropped until it closes its side or a bound in `limits` is reached.
 *
 * Call it before the answer is sent. It replaces `destroySoon` on this one socket: that is what
 * Node's HTTP server calls once a `Connection: close` answer is finished.
 */
export function closeAfterAnswer(req: IncomingMessage, res: ServerResponse, limits: Partial<LingerLimits> = {}): void {
  if (!res.headersSent) res.setHeader('Connection', 'close')
  if (req.complete) return
  const socket = req.socket as LingeringSocket | null
  if (!socket || socket.destroyed || socket[LINGERING]) return
  socket[LINGERING] = true
  const bounds = { ...LINGER, ...limits }
  socket.destroySoon = () => linger(socket, bounds)
}

function linger(socket: LingeringSocket, limits: LingerLimits): void {
  if (socket.destroyed) return
  let seen = 0
  const reset = (): void => {
    socket.destroy()
  }
  const total = setTimeout(reset, limits.timeMs)
  const idle = setTimeout(reset, limits.idleMs)
  // Resetting at the byte bound would lose the answer: on a fast link the bound is reached within
  // milliseconds, before a busy client has read the answer from its receive buffer, and a reset
  // makes its kernel drop that buffer. Not reading instead fills the client's send window.
  const discard = (piece: Buffer): void => {
    seen += piece.length
    if (seen >= limits.maxBytes) socket.pause()
    else idle.refresh()
  }
  // Adding a 'data' listener makes Node's HTTP server hand the socket's bytes to JavaScript instead
  // of straight to its parser; removing the server's own listener then keeps the rest of the body
  // (or whatever follows it) from being parsed as another request on a connection that is ending.
  socket.on('data', discard)
  for (const listener of socket.listeners('data')) {
    if (listener !== discard) socket.removeListener('data', listener as (...args: unknown[]) => void)
  }
  socket.once('close', () => {
    clearTimeout(total)
    clearTimeout(idle)
  })
  socket.on('error', () => undefined)
  socket.end()
  // The parser read from the handle itself and had stopped (the body was left unread); the stream
  // still believes a read is pending, so resume() alone would not restart it. `_read` starts
  // reading on the handle unless it already is.
  socket.resume()
  ;(socket as unknown as { _read(size: number): void })._read(0)
}
