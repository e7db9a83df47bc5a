import React from 'react'
import { Box, Button, Text } from '@adminjs/design-system'

import { formatSize } from './format.js'
import { useObjectUrl } from './object-url.js'
import Thumbnail from './Thumbnail.js'
import type { T } from './i18n.js'
import type { ListEntry } from './upload-list-state.js'
import { errorDetail, errorMessage, heldPercent, heldText, statusText } from './upload-messages.js'
import ProgressBar from './ProgressBar.js'
import { canRetry, isActive } from './upload-state.js'

export interface UploadListItemProps {
  entry: ListEntry
  onPause(id: string): void
  onResume(id: string): void
  onRetry(id: string): void
  onRemove(id: string): void
  /** The picked file (its row shows an image's thumbnail). */
  file?: File | null
  /** Bytes of one chunk, for what a reload keeps. */
  chunkSize?: number
  /** Reordering buttons, when the list has more than one file. */
  order?: React.ReactNode
  tm: T
  tb: T
}

/** One file of a `multiple` upload: name, its own bar and status, and its own buttons. */
const UploadListItem: React.FC<UploadListItemProps> = ({ entry, onPause, onResume, onRetry, onRemove, file, order, chunkSize, tm, tb }) => {
  const preview = useObjectUrl(file)
  const { state, id } = entry
  const { phase, progress, error } = state
  const name = state.file?.name ?? ''
  const percent = Math.max(0, Math.min(100, Math.round(progress.percent)))
  const ended = !isActive(phase) && phase !== 'complete'
  const retryable = canRetry(error)
  return (
    <Box data-testid="resumable-item" data-state={phase} data-name={name}>
      <Box flex flexDirection="row" justifyContent="space-between" alignItems="center" mb="sm" style={{ gap: 8, flexWrap: 'wrap' }}>
        <Box flex flexDirection="row" alignItems="center" style={{ gap: 8 }}>
          {preview ? <Thumbnail src={preview} alt="" size={48} tm={tm} testId="resumable-item-thumb" /> : null}
          {/* Explicit colours: a refused Save colours the whole form group red, and a good row must not look failed. */}
          <Text as="span" fontWeight="bold" color="grey100" style={{ wordBreak: 'break-all' }}>
            {entry.relativePath ?? name}
          </Text>
        </Box>
        <Text as="span" color="grey80">
          {`${formatSize(progress.bytes)} / ${formatSize(state.file?.size ?? 0)} · ${tm('resumable.percent', '{{percent}}%', { percent })} · ${statusText(phase, tm)}`}
        </Text>
      </Box>
      <ProgressBar
        percent={percent}
        heldPercent={heldPercent(state, state.file?.size ?? 0)}
        paused={phase === 'paused'}
        failed={ended}
        label={name}
      />
      {isActive(phase) && phase !== 'finishing' && chunkSize ? (
        <Text color="grey80" fontSize="sm" mt="sm" data-testid="resumable-held">{heldText(state, chunkSize, tm)}</Text>
      ) : null}
      {error ? (
        <Box data-testid="resumable-item-error" data-kind={error.kind} mt="sm">
          <Text color="error" fontSize="sm">{errorMessage(error, tm)}</Text>
          {errorDetail(error, tm) ? <Text color="grey80" fontSize="sm" data-testid="resumable-item-detail">{errorDetail(error, tm)}</Text> : null}
          {ended ? (
            <Text color="grey80" fontSize="sm">
              {retryable
                ? tm('resumable.rowFailedRetry', 'Retry it, or remove it from the list before you save.')
                : tm('resumable.rowFailedRemove', 'Remove it from the list before you save.')}
            </Text>
          ) : null}
        </Box>
      ) : null}
      <Box flex flexDirection="row" mt="sm" style={{ gap: 8 }}>
        {phase === 'uploading' ? (
          <Button type="button" size="sm" variant="outlined" data-testid="resumable-item-pause" onClick={() => onPause(id)}>
            {tb('resumable.pause', 'Pause')}
          </Button>
        ) : null}
        {phase === 'paused' ? (
          <Button type="button" size="sm" variant="contained" data-testid="resumable-item-resume" onClick={() => onResume(id)}>
            {tb('resumable.resume', 'Resume')}
          </Button>
        ) : null}
        {ended && retryable ? (
          <Button type="button" size="sm" variant="outlined" data-testid="resumable-item-retry" onClick={() => onRetry(id)}>
            {tb('resumable.retry', 'Retry')}
          </Button>
        ) : null}
        <Button type="button" size="sm" variant="text" data-testid="resumable-item-remove" onClick={() => onRemove(id)}>
          {isActive(phase) ? tb('resumable.cancel', 'Cancel') : tb('resumable.clear', 'Remove')}
        </Button>
        {order}
      </Box>
    </Box>
  )
}

export default UploadListItem
