import React from 'react'
import { Box, Button, Text } from '@adminjs/design-system'

import { formatDuration, formatSize, formatSpeed } from './format.js'
import ProgressBar from './ProgressBar.js'
import { heldText, heldPercent } from './upload-messages.js'
import type { T } from './i18n.js'
import type { UploadActions } from './use-resumable-upload.js'
import { isActive, type UploadState } from './upload-state.js'

export interface UploadProgressProps {
  state: UploadState
  file: { name: string; size: number }
  actions: Pick<UploadActions, 'pause' | 'resume' | 'cancel'>
  /** Bytes of one chunk: nothing is kept before the first one is whole. */
  chunkSize: number
  /** Opens the file picker. */
  onReplace(): void
  tm: T
  tb: T
}

/** The file being uploaded: name, bytes, bar, speed and its buttons. */
const UploadProgress: React.FC<UploadProgressProps> = ({ state, file, actions, chunkSize, onReplace, tm, tb }) => {
  const { phase, progress } = state
  const ended = !isActive(phase) && phase !== 'complete'
  return (
    <Box mt="default">
      <Box flex flexDirection="row" justifyContent="space-between" mb="sm" style={{ gap: 8, flexWrap: 'wrap' }}>
        <Text as="span" fontWeight="bold" style={{ wordBreak: 'break-all' }}>{file.name}</Text>
        <Text as="span" color="grey80">
          {`${formatSize(progress.bytes)} / ${formatSize(file.size)} · ${tm('resumable.percent', '{{percent}}%', { percent: progress.percent })}`}
        </Text>
      </Box>
      <ProgressBar
        percent={progress.percent}
        heldPercent={heldPercent(state, file.size)}
        paused={phase === 'paused'}
        failed={ended}
        label={tm('resumable.progressLabel', 'Upload of {{name}}', { name: file.name })}
        valueText={tm('resumable.progressValue', '{{percent}}% ({{done}} of {{total}})', {
          percent: progress.percent, done: formatSize(progress.bytes), total: formatSize(file.size),
        })}
      />
      {isActive(phase) && phase !== 'finishing' ? (
        <Text color="grey80" fontSize="sm" mt="sm" data-testid="resumable-held">{heldText(state, chunkSize, tm)}</Text>
      ) : null}
      {/* Hidden until the moving window has something to say (format.ts SpeedMeter). */}
      {phase === 'uploading' && progress.speed > 0 ? (
        <Text color="grey80" fontSize="sm" mt="sm" data-testid="resumable-speed">
          {`${tm('resumable.speed', 'Speed')}: ${formatSpeed(progress.speed)} · `
            + `${tm('resumable.timeLeft', 'Time left')}: ${formatDuration(progress.eta)}`}
        </Text>
      ) : null}
      <Box flex flexDirection="row" mt="default" style={{ gap: 8 }}>
        {phase === 'uploading' ? (
          <Button type="button" size="sm" variant="outlined" data-testid="resumable-pause" onClick={actions.pause}>
            {tb('resumable.pause', 'Pause')}
          </Button>
        ) : null}
        {phase === 'paused' ? (
          <Button type="button" size="sm" variant="contained" data-testid="resumable-resume" onClick={actions.resume}>
            {tb('resumable.resume', 'Resume')}
          </Button>
        ) : null}
        <Button type="button" size="sm" variant="text" data-testid="resumable-cancel" onClick={actions.cancel}>
          {phase === 'complete' ? tb('resumable.discard', 'Discard') : tb('resumable.cancel', 'Cancel')}
        </Button>
        {phase === 'complete' ? (
          <Button type="button" size="sm" variant="text" data-testid="resumable-replace" onClick={onReplace}>
            {tb('resumable.chooseAnother', 'Choose another file')}
          </Button>
        ) : null}
      </Box>
    </Box>
  )
}

export default UploadProgress
