import React from 'react'
import { Box, Text } from '@adminjs/design-system'
import type { ShowPropertyProps } from 'adminjs'

import { readCustom } from '../src/shared/custom.js'
import { previewKind } from '../src/shared/preview.js'
import { thumbUrl } from './FilePreview.js'
import { useResumableTranslation } from './i18n.js'
import { storedFiles } from './stored-files.js'
import Thumbnail from './Thumbnail.js'

/** Thumbnails a list cell draws at most; the rest are counted ("+2"). */
export const LIST_THUMBNAILS = 3

/** List cell of a `multiple` property: the first images as thumbnails, then how many files in all. */
const ResumableListMany: React.FC<ShowPropertyProps> = ({ property, record, resource }) => {
  const resourceId = resource?.id ?? property.resourceId
  const { tm } = useResumableTranslation(resourceId)
  const files = storedFiles(readCustom(property.custom), record?.params, resourceId, property.path, record?.id)
  if (!files.length) return <Text as="span" data-testid="resumable-list-empty">—</Text>
  const images = files.filter((f) => f.url && previewKind(f.mimeType) === 'image').slice(0, LIST_THUMBNAILS)
  const more = files.length - images.length
  return (
    <Box as="span" flex flexDirection="row" alignItems="center" style={{ gap: 4, display: 'inline-flex' }}
      title={files.map((f) => f.name).join(', ')}>
      {images.map((file) => (
        <Thumbnail key={file.key} src={thumbUrl(file.url!)} checkUrl={file.url} alt="" size={32} tm={tm} testId="resumable-list-thumb" />
      ))}
      {images.length && more > 0 ? <Text as="span" color="grey80" fontSize="sm" data-testid="resumable-list-more">{`+${more}`}</Text> : null}
      <Text as="span" data-testid="resumable-list-count" data-count={String(files.length)} color="grey80" fontSize="sm" ml="sm">
        {files.length === 1
          ? tm('resumable.fileCountOne', '1 file')
          : tm('resumable.fileCount', '{{count}} files', { count: files.length })}
      </Text>
    </Box>
  )
}

export default ResumableListMany
