/**
 * Small derivatives of saved images for list, show and edit pages: a list of 20 Gallery records
 * must not make the browser fetch and decode 20 × n originals of up to the upload limit. Each
 * thumbnail is made once, on its first request, with `sharp` (an optional dependency), and kept in
 * the file storage's thumbnails' folder (thumbnail-keys.ts), so every process and every later page
 * serves the small file. Without `sharp` installed the original is served instead.
 */
import { Readable } from 'node:stream'
import type { Response } from 'express'
import { InvalidRequest } from '../errors.js'
import type { FinishedUpload } from '../store/staging.js'
import type { UploadManifest } from '../store/types.js'
import type { FilesWithThumbnails } from './thumbnail-storage.js'

/** The longest side, in pixels: twice the largest tile the components draw (160 px), for HiDPI. */
export const THUMBNAIL_SIZE = 320
/** Decoding a bigger image than this is refused (sharp's own guard against decompression bombs). */
const MAX_INPUT_PIXELS = 100_000_000

type Sharp = typeof import('sharp')['default']
let sharpLoaded: Promise<Sharp | null> | null = null

/** sharp when installed, else null (checked once). */
export function loadSharp(): Promise<Sharp | null> {
  sharpLoaded ??= import('sharp').then((m) => m.default).catch(() => null)
  return sharpLoaded
}

function inMemory(bytes: Buffer): FinishedUpload {
  return {
    // Storages read the manifest only for the content type of what they store.
    manifest: { type: 'image/webp' } as UploadManifest,
    size: bytes.length,
    location: { kind: 'memory' },
    read: () => Readable.from([bytes]),
  }
}

/** One thumbnail made at a time per stored key: ten list rows asking together decode the original once. */
const making = new WeakMap<FilesWithThumbnails, Map<string, Promise<Buffer>>>()

async function make(files: FilesWithThumbnails, key: string, sharp: Sharp): Promise<Buffer> {
  let image: Buffer
  try {
    const transformer = sharp({ limitInputPixels: MAX_INPUT_PIXELS })
      .rotate()
      .resize(THUMBNAIL_SIZE, THUMBNAIL_SIZE, { fit: 'inside', withoutEnlargement: true })
      .webp({ quality: 70 })
    const original = files.read(key)
    original.on('error', (error) => transformer.destroy(error))
    original.pipe(transformer)
    image = await transformer.toBuffer()
  } catch (error) {
    throw new InvalidRequest(`No thumbnail can be made of this file: ${(error as Error).message}`)
  }
  // Another process may have stored it first: place never replaces, and either copy is right.
  await files.thumbnails.place(inMemory(image), key).catch((error) => {
    console.error('adminjs-resumable: could not keep a thumbnail', error)
  })
  return image
}

/**
 * Answers with the thumbnail of the image under `key` (of type `contentType`, checked at upload),
 * making and keeping it on first request.
 */
export async function sendThumbnail(files: FilesWithThumbnails, key: string, contentType: string, res: Response): Promise<void> {
  res.setHeader('Cache-Control', 'private, max-age=300')
  res.setHeader('Cross-Origin-Resource-Policy', 'same-origin')
  res.setHeader('X-Content-Type-Options', 'nosniff')
  const sharp = await loadSharp()
  const stat = sharp ? await files.thumbnails.stat(key) : await files.stat(key)
  if (stat) {
    res.setHeader('Content-Type', sharp ? 'image/webp' : contentType)
    res.setHeader('Content-Length', String(stat.size))
    const stream = sharp ? files.thumbnails.read(key) : files.read(key)
    res.on('close', () => stream.destroy())
    stream.pipe(res)
    return
  }
  if (!sharp) throw new InvalidRequest('The original is missing.')
  let jobs = making.get(files)
  if (!jobs) making.set(files, jobs = new Map())
  let job = jobs.get(key)
  if (!job) {
    const started = make(files, key, sharp).finally(() => jobs.delete(key))
    jobs.set(key, job = started)
  }
  const bytes = await job
  res.setHeader('Content-Type', 'image/webp')
  res.setHeader('Content-Length', String(bytes.length))
  res.end(bytes)
}
