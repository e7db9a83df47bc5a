/** How the edit component sets up Resumable.js, and what it derives from Resumable.js's files. */
import ResumableJs from 'resumablejs'

import type { ResumableCustom } from '../src/shared/custom.js'
import type { UploadDescriptor } from '../src/shared/chunk-params.js'
import { withChunkDigests } from './chunk-digest.js'
import { PERMANENT_ERRORS, REQUEST_HEADERS, type ServerAnswer } from './protocol.js'
import type { ResumableConstructor, ResumableFile, ResumableOptions } from './resumable-types.js'

export const RealResumable = ResumableJs as unknown as ResumableConstructor

/** One identifier per (file, content version): picking the same file again resumes its upload. */
export function fileIdentifier(file: File): string {
  return `${file.size}-${file.lastModified}-${file.name}`
}

/** Turns the through-app options into another upload mode's (direct-upload.ts). */
export interface ModeOptions {
  options(base: ResumableOptions): ResumableOptions
}

export function resumableOptions(custom: ResumableCustom, target: string, mode?: ModeOptions | null): ResumableOptions {
  const base: ResumableOptions = {
    target,
    chunkSize: custom.chunkSize,
    forceChunkSize: custom.forceChunkSize,
    simultaneousUploads: custom.simultaneousUploads,
    testChunks: true,
    headers: { ...REQUEST_HEADERS },
    withCredentials: true,
    permanentErrors: PERMANENT_ERRORS,
    maxChunkRetries: 20,
    chunkRetryInterval: 1000,
    maxFiles: 1,
    // The chunk's bytes as the body, its parameters in the URL: the server streams them to the store
    // without searching every byte for a multipart boundary (bench/RESULTS.md). Multipart, plain
    // Resumable.js's default, is still accepted.
    method: 'octet',
    generateUniqueIdentifier: fileIdentifier,
    // Files are checked before addFile(); never let Resumable.js alert().
    maxFilesErrorCallback: () => undefined,
    minFileSizeErrorCallback: () => undefined,
    maxFileSizeErrorCallback: () => undefined,
    fileTypeErrorCallback: () => undefined,
  }
  return mode ? mode.options(base) : withChunkDigests(base)
}

export function descriptorOf(f: ResumableFile): UploadDescriptor {
  return { identifier: f.uniqueIdentifier, filename: f.fileName, relativePath: f.relativePath, size: f.size, type: f.file.type || '' }
}

/** The server's message, or a short plain-text body; undefined leaves the wording to the view. */
export function failureMessage(body: string, answer: ServerAnswer | null): string | undefined {
  if (answer?.message) return answer.message
  const plain = (body || '').trim()
  return plain && plain.length < 300 && !plain.startsWith('<') && !answer ? plain : undefined
}
