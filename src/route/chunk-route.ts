import type AdminJS from 'adminjs'
import type { Request, Response } from 'express'
import { mergeParams, parseChunkRequest, type RawParams } from '../protocol/chunk-request.js'
import { PARAM } from '../shared/chunk-params.js'
import { closeAfterAnswer, LINGER } from '../guard/linger.js'
import { assertThroughApp, directChunkStatus } from '../upload/direct.js'
import { cancelUpload, chunkStatus, receiveChunk } from '../upload/receive.js'
import { readChunkBody } from './chunk-body.js'
import { sendError } from './respond.js'
import { assertCanUpload, assertXhr, resolveTarget, type Target } from './target.js'

/**
 * The chunk route's handlers, one per verb, each only HTTP: who asks (target.ts), the request's
 * parameters and body in, the upload lifecycle's answer (src/upload) out as JSON.
 */

/** Headroom for multipart boundaries and the Resumable.js fields around a chunk's bytes. */
const ENVELOPE = 64 * 1024

function query(req: Request): RawParams {
  return req.query as RawParams
}

async function prepare(admin: AdminJS, req: Request): Promise<Target> {
  const target = resolveTarget(admin, req)
  assertXhr(req)
  assertCanUpload(target)
  await target.feature.ready
  return target
}

/** GET: Resumable.js asks whether the server already holds a chunk (200) or wants it (204). */
export function testChunk(admin: AdminJS) {
  return async (req: Request, res: Response) => {
    try {
      const target = await prepare(admin, req)
      const status = await (target.feature.direct ? directChunkStatus : chunkStatus)(target, parseChunkRequest(query(req), target.feature.rules))
      if (!status.held) {
        res.status(204).end()
        return
      }
      const { complete, reference } = status
      res.status(200).json(complete ? { status: 'held', complete, reference } : { status: 'held', complete })
    } catch (error) {
      sendError(res, error)
    }
  }
}

/** POST: one chunk, streamed to its offset; the request that completes the file gets the reference. */
export function uploadChunk(admin: AdminJS) {
  return async (req: Request, res: Response) => {
    let maxBody = 0
    try {
      const target = await prepare(admin, req)
      assertThroughApp(target.feature)
      const { rules } = target.feature
      maxBody = 2 * rules.chunkSize + ENVELOPE
      // Async, so that a bad parameter rejects the promise readChunkBody waits on (it never throws).
      const result = await readChunkBody(req, maxBody, async ({ fields, stream }) =>
        receiveChunk(target, parseChunkRequest(mergeParams(query(req), fields), rules), stream))
      res.status(200).json(result.complete
        ? { status: 'complete', reference: result.reference }
        : { status: 'partial' })
    } catch (error) {
      // The rest of the body is read and dropped after the answer (bounded), so that the browser
      // sees it: a 401 must reach the component as a 401, not as a connection reset that
      // Resumable.js silently retries. Never less than the default bound: a 413 for a
      // Content-Length just over maxBody would otherwise always end in a reset instead of the 413.
      if (!req.complete) closeAfterAnswer(req, res, { maxBytes: Math.max(maxBody, LINGER.maxBytes) })
      sendError(res, error)
    }
  }
}

/** DELETE: cancel an upload of this admin, by its Resumable.js identifier or its reference. */
export function cancelChunks(admin: AdminJS) {
  return async (req: Request, res: Response) => {
    try {
      const target = await prepare(admin, req)
      const params = query(req)
      await cancelUpload(target, { identifier: params[PARAM.identifier], reference: params.reference })
      res.status(200).json({ status: 'cancelled' })
    } catch (error) {
      sendError(res, error)
    }
  }
}
