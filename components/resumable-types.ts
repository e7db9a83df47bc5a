/**
 * Types for the parts of Resumable.js 1.1.0 (npm `resumablejs`) that the components use. The
 * package ships a declaration (`declare module 'resumablejs'`) that lacks several options and
 * methods used here (permanentErrors, withCredentials, file.pause, uploadNextChunk, chunk
 * internals ...) and cannot be augmented, so the default export is cast to these types.
 */
export interface ResumableOptions {
  target?: string | ((params: string[]) => string)
  testTarget?: string | null
  chunkSize?: number
  forceChunkSize?: boolean
  simultaneousUploads?: number
  fileParameterName?: string
  query?: Record<string, string | number> | ((file: ResumableFile, chunk: ResumableChunk) => Record<string, string | number>)
  headers?: Record<string, string> | ((file: ResumableFile, chunk: ResumableChunk) => Record<string, string>)
  method?: 'multipart' | 'octet'
  uploadMethod?: string
  testMethod?: string
  testChunks?: boolean
  prioritizeFirstAndLastChunk?: boolean
  generateUniqueIdentifier?: ((file: File, event?: Event) => string | Promise<string>) | null
  maxChunkRetries?: number
  chunkRetryInterval?: number
  permanentErrors?: number[]
  maxFiles?: number
  withCredentials?: boolean
  xhrTimeout?: number
  throttleProgressCallbacks?: number
  minFileSize?: number
  maxFileSize?: number
  fileType?: string[]
  maxFilesErrorCallback?: (files: File[], errorCount: number) => void
  minFileSizeErrorCallback?: (file: File, errorCount: number) => void
  maxFileSizeErrorCallback?: (file: File, errorCount: number) => void
  fileTypeErrorCallback?: (file: File, errorCount: number) => void
}

export interface ResumableChunk {
  fileObj: ResumableFile
  offset: number
  startByte: number
  endByte: number
  retries: number
  pendingRetry: boolean
  /** Bytes of the POST sent so far (0 for a chunk confirmed by its test GET). */
  loaded?: number
  xhr: XMLHttpRequest | null
  status(): 'pending' | 'uploading' | 'success' | 'error'
  message(): string
  progress(relative?: boolean): number
  abort(): void
  send(): void
}

export interface ResumableFile {
  resumableObj: ResumableInstance
  file: File
  fileName: string
  relativePath: string
  size: number
  uniqueIdentifier: string
  chunks: ResumableChunk[]
  progress(): number
  abort(): void
  cancel(): void
  retry(): void
  bootstrap(): void
  isUploading(): boolean
  isComplete(): boolean
  pause(pause?: boolean): void
  isPaused(): boolean
}

export interface ResumableInstance {
  support: boolean
  version: number
  opts: ResumableOptions
  files: ResumableFile[]
  on(event: 'fileAdded', cb: (file: ResumableFile, event?: Event) => void): void
  on(event: 'filesAdded', cb: (files: ResumableFile[], skipped: File[]) => void): void
  on(event: 'fileProgress', cb: (file: ResumableFile, message?: string) => void): void
  on(event: 'fileSuccess', cb: (file: ResumableFile, message: string) => void): void
  on(event: 'fileError', cb: (file: ResumableFile, message: string) => void): void
  on(event: 'fileRetry', cb: (file: ResumableFile) => void): void
  on(event: 'chunkingComplete', cb: (file: ResumableFile) => void): void
  on(event: 'complete' | 'progress' | 'pause' | 'cancel' | 'beforeCancel' | 'uploadStart', cb: () => void): void
  addFile(file: File, event?: Event): void
  addFiles(files: File[] | FileList, event?: Event): void
  removeFile(file: ResumableFile): void
  getFromUniqueIdentifier(id: string): ResumableFile | false
  upload(): void
  uploadNextChunk(): boolean
  pause(): void
  cancel(): void
  progress(): number
  isUploading(): boolean
  getSize(): number
}

export type ResumableConstructor = new (opts?: ResumableOptions) => ResumableInstance
