import React, { useEffect, useState } from 'react'
import { Text } from '@adminjs/design-system'

import { fetchFileStatus, type FileStatus } from './file-status.js'
import type { T } from './i18n.js'

export interface ThumbnailProps {
  /** The image to draw: the route's `?thumb=1` URL, or a blob URL of a picked file. */
  src: string
  /** Download URL to ask when the image does not load (missing from storage or not). */
  checkUrl?: string
  /** Empty when the name is written next to it (decorative for screen readers). */
  alt: string
  size: number
  tm: T
  testId?: string
}

/**
 * A square tile of an image; when it does not load, the route is asked why, and a file missing
 * from the storage says so instead of a broken image.
 */
const Thumbnail: React.FC<ThumbnailProps> = ({ src, checkUrl, alt, size, tm, testId = 'resumable-thumb' }) => {
  const [status, setStatus] = useState<FileStatus | 'loaded' | 'loading'>('loading')
  useEffect(() => { setStatus('loading') }, [src])
  const onError = () => {
    if (!checkUrl) {
      setStatus('unknown')
      return
    }
    void fetchFileStatus(checkUrl).then((s) => setStatus(s === 'present' ? 'unknown' : s))
  }
  if (status === 'missing' && size < 64) {
    // Too small a tile for the words: they go in line instead.
    return <Text as="span" data-testid="resumable-missing" color="error" fontSize="sm">{tm('resumable.fileMissing', 'File not found in storage')}</Text>
  }
  if (status === 'missing') {
    return (
      <Text as="span" data-testid="resumable-missing" color="error" fontSize="sm" title={tm('resumable.fileMissing', 'File not found in storage')}
        style={{ display: 'inline-flex', width: size, height: size, alignItems: 'center', justifyContent: 'center', border: '1px dashed', borderRadius: 2, verticalAlign: 'middle', textAlign: 'center', overflow: 'hidden', lineHeight: 1.1 }}>
        {tm('resumable.fileMissing', 'File not found in storage')}
      </Text>
    )
  }
  if (status === 'unknown') {
    // Not drawable (a picked file that is no image after all, a corrupt one): a plain tile, not a broken image.
    return <span data-testid={testId} data-status="broken" aria-hidden="true"
      style={{ display: 'inline-block', width: size, height: size, borderRadius: 2, background: '#e8e8ee', verticalAlign: 'middle' }} />
  }
  return (
    <img
      data-testid={testId}
      data-status={status}
      src={src}
      alt={alt}
      loading="lazy"
      width={size}
      height={size}
      onLoad={() => setStatus('loaded')}
      onError={onError}
      style={{ width: size, height: size, objectFit: 'cover', borderRadius: 2, verticalAlign: 'middle', background: '#f0f0f0' }}
    />
  )
}

export default Thumbnail
