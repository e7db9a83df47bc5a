import React from 'react'
import { Link, Text } from '@adminjs/design-system'
import type { ShowPropertyProps } from 'adminjs'

import { readCustom } from '../src/shared/custom.js'
import { storedFile } from './custom.js'

/** List cell: the file name linked to its download, or a dash. */
const ResumableList: React.FC<ShowPropertyProps> = ({ property, record, resource }) => {
  const custom = readCustom(property.custom)
  const resourceId = resource?.id ?? property.resourceId
  const file = storedFile(custom, record?.params, resourceId, property.path, record?.id)
  if (!file) return <Text as="span" data-testid="resumable-list-empty">—</Text>
  if (!file.url) return <Text as="span" data-testid="resumable-list-name">{file.name}</Text>
  return (
    <Link
      data-testid="resumable-list-link"
      href={file.url}
      target="_blank"
      rel="noopener noreferrer"
      title={file.name}
      // A click on the link must not also open the record (the row has its own click handler).
      onClick={(event: React.MouseEvent) => event.stopPropagation()}
    >
      {file.name}
    </Link>
  )
}

export default ResumableList
