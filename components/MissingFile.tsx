import React from 'react'
import { Box, Text } from '@adminjs/design-system'

import type { T } from './i18n.js'

export interface MissingFileProps {
  name: string
  /** `list`: one short line for a table cell; `show`: with the reason. */
  size: 'list' | 'show'
  tm: T
}

/** A record's file the storage does not hold: said in words instead of a broken image or link. */
const MissingFile: React.FC<MissingFileProps> = ({ name, size, tm }) => (
  <Box as="span" data-testid="resumable-missing" style={{ display: size === 'list' ? 'inline' : 'block' }}>
    <Text as="span" color="grey100" style={{ wordBreak: 'break-all' }}>{name}</Text>
    <Text as="span" color="error" fontSize="sm">{` · ${tm('resumable.fileMissing', 'File not found in storage')}`}</Text>
    {size === 'show' ? (
      <Text color="grey80" fontSize="sm" mt="sm">
        {tm('resumable.fileMissingDetail', 'The record names this file, but the storage does not hold it: it was removed, or the storage was switched without moving the files.')}
      </Text>
    ) : null}
  </Box>
)

export default MissingFile
