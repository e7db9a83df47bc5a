import type { BaseRecord, CurrentAdmin } from 'adminjs'
import type { Readable } from 'node:stream'

/** What the upload hooks learn about an upload. */
export interface UploadHookContext {
  /** The admin uploading (AdminJS's `currentAdmin`). */
  admin: CurrentAdmin
  resourceId: string
  /** The file property (`properties.file`). */
  property: string
  /** Sanitised file name. */
  filename: string
  /** Declared total size in bytes. */
  size: number
  /** The declared type (or the one its extension gives). */
  type: string
}

export interface UploadCompleteContext extends UploadHookContext {
  /** The reference Save will receive, if the hook accepts the file. */
  reference: string
  /** SHA-256 of the file (hex), when `properties.checksum` is set. */
  checksum?: string
  /** The whole file, to scan it. */
  read(): Readable
}

/** A hook's answer: nothing to go on, `{ refuse: message }` to refuse (or throw UploadRefused). */
export type UploadStartResult = void | undefined | { refuse?: string }
export type UploadCompleteResult = void | undefined | { refuse?: string; metadata?: Record<string, unknown> }

export type UploadStartHook = (context: UploadHookContext) => UploadStartResult | Promise<UploadStartResult>
export type UploadCompleteHook = (context: UploadCompleteContext) => UploadCompleteResult | Promise<UploadCompleteResult>

export type UploadPathOption = string | ((record: BaseRecord, filename: string) => string)
