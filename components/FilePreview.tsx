import React from 'react'
import { Box, Link, Text } from '@adminjs/design-system'

import { INLINE_PARAM, THUMB_PARAM, previewKind } from '../src/shared/preview.js'
import type { StoredFile } from './custom.js'
import type { T } from './i18n.js'

/** The download URL that asks for an inline answer (honoured by the route only for safe types). */
export function inlineUrl(url: string): string {
  return `${url}${url.includes('?') ? '&' : '?'}${INLINE_PARAM}=1`
}

/** The small derivative the route keeps for an image (src/preview/thumbnail.ts). */
export function thumbUrl(url: string): string {
  return `${url}${url.includes('?') ? '&' : '?'}${THUMB_PARAM}=1`
}

export interface FilePreviewProps {
  file: StoredFile
  /** `list`: a small thumbnail for images, nothing for other types. */
  size: 'show' | 'list'
  tm: T
}

/**
 * The saved file shown in place, through the staff-only download route: images as `<img>`, video
 * and audio in the browser's player (it seeks with Range requests), PDFs as a link that opens in
 * the browser's viewer. Other types get nothing here: they are only downloaded.
 */
const FilePreview: React.FC<FilePreviewProps> = ({ file, size, tm }) => {
  const kind = previewKind(file.mimeType)
  if (!file.url || !kind) return null
  const src = inlineUrl(file.url)
  const label = tm('resumable.preview', 'Preview of {{name}}', { name: file.name })
  if (size === 'list') {
    if (kind !== 'image') return null
    // The name next to it says what it is: decorative for screen readers.
    return (
      <img
        data-testid="resumable-list-preview"
        src={thumbUrl(file.url)}
        alt=""
        loading="lazy"
        width={32}
        height={32}
        style={{ height: 32, width: 32, objectFit: 'cover', borderRadius: 2, verticalAlign: 'middle', marginRight: 8 }}
      />
    )
  }
  return (
    <Box mt="default" data-testid="resumable-preview" data-kind={kind}>
      {kind === 'image' ? (
        <img src={src} alt={label} style={{ maxWidth: '100%', maxHeight: 480, display: 'block' }} />
      ) : null}
      {kind === 'video' ? (
        <video src={src} controls preload="metadata" aria-label={label} style={{ maxWidth: '100%', maxHeight: 480, display: 'block' }}>
          <Text>{tm('resumable.cannotPlay', 'This browser cannot play the file: download it instead.')}</Text>
        </video>
      ) : null}
      {kind === 'audio' ? (
        <audio src={src} controls preload="metadata" aria-label={label}>
          <Text>{tm('resumable.cannotPlay', 'This browser cannot play the file: download it instead.')}</Text>
        </audio>
      ) : null}
      {kind === 'pdf' ? (
        <Link href={src} target="_blank" rel="noopener noreferrer" data-testid="resumable-open-inline">
          {tm('resumable.openInBrowser', 'Open in the browser')}
        </Link>
      ) : null}
    </Box>
  )
}

export default FilePreview
