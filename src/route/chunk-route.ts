import type AdminJS from 'adminjs'
import type { Request, Response } from 'express'
import { pipeline, type Readable } from 'node:stream'
import { InvalidRequest, NotFound, UploadConflict, UploadExpired } from '../errors.js'
import { MAX_IDENTIFIER, mergeParams, parseChunkRequest, type ChunkRequest, type RawParams } from '../protocol/params.js'
import { PARAM } from '../shared/params.js'
import { limitsTypes } from '../shared/file-type.js'
import { belongsTo, hashText, isUploadId, uploadId } from '../protocol/scope.js'
import { chunkOffset } from '../shared/arithmetic.js'
import { checkedStream } from '../content/checked-stream.js'
import { checkContent } from '../content/sniff.js'
import { manifestDifferences } from '../store/manifest.js'
import type { UploadManifest } from '../store/types.js'
import { closeAfterAnswer, LINGER } from '../guard/linger.js'
import { expectedChunkDigest } from '../integrity/chunk-check.js'
import { readChunkBody } from './chunk-body.js'
import { checkUploadStart, settleCompletion } from './completion.js'
import { sendError } from './respond.js'
import { assertCanUpload, assertXhr, resolveTarget, type Target } from './target.js'

/** Headroom for multipart boundaries and the Resumable.js fields around a chunk's bytes. */
const ENVELOPE = 64 * 1024

const NO_SUCH_UPLOAD = 'There is no such upload in progress.'

/**
 * `onUploadStart` verdicts of the uploads this process is creating: the first chunks of one upload
 * arrive several at once, and the hook is asked once for them all.
 */
const starting = new Map<string, Promise<void>>()

/** Asks `onUploadStart` (once for the first chunks arriving together); the answer ends the creation. */
async function startAllowed(target: Target, manifest: UploadManifest): Promise<() => void> {
  const pending = starting.get(manifest.id)
  if (pending) {
    await pending
    return () => undefined
  }
  const verdict = checkUploadStart(target.feature, target.currentAdmin, manifest)
  starting.set(manifest.id, verdict)
  const forget = () => { if (starting.get(manifest.id) === verdict) starting.delete(manifest.id) }
  try {
    await verdict
  } catch (error) {
    forget()
    throw error
  }
  return forget
}

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
    ...(chunk.relativePath ? { relativePath: chunk.relativePath } : {}),
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

/**
 * Where the allowed types are limited, the first chunk's bytes are checked against them as they pass
 * to the store (see content/sniff.ts). The chunk is marked only once its body has ended, which waits
 * for the check, and the upload completes only when every chunk is marked: so no upload completes
 * before its first chunk was checked, whatever order the chunks arrive in.
 */
function bodyToStore(target: Target, chunk: ChunkRequest, stream: Readable): Readable {
  const { rules } = target.feature
  if (chunk.chunkNumber !== 1 || !limitsTypes(rules.mimeTypes)) return stream
  const checked = checkedStream(async (sample) => {
    await checkContent(sample, chunk.type, chunk.filename, rules)
  })
  pipeline(stream, checked, () => undefined)
  return checked
}

/** GET: Resumable.js asks whether the server already holds a chunk (200) or wants it (204). */
export function testChunk(admin: AdminJS) {
  return async (req: Request, res: Response) => {
    try {
      const target = await prepare(admin, req)
      const chunk = parseChunkRequest(query(req), target.feature.rules)
      const sha256 = expectedChunkDigest(query(req))
      const wanted = newManifest(target, chunk)
      const store = target.feature.storage.staging
      const held = await store.chunkState(wanted.id, chunk.chunkNumber, { sha256 })
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
      if (complete) await settleCompletion(target.feature, target.currentAdmin, stored)
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
      const { rules, storage: { staging: store } } = target.feature
      maxBody = 2 * rules.chunkSize + ENVELOPE
      const result = await readChunkBody(req, maxBody, async ({ fields, stream }) => {
        const params = mergeParams(query(req), fields)
        const chunk = parseChunkRequest(params, rules)
        const sha256 = expectedChunkDigest(params)
        const wanted = newManifest(target, chunk)
        const stored = await store.find(wanted)
        let created = () => undefined as void
        if (stored) assertSameUpload(stored, wanted)
        else if (target.feature.options.onUploadStart) created = await startAllowed(target, wanted)
        let written
        try {
          written = await store.writeChunk(stored ?? wanted, {
            chunkNumber: chunk.chunkNumber,
            offset: chunkOffset(chunk.layout, chunk.chunkNumber),
            length: chunk.chunkLength,
            body: bodyToStore(target, chunk, stream),
            ...(sha256 ? { sha256 } : {}),
            sink: target.feature.hashes?.sink(store, stored ?? wanted, chunk.chunkNumber),
          }, stored ? {} : { create: target.feature.limits })
        } finally {
          created()
        }
        const manifest = stored ?? (await store.get(wanted.id)) ?? wanted
        // Told before the completion: a chunk replaced behind the hashed prefix makes it start over.
        if (written.written) target.feature.hashes?.advance(store, manifest, chunk.chunkNumber)
        if (written.complete) await settleCompletion(target.feature, target.currentAdmin, manifest)
        return { id: wanted.id, ...written }
      })
      res.status(200).json(result.complete
        ? { status: 'complete', reference: result.id }
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

/**
 * DELETE: cancel an upload of this admin, by the Resumable.js identifier (which is scoped to the
 * caller, so nobody else's upload can even be named) or by its reference (checked against the owner:
 * another admin's reference answers 404, like one that names no upload).
 */
export function cancelUpload(admin: AdminJS) {
  return async (req: Request, res: Response) => {
    try {
      const target = await prepare(admin, req)
      const store = target.feature.storage.staging
      const params = query(req)
      const identifier = params[PARAM.identifier]
      const reference = params.reference
      let id: string
      if (typeof identifier === 'string' && identifier && identifier.length <= MAX_IDENTIFIER) {
        id = uploadId(target.scope, identifier)
      } else if (isUploadId(reference)) {
        id = reference
        const manifest = await store.get(id)
        // Someone else's upload is reported exactly like a missing one (as Save does): a reference
        // never reveals that an upload exists.
        if (manifest && !belongsTo(manifest, target.scope)) throw new NotFound(NO_SUCH_UPLOAD)
      } else {
        throw new InvalidRequest(`Send ${PARAM.identifier} (or reference) to cancel an upload.`)
      }
      const state = await store.state(id)
      if (state === 'missing') throw new NotFound(NO_SUCH_UPLOAD)
      if (state === 'expired') await store.clearExpired(id)
      else await store.remove(id)
      res.status(200).json({ status: 'cancelled' })
    } catch (error) {
      sendError(res, error)
    }
  }
}
