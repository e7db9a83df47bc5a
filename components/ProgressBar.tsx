import React from 'react'
import { Box } from '@adminjs/design-system'

export interface ProgressBarProps {
  /** Everything sent, in flight included. */
  percent: number
  /** What the server confirmed (kept over a reload); drawn solid, the part in flight lighter. */
  heldPercent: number
  paused: boolean
  failed: boolean
  /** What is being uploaded, for screen readers. */
  label: string
  /** The progress in words, for screen readers. */
  valueText?: string
}

const clamp = (p: number): number => Math.max(0, Math.min(100, Math.round(p)))

/** The upload's bar, one for single and multiple fields: held solid, in flight striped lighter. */
const ProgressBar: React.FC<ProgressBarProps> = ({ percent, heldPercent, paused, failed, label, valueText }) => {
  const p = clamp(percent)
  const held = Math.min(p, clamp(heldPercent))
  let color = 'primary100'
  if (failed) color = 'error'
  else if (paused) color = 'grey60'
  else if (p >= 100) color = 'success'
  return (
    <Box
      data-testid="resumable-progress"
      data-percent={String(p)}
      data-held={String(held)}
      role="progressbar"
      aria-valuemin={0}
      aria-valuemax={100}
      aria-valuenow={p}
      aria-valuetext={valueText}
      aria-label={label}
      bg="grey20"
      height="8px"
      width="100%"
      flex
      flexDirection="row"
      style={{ borderRadius: 4, overflow: 'hidden' }}
    >
      <Box bg={color} height="100%" data-testid="resumable-progress-held" style={{ width: `${held}%`, transition: 'width 0.3s ease' }} />
      <Box bg={color} height="100%" data-testid="resumable-progress-flight"
        style={{ width: `${p - held}%`, opacity: 0.4, transition: 'width 0.3s ease' }} />
    </Box>
  )
}

export default ProgressBar
