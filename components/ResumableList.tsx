import React from 'react'
import { Link, Text } from '@adminjs/design-system'
import type { ShowPropertyProps } from 'adminjs'

import { readCustom } from '../src/shared/custom.js'
import { storedFile } from './custom.js'
import FilePreview from './FilePreview.js'
import { useFileStatus } from './file-status.js'
import MissingFile from './MissingFile.js'
import { useResumableTranslation } from './i18n.js'

/** List cell: an image's thumbnail and the file name linked to its download, or a dash. */
const ResumableList: React.FC<ShowPropertyProps> = ({ property, record, resource }) => {
  const custom = readCustom(property.custom)
  const resourceId = resource?.id ?? property.resourceId
  const { tm } = useResumableTranslation(resourceId)
  const file = storedFile(custom, record?.params, resourceId, property.path, record?.id)
  const status = useFileStatus(file?.url)
  if (!file) {
    return (
      <Text as="span" data-testid="resumable-list-empty" title={tm('resumable.noFile', 'No file')}>
        <span aria-hidden="true">—</span>
        <span style={VISUALLY_HIDDEN}>{tm('resumable.noFile', 'No file')}</span>
      </Text>
    )
  }
  if (status === 'missing') return <MissingFile name={file.name} size="list" tm={tm} />
  if (!file.url) return <Text as="span" data-testid="resumable-list-name">{file.name}</Text>
  return (
    <>
      <FilePreview file={file} size="list" tm={tm} />
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
    </>
  )
}

/** Read by screen readers, not shown. */
const VISUALLY_HIDDEN: React.CSSProperties = {
  position: 'absolute', width: 1, height: 1, padding: 0, margin: -1, overflow: 'hidden', clip: 'rect(0 0 0 0)', whiteSpace: 'nowrap', border: 0,
}

export default ResumableList
