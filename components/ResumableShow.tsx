import React from 'react'
import { Box, Link, Text, ValueGroup } from '@adminjs/design-system'
import { useTranslation, type ShowPropertyProps } from 'adminjs'

import { readCustom } from '../src/shared/custom.js'
import { storedFile } from './custom.js'
import FilePreview from './FilePreview.js'
import { useFileStatus } from './file-status.js'
import MissingFile from './MissingFile.js'
import { formatSize } from './format.js'
import { useResumableTranslation } from './i18n.js'

/** Show page: name, size, type, a preview where the type allows one, a download link; or a dash. */
const ResumableShow: React.FC<ShowPropertyProps> = ({ property, record, resource }) => {
  const { translateProperty } = useTranslation()
  const resourceId = resource?.id ?? property.resourceId
  const { tm, tb } = useResumableTranslation(resourceId)
  const custom = readCustom(property.custom)
  const file = storedFile(custom, record?.params, resourceId, property.path, record?.id)
  const label = translateProperty(property.label, property.resourceId)
  const status = useFileStatus(file?.url)

  return (
    <ValueGroup label={label}>
      {file && status === 'missing' ? <MissingFile name={file.name} size="show" tm={tm} /> : null}
      {file && status !== 'missing' ? (
        <Box data-testid="resumable-show">
          {file.url ? (
            <Link data-testid="resumable-show-link" href={file.url} target="_blank" rel="noopener noreferrer">
              {file.name}
            </Link>
          ) : (
            <Text as="span">{file.name}</Text>
          )}
          <Text color="grey80" fontSize="sm" mt="sm">
            {[
              file.size !== undefined ? `${tm('resumable.size', 'Size')}: ${formatSize(file.size)}` : null,
              file.mimeType ? `${tm('resumable.type', 'Type')}: ${file.mimeType}` : null,
            ].filter(Boolean).join(' · ')}
          </Text>
          <FilePreview file={file} size="show" tm={tm} />
          {file.url ? (
            <Box mt="sm">
              <Link href={file.url} download={file.name} data-testid="resumable-show-download">
                {tb('resumable.download', 'Download')}
              </Link>
            </Box>
          ) : null}
        </Box>
      ) : null}
      {!file ? (
        <Text as="span" data-testid="resumable-show-empty">{tm('resumable.noFile', 'No file')}</Text>
      ) : null}
    </ValueGroup>
  )
}

export default ResumableShow
