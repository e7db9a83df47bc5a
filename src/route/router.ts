import type AdminJS from 'adminjs'
import express, { type Router } from 'express'
import { MethodNotAllowed, NotFound } from '../errors.js'
import { assertFeatureColumns } from '../upload/check-columns.js'
import { closeAfterAnswer } from '../guard/linger.js'
import { cancelChunks, testChunk, uploadChunk } from './chunk-route.js'
import { DIRECT_PATH } from '../shared/direct-protocol.js'
import { reportDirectParts, signDirectParts } from './direct-route.js'
import { downloadFile } from './download.js'
import { sendError } from './respond.js'
import { listUploads } from './uploads-list.js'

/**
 * The chunk and download routes, relative to `<rootPath>/api/resumable`. Needs `req.session` from
 * the AdminJS session middleware; `buildAuthenticatedRouter` mounts it that way. Throws a
 * ConfigurationError when a feature names a column its resource does not have.
 */
export function createResumableRouter(admin: AdminJS): Router {
  assertFeatureColumns(admin)
  const router = express.Router()
  // Only a chunk POST reads its body: any other request that carries one is answered without
  // reading it, and its connection closed after the answer instead of draining it for keep-alive.
  router.use((req, res, next) => {
    if (req.method !== 'POST' && !req.complete) closeAfterAnswer(req, res)
    next()
  })
  router.get('/:resourceId/:propertyPath/uploads', listUploads(admin))
  router.get('/:resourceId/:propertyPath/download/:recordId', downloadFile(admin))
  router.head('/:resourceId/:propertyPath/download/:recordId', downloadFile(admin))
  // With `multiple`: the file at this place in the record's list.
  router.get('/:resourceId/:propertyPath/download/:recordId/:index', downloadFile(admin))
  router.head('/:resourceId/:propertyPath/download/:recordId/:index', downloadFile(admin))
  // Direct uploads (storage.s3.upload: 'direct'): the browser PUTs chunks to the bucket; these sign and record.
  router.post(`/:resourceId/:propertyPath/${DIRECT_PATH.sign}`, signDirectParts(admin))
  router.post(`/:resourceId/:propertyPath/${DIRECT_PATH.parts}`, reportDirectParts(admin))
  for (const path of Object.values(DIRECT_PATH)) {
    router.all(`/:resourceId/:propertyPath/${path}`, (req, res) => {
      if (!req.complete) closeAfterAnswer(req, res)
      res.setHeader('Allow', 'POST')
      sendError(res, new MethodNotAllowed(`${req.method} is not supported here: direct requests are POSTs.`))
    })
  }
  router.get('/:resourceId/:propertyPath', testChunk(admin))
  router.post('/:resourceId/:propertyPath', uploadChunk(admin))
  router.delete('/:resourceId/:propertyPath', cancelChunks(admin))
  router.all('/:resourceId/:propertyPath', (req, res) => {
    if (!req.complete) closeAfterAnswer(req, res)
    res.setHeader('Allow', 'GET, POST, DELETE')
    sendError(res, new MethodNotAllowed(`${req.method} is not supported on the chunk route.`))
  })
  // Path-less on purpose: route patterns for "anything" differ between Express 4 ('*') and 5
  // ('/{*rest}'), and a pattern one major does not understand matches nothing there. The body guard
  // skips this prefix, so a request no route here answers would fall through to express-formidable.
  router.use((req, res) => {
    if (!req.complete) closeAfterAnswer(req, res)
    sendError(res, new NotFound('No such resumable upload route.'))
  })
  return router
}
