import type AdminJS from 'adminjs'
import type { Request, Response } from 'express'
import { stagedUploads } from '../upload/receive.js'
import { sendError } from './respond.js'
import { assertCanUpload, assertXhr, resolveTarget } from './target.js'

/** One unfinished upload as the edit component lists it for recovery. */
export interface UnfinishedUpload {
  reference: string
  filename: string
  size: number
  type: string
  receivedBytes: number
  /** Whole percent of the bytes held; 100 only once the file is complete. */
  percent: number
  /** Every chunk is in: Save can take it (the file is only picked again to get its reference). */
  complete: boolean
  createdAt: string
  updatedAt: string
}

/**
 * GET `<resource>/<property>/uploads`: the caller's unfinished uploads of this property (in progress,
 * or finished and not saved yet), newest first, from the staging store: the server is the truth
 * after a closed tab or a crashed browser. Never another admin's.
 */
export function listUploads(admin: AdminJS) {
  return async (req: Request, res: Response) => {
    try {
      const target = resolveTarget(admin, req)
      assertXhr(req)
      assertCanUpload(target)
      await target.feature.ready
      const uploads: UnfinishedUpload[] = (await stagedUploads(target))
        .map(({ manifest, receivedBytes, complete, updatedAt }) => ({
          reference: manifest.id,
          filename: manifest.filename,
          size: manifest.totalSize,
          type: manifest.type,
          receivedBytes,
          percent: complete ? 100 : Math.min(99, Math.floor((receivedBytes / manifest.totalSize) * 100)),
          complete,
          createdAt: manifest.createdAt,
          updatedAt,
        }))
        .sort((a, b) => b.updatedAt.localeCompare(a.updatedAt))
      res.setHeader('Cache-Control', 'private, no-store')
      res.status(200).json({ status: 'ok', uploads })
    } catch (error) {
      sendError(res, error)
    }
  }
}
