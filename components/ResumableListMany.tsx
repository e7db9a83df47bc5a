import React from 'react'
import { Text } from '@adminjs/design-system'
import type { ShowPropertyProps } from 'adminjs'

import { readCustom } from '../src/shared/custom.js'
import { useResumableTranslation } from './i18n.js'
import { storedFiles } from './stored-files.js'

/** List cell of a `multiple` property: how many files the record holds. */
const ResumableListMany: React.FC<ShowPropertyProps> = ({ property, record, resource }) => {
  const resourceId = resource?.id ?? property.resourceId
  const { tm } = useResumableTranslation(resourceId)
  const files = storedFiles(readCustom(property.custom), record?.params, resourceId, property.path, record?.id)
  if (!files.length) return <Text as="span" data-testid="resumable-list-empty">—</Text>
  return (
    <Text as="span" data-testid="resumable-list-count" data-count={String(files.length)} title={files.map((f) => f.name).join(', ')}>
      {files.length === 1
        ? tm('resumable.fileCountOne', '1 file')
        : tm('resumable.fileCount', '{{count}} files', { count: files.length })}
    </Text>
  )
}

export default ResumableListMany
