import type AdminJS from 'adminjs'
import express, { type Request, type Response, type Router } from 'express'
import { MethodNotAllowed, NotFound, type ResumableError } from '../errors.js'
import { drainRequest, PRE_AUTH_DRAIN } from './chunk-body.js'
import { cancelUpload, testChunk, uploadChunk } from './chunk-route.js'
import { downloadFile } from './download.js'
import { sendError } from './respond.js'

/**
 * The chunk and download routes, relative to `<rootPath>/api/resumable`. Needs `req.session` from
 * the AdminJS session middleware; `buildAuthenticatedRouter` mounts it that way.
 */
export function createResumableRouter(admin: AdminJS): Router {
  const router = express.Router()
  router.get('/:resourceId/:propertyPath/download/:recordId', downloadFile(admin))
  router.head('/:resourceId/:propertyPath/download/:recordId', downloadFile(admin))
  router.get('/:resourceId/:propertyPath', testChunk(admin))
  router.post('/:resourceId/:propertyPath', uploadChunk(admin))
  router.delete('/:resourceId/:propertyPath', cancelUpload(admin))
  router.all('/:resourceId/:propertyPath', (req, res) => {
    res.setHeader('Allow', 'GET, POST, DELETE')
    refuseUnread(req, res, new MethodNotAllowed(`${req.method} is not supported on the chunk route.`))
  })
  // Path-less on purpose: route patterns for "anything" differ between Express 4 ('*') and 5
  // ('/{*rest}'), and a pattern one major does not understand matches nothing there. The body guard
  // skips this prefix, so a request no route here answers would fall through to express-formidable.
  router.use((req, res) => {
    refuseUnread(req, res, new NotFound('No such resumable upload route.'))
  })
  return router
}

/**
 * Answers at once, then reads and drops the rest of the body up to a bound and closes the
 * connection past it. No `Connection: close`: Node would close the socket right after the answer
 * with the body still arriving, and the client, still sending, would mostly see a reset (EPIPE)
 * instead of the answer. A body within the bound leaves the connection usable.
 */
function refuseUnread(req: Request, res: Response, error: ResumableError): void {
  drainRequest(req, PRE_AUTH_DRAIN)
  sendError(res, error)
}
