import React from 'react'
import { Box, Link, Text, ValueGroup } from '@adminjs/design-system'
import { useTranslation, type ShowPropertyProps } from 'adminjs'

import { readCustom } from '../src/shared/custom.js'
import { previewKind } from '../src/shared/preview.js'
import { useFileStatus } from './file-status.js'
import { inlineUrl, thumbUrl } from './FilePreview.js'
import { formatSize } from './format.js'
import { useResumableTranslation, type T } from './i18n.js'
import MissingFile from './MissingFile.js'
import { storedFiles, type StoredListFile } from './stored-files.js'
import Thumbnail from './Thumbnail.js'

const TILE = 160

/** One file of the grid: an image opens its staff-only preview; every file has its download. */
const Tile: React.FC<{ file: StoredListFile; tm: T }> = ({ file, tm }) => {
  const status = useFileStatus(file.url)
  const image = file.url && previewKind(file.mimeType) === 'image'
  const details = [
    file.size !== undefined ? formatSize(file.size) : '',
    file.mimeType ?? '',
    file.relativePath ? `${tm('resumable.folder', 'from')} ${file.relativePath}` : '',
  ].filter(Boolean).join(' · ')
  return (
    <li data-testid="resumable-show-item" data-status={status} style={{ listStyle: 'none', width: TILE }}>
      {status === 'missing' ? <MissingFile name={file.name} size="list" tm={tm} /> : (
        <>
          {image ? (
            <Link href={inlineUrl(file.url!)} target="_blank" rel="noopener noreferrer" data-testid="resumable-show-open"
              style={{ display: 'block' }}>
              <Thumbnail src={thumbUrl(file.url!)} checkUrl={file.url} size={TILE} tm={tm} testId="resumable-show-thumb"
                alt={tm('resumable.preview', 'Preview of {{name}}', { name: file.name })} />
            </Link>
          ) : null}
          {file.url ? (
            <Link data-testid="resumable-show-link" href={file.url} target="_blank" rel="noopener noreferrer" style={{ wordBreak: 'break-all' }}>
              {file.name}
            </Link>
          ) : <Text as="span">{file.name}</Text>}
        </>
      )}
      {details ? <Text color="grey80" fontSize="sm">{details}</Text> : null}
    </li>
  )
}

/** Show page of a `multiple` property: every file in order as a grid of tiles. */
const ResumableShowMany: React.FC<ShowPropertyProps> = ({ property, record, resource }) => {
  const { translateProperty } = useTranslation()
  const resourceId = resource?.id ?? property.resourceId
  const { tm } = useResumableTranslation(resourceId)
  const files = storedFiles(readCustom(property.custom), record?.params, resourceId, property.path, record?.id)
  return (
    <ValueGroup label={translateProperty(property.label, property.resourceId)}>
      {files.length ? (
        <Box as="ol" data-testid="resumable-show-list" flex flexDirection="row"
          style={{ padding: 0, margin: 0, gap: 16, flexWrap: 'wrap' }}>
          {files.map((file) => <Tile key={file.key} file={file} tm={tm} />)}
        </Box>
      ) : <Text as="span" data-testid="resumable-show-empty">—</Text>}
    </ValueGroup>
  )
}

export default ResumableShowMany
