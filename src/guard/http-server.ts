import type { IncomingMessage, Server, ServerResponse } from 'node:http'

export interface HttpServerGuardOptions {
  /**
   * A connection that sends and receives nothing for this long is closed. Default 60 s. A chunk
   * upload that keeps making progress is never cut, however slow; one that stalls is.
   */
  idleTimeoutMs?: number
  /** The request head must arrive within this time. Default 60 s (Node's default). */
  headersTimeoutMs?: number
  /** Idle keep-alive connections are closed after this; longer than typical proxies'. Default 65 s. */
  keepAliveTimeoutMs?: number
}

/**
 * Settings for the app's HTTP server that a router cannot make itself:
 *
 * - No total time per request (Node's `requestTimeout`, 300 s by default, would cut a chunk on a
 *   slow link), an idle timeout per connection instead, and a deadline for the request head.
 *   The admin's small bodies have their own deadline in the body guard (`limits.bodyTimeoutMs`).
 * - `Expect: 100-continue`: without a `checkContinue` listener Node answers `100 Continue` before
 *   any route ran, so a client whose request is then refused (no session, too large) starts
 *   sending its body and may lose the answer. With this, `100 Continue` is sent only when a
 *   handler starts reading the body; a request refused without reading gets its final status
 *   alone, and Node closes the connection after it.
 *
 *   const server = app.listen(port)
 *   guardHttpServer(server)
 */
export function guardHttpServer<S extends Server>(server: S, options: HttpServerGuardOptions = {}): S {
  server.requestTimeout = 0
  server.headersTimeout = options.headersTimeoutMs ?? 60_000
  server.timeout = options.idleTimeoutMs ?? 60_000
  server.keepAliveTimeout = options.keepAliveTimeoutMs ?? 65_000
  server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => {
    continueWhenRead(req, res)
    server.emit('request', req, res)
  })
  return server
}

/** Sends `100 Continue` the first time something starts reading the body, if no answer began. */
function continueWhenRead(req: IncomingMessage, res: ServerResponse): void {
  const send = (): void => {
    req.off('newListener', onListener)
    req.off('resume', send)
    if (!res.headersSent && !res.writableEnded && !res.destroyed) res.writeContinue()
  }
  const onListener = (event: string | symbol): void => {
    if (event === 'data' || event === 'readable') send()
  }
  req.on('newListener', onListener)
  req.on('resume', send)
}
