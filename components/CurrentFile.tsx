import React from 'react'
import { Box, Button, Link, Text } from '@adminjs/design-system'

import type { StoredFile } from './custom.js'
import { formatSize } from './format.js'
import type { T } from './i18n.js'

export interface CurrentFileProps {
  stored: StoredFile
  /** Marked for removal on Save. */
  cleared: boolean
  /** A new upload is on its way to replace it. */
  replacing: boolean
  /** A required file cannot be removed, only replaced. */
  removable: boolean
  onClear(): void
  onUndo(): void
  tm: T
  tb: T
}

/** The file saved on the record, with Remove / Undo. */
const CurrentFile: React.FC<CurrentFileProps> = ({ stored, cleared, replacing, removable, onClear, onUndo, tm, tb }) => (
  <Box flex flexDirection="row" alignItems="center" mb="default" style={{ gap: 8, flexWrap: 'wrap' }}>
    <Text as="span" color="grey80">{tm('resumable.currentFile', 'Current file:')}</Text>
    {stored.url ? (
      <Link
        data-testid="resumable-current"
        href={stored.url}
        target="_blank"
        rel="noopener noreferrer"
        style={cleared ? { textDecoration: 'line-through' } : undefined}
      >
        {stored.name}
      </Link>
    ) : (
      <Text as="span" data-testid="resumable-current">{stored.name}</Text>
    )}
    {stored.size !== undefined ? <Text as="span" color="grey80">{`(${formatSize(stored.size)})`}</Text> : null}
    {removable && !cleared ? (
      <Button type="button" size="sm" variant="text" data-testid="resumable-clear" onClick={onClear}>
        {tb('resumable.clear', 'Remove')}
      </Button>
    ) : null}
    {replacing && !cleared ? (
      <Text as="span" color="grey80" data-testid="resumable-will-replace">
        {tm('resumable.willBeReplaced', 'It will be replaced by the new file when you press Save.')}
      </Text>
    ) : null}
    {cleared ? (
      <>
        <Text as="span" color="grey80">
          {tm('resumable.willBeRemoved', 'The file will be removed when you press Save.')}
        </Text>
        <Button type="button" size="sm" variant="text" data-testid="resumable-undo" onClick={onUndo}>
          {tb('resumable.undo', 'Undo')}
        </Button>
      </>
    ) : null}
  </Box>
)

// Drawn again only when its props change, not on every progress draw of the field around it.
export default React.memo(CurrentFile)
