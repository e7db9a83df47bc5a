import React from 'react'
import { Box, Button, Text } from '@adminjs/design-system'

import { formatDuration, formatSize, formatSpeed } from './format.js'
import type { T } from './i18n.js'
import type { UploadActions } from './use-resumable-upload.js'
import { isActive, type UploadState } from './upload-state.js'

interface ProgressBarProps {
  percent: number
  paused: boolean
  failed: boolean
  /** What is being uploaded, for screen readers. */
  label: string
  /** The progress in words, for screen readers. */
  valueText: string
}

const ProgressBar: React.FC<ProgressBarProps> = ({ percent, paused, failed, label, valueText }) => {
  const p = Math.max(0, Math.min(100, Math.round(percent)))
  let color = 'primary100'
  if (failed) color = 'error'
  else if (paused) color = 'grey60'
  else if (p >= 100) color = 'success'
  return (
    <Box
      data-testid="resumable-progress"
      data-percent={String(p)}
      role="progressbar"
      aria-valuemin={0}
      aria-valuemax={100}
      aria-valuenow={p}
      aria-valuetext={valueText}
      aria-label={label}
      bg="grey20"
      height="8px"
      width="100%"
      style={{ borderRadius: 4, overflow: 'hidden' }}
    >
      <Box bg={color} height="100%" style={{ width: `${p}%`, transition: 'width 0.3s ease' }} />
    </Box>
  )
}

export interface UploadProgressProps {
  state: UploadState
  file: { name: string; size: number }
  actions: Pick<UploadActions, 'pause' | 'resume' | 'cancel'>
  /** Opens the file picker. */
  onReplace(): void
  tm: T
  tb: T
}

/** The file being uploaded: name, bytes, bar, speed and its buttons. */
const UploadProgress: React.FC<UploadProgressProps> = ({ state, file, actions, onReplace, tm, tb }) => {
  const { phase, progress } = state
  const ended = !isActive(phase) && phase !== 'complete'
  return (
    <Box mt="default">
      <Box flex flexDirection="row" justifyContent="space-between" mb="sm" style={{ gap: 8, flexWrap: 'wrap' }}>
        <Text as="span" fontWeight="bold" style={{ wordBreak: 'break-all' }}>{file.name}</Text>
        <Text as="span" color="grey80">
          {`${formatSize(progress.bytes)} / ${formatSize(file.size)} · ${progress.percent}%`}
        </Text>
      </Box>
      <ProgressBar
        percent={progress.percent}
        paused={phase === 'paused'}
        failed={ended}
        label={tm('resumable.progressLabel', 'Upload of {{name}}', { name: file.name })}
        valueText={tm('resumable.progressValue', '{{percent}} % ({{done}} of {{total}})', {
          percent: progress.percent, done: formatSize(progress.bytes), total: formatSize(file.size),
        })}
      />
      {phase === 'uploading' ? (
        <Text color="grey80" fontSize="sm" mt="sm">
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
