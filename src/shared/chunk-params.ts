import { chunkCount, chunkLength, type ChunkLayout } from './arithmetic.js'

/** The parameter names Resumable.js 1.1.0 sends with every request (its defaults). */
export const PARAM = {
  chunkNumber: 'resumableChunkNumber',
  chunkSize: 'resumableChunkSize',
  currentChunkSize: 'resumableCurrentChunkSize',
  totalSize: 'resumableTotalSize',
  type: 'resumableType',
  identifier: 'resumableIdentifier',
  filename: 'resumableFilename',
  relativePath: 'resumableRelativePath',
  totalChunks: 'resumableTotalChunks',
} as const

/** The file as Resumable.js describes it in its parameters. */
export interface UploadDescriptor {
  identifier: string
  filename: string
  relativePath?: string
  size: number
  /** The browser's `File.type`, possibly empty. */
  type: string
}

/**
 * The parameters of chunk `n` exactly as Resumable.js sends them, for the requests the edit
 * component makes itself (the DELETE that cancels an upload, the GET that asks for a reference).
 */
export function chunkParams(
  file: UploadDescriptor,
  n: number,
  chunking: Omit<ChunkLayout, 'totalSize'>,
): Record<string, string> {
  const layout: ChunkLayout = { ...chunking, totalSize: file.size }
  return {
    [PARAM.chunkNumber]: String(n),
    [PARAM.chunkSize]: String(layout.chunkSize),
    [PARAM.currentChunkSize]: String(chunkLength(layout, n)),
    [PARAM.totalSize]: String(file.size),
    [PARAM.type]: file.type,
    [PARAM.identifier]: file.identifier,
    [PARAM.filename]: file.filename,
    [PARAM.relativePath]: file.relativePath || file.filename,
    [PARAM.totalChunks]: String(chunkCount(layout)),
  }
}
