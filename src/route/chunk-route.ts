import type AdminJS from 'adminjs'
import type { Request, Response } from 'express'
import { Forbidden, InvalidRequest, NotFound, UploadConflict, UploadExpired } from '../errors.js'
import { MAX_IDENTIFIER, mergeParams, parseChunkRequest, PARAM, type ChunkRequest, type RawParams } from '../protocol/params.js'
import { belongsTo, hashText, isUploadId, uploadId } from '../protocol/scope.js'
import { chunkOffset } from '../protocol/arithmetic.js'
import { manifestDifferences } from '../store/manifest.js'
import type { UploadManifest } from '../store/types.js'
import { drainRequest, PRE_AUTH_DRAIN, readChunkBody } from './chunk-body.js'
import { sendError } from './respond.js'
import { assertCanUpload, assertXhr, resolveTarget, type Target } from './target.js'

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

function newManifest(target: Target, chunk: ChunkRequest): UploadManifest {
  return {
    version: 1,
    id: uploadId(target.scope, chunk.identifier),
    owner: target.scope.owner,
    resourceId: target.scope.resourceId,
    propertyPath: target.scope.propertyPath,
    filename: chunk.filename,
    rawFilenameHash: hashText(chunk.rawFilename),
    type: chunk.type,
    totalSize: chunk.layout.totalSize,
    chunkSize: chunk.layout.chunkSize,
    forceChunkSize: chunk.layout.forceChunkSize,
    chunkCount: chunk.chunkCount,
    createdAt: new Date().toISOString(),
  }
}

/** One identifier is one file: a different size, chunking or name under it is refused. */
function assertSameUpload(stored: UploadManifest, wanted: UploadManifest): void {
  const differs = manifestDifferences(stored, wanted)
  if (differs.length) {
    throw new UploadConflict(
      `This upload was started with another ${differs.includes('rawFilenameHash') ? 'file name' : 'size or chunking'}; `
      + 'the same identifier must always describe the same file.',
    )
  }
}

/** GET: Resumable.js asks whether the server already holds a chunk (200) or wants it (204). */
export function testChunk(admin: AdminJS) {
  return async (req: Request, res: Response) => {
    try {
      const target = await prepare(admin, req)
      const chunk = parseChunkRequest(query(req), target.feature.rules)
      const wanted = newManifest(target, chunk)
      const { store } = target.feature
      const held = await store.chunkState(wanted.id, chunk.chunkNumber)
      if (held === 'no-upload') {
        if ((await store.state(wanted.id)) === 'expired') {
          throw new UploadExpired('This upload expired on the server and was removed; start it again.')
        }
        res.status(204).end()
        return
      }
      // The store keeps the manifests of the uploads it works on (the local one checks one inode).
      const stored = await store.get(wanted.id)
      // Removed in between: as good as never started.
      if (!stored) {
        res.status(204).end()
        return
      }
      assertSameUpload(stored, wanted)
      if (held === 'missing') {
        res.status(204).end()
        return
      }
      const complete = await store.finishIfReady(stored)
      res.status(200).json(complete ? { status: 'held', complete, reference: stored.id } : { status: 'held', complete })
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
      const { rules, store } = target.feature
      maxBody = 2 * rules.chunkSize + ENVELOPE
      const result = await readChunkBody(req, maxBody, async ({ fields, stream }) => {
        const chunk = parseChunkRequest(mergeParams(query(req), fields), rules)
        const wanted = newManifest(target, chunk)
        const manifest = await store.open(wanted)
        assertSameUpload(manifest, wanted)
        const written = await store.writeChunk(manifest, {
          chunkNumber: chunk.chunkNumber,
          offset: chunkOffset(chunk.layout, chunk.chunkNumber),
          length: chunk.chunkLength,
          body: stream,
        })
        return { id: manifest.id, ...written }
      })
      res.status(200).json(result.complete
        ? { status: 'complete', reference: result.id }
        : { status: 'partial' })
    } catch (error) {
      if (!req.complete) {
        // Read and drop the rest (bounded) so that the browser sees this answer (a 401 must reach
        // the component as a 401, not as a connection reset that Resumable.js silently retries).
        // Never less than PRE_AUTH_DRAIN: a 413 for a Content-Length just over maxBody would
        // otherwise always end in a reset instead of the 413. No `Connection: close`: Node would
        // close the socket as soon as the answer is written, before the drain could help.
        drainRequest(req, Math.max(maxBody, PRE_AUTH_DRAIN))
      }
      sendError(res, error)
    }
  }
}

/**
 * DELETE: cancel an upload of this admin, by the Resumable.js identifier (which is scoped to the
 * caller, so nobody else's upload can even be named) or by its reference (checked against the owner).
 */
export function cancelUpload(admin: AdminJS) {
  return async (req: Request, res: Response) => {
    try {
      const target = await prepare(admin, req)
      const { store } = target.feature
      const params = query(req)
      const identifier = params[PARAM.identifier]
      const reference = params.reference
      let id: string
      if (typeof identifier === 'string' && identifier && identifier.length <= MAX_IDENTIFIER) {
        id = uploadId(target.scope, identifier)
      } else if (isUploadId(reference)) {
        id = reference
        const manifest = await store.get(id)
        if (manifest && !belongsTo(manifest, target.scope)) throw new Forbidden('This upload belongs to someone else.')
      } else {
        throw new InvalidRequest(`Send ${PARAM.identifier} (or reference) to cancel an upload.`)
      }
      const state = await store.state(id)
      if (state === 'missing') throw new NotFound('There is no such upload in progress.')
      if (state === 'expired') await store.forget(id)
      else await store.remove(id)
      res.status(200).json({ status: 'cancelled' })
    } catch (error) {
      sendError(res, error)
    }
  }
}
