import React from 'react'
import { Box, Link, Text, ValueGroup } from '@adminjs/design-system'
import { useTranslation, type ShowPropertyProps } from 'adminjs'

import { readCustom } from '../src/shared/custom.js'
import { formatSize } from './format.js'
import { useResumableTranslation } from './i18n.js'
import { storedFiles } from './stored-files.js'

/** Show page of a `multiple` property: every file in order, with its size and a download link. */
const ResumableShowMany: React.FC<ShowPropertyProps> = ({ property, record, resource }) => {
  const { translateProperty } = useTranslation()
  const resourceId = resource?.id ?? property.resourceId
  const { tm } = useResumableTranslation(resourceId)
  const files = storedFiles(readCustom(property.custom), record?.params, resourceId, property.path, record?.id)
  return (
    <ValueGroup label={translateProperty(property.label, property.resourceId)}>
      {files.length ? (
        <Box as="ol" data-testid="resumable-show-list" style={{ paddingLeft: 20, margin: 0 }}>
          {files.map((file) => (
            <li key={file.key} data-testid="resumable-show-item">
              {file.url ? (
                <Link data-testid="resumable-show-link" href={file.url} target="_blank" rel="noopener noreferrer">{file.name}</Link>
              ) : <Text as="span">{file.name}</Text>}
              <Text as="span" color="grey60" fontSize="sm">
                {[
                  file.size !== undefined ? ` · ${formatSize(file.size)}` : '',
                  file.mimeType ? ` · ${file.mimeType}` : '',
                  file.relativePath ? ` · ${tm('resumable.folder', 'from')} ${file.relativePath}` : '',
                ].join('')}
              </Text>
            </li>
          ))}
        </Box>
      ) : <Text as="span" data-testid="resumable-show-empty">—</Text>}
    </ValueGroup>
  )
}

export default ResumableShowMany
