import type { Response } from 'express'
import { ResumableError } from '../errors.js'

/** The one place where errors become HTTP answers: JSON, never a redirect, never a 200. */
export function sendError(res: Response, error: unknown): void {
  if (res.headersSent) {
    res.destroy()
    return
  }
  if (error instanceof ResumableError) {
    if (error.retryAfter) res.setHeader('Retry-After', String(error.retryAfter))
    res.status(error.status).json(error.toJSON())
    return
  }
  console.error('adminjs-resumable: unexpected error', error)
  res.status(500).json({ status: 'error', code: 'internal', message: 'The server failed to handle this request.' })
}
