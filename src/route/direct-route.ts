import type AdminJS from 'adminjs'
import type { Request, Response } from 'express'
import { parseChunkRequest, type RawParams } from '../protocol/chunk-request.js'
import { parsePartsReport, parseSignRequest } from '../protocol/direct-request.js'
import { closeAfterAnswer } from '../guard/linger.js'
import { DIRECT_BODY_MAX_BYTES } from '../shared/direct-protocol.js'
import { reportParts, requireDirect, signParts } from '../upload/direct.js'
import { readJsonBody } from './json-body.js'
import { sendError } from './respond.js'
import { assertCanUpload, assertXhr, resolveTarget } from './target.js'

/**
 * The direct upload requests (src/shared/direct-protocol.ts), only HTTP: who asks, chunk 1's
 * Resumable.js parameters from the query and the JSON body in, the lifecycle's answer
 * (src/upload/direct.ts) out as JSON.
 */
function handle<T>(admin: AdminJS, work: (target: ReturnType<typeof resolveTarget>, params: RawParams, body: unknown) => Promise<T>) {
  return async (req: Request, res: Response) => {
    try {
      const target = resolveTarget(admin, req)
      assertXhr(req)
      assertCanUpload(target)
      requireDirect(target.feature)
      await target.feature.ready
      const body = await readJsonBody(req, DIRECT_BODY_MAX_BYTES)
      res.status(200).json(await work(target, req.query as RawParams, body))
    } catch (error) {
      if (!req.complete) closeAfterAnswer(req, res)
      sendError(res, error)
    }
  }
}

/** POST direct/sign: a URL per part asked, after the access check, ownership, limits and `onUploadStart`. */
export function signDirectParts(admin: AdminJS) {
  return handle(admin, async (target, params, body) => {
    const chunk = parseChunkRequest(params, target.feature.rules)
    return signParts(target, chunk, parseSignRequest(body, chunk.chunkCount))
  })
}

/** POST direct/parts: the ETags the bucket gave the browser; the report that makes the file whole completes it. */
export function reportDirectParts(admin: AdminJS) {
  return handle(admin, async (target, params, body) => {
    const chunk = parseChunkRequest(params, target.feature.rules)
    return reportParts(target, chunk, parsePartsReport(body, chunk.chunkCount))
  })
}
