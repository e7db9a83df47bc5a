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

/**
 * A fill as wide as the bar, scaled to `percent`: a transform on its own layer is moved by the
 * compositor alone, where a new `width` laid out and repainted the whole page. It jumps to each new
 * value (drawn at most 4 times a second, progress-throttle.ts) with no transition: a transition kept
 * the compositor drawing every frame for the whole upload, CPU taken from the upload on the same
 * machine (bench/RESULTS.md).
 */
const fill = (percent: number): React.CSSProperties => ({
  position: 'absolute',
  top: 0,
  left: 0,
  width: '100%',
  height: '100%',
  transform: `scaleX(${percent / 100})`,
  transformOrigin: 'left center',
  willChange: 'transform',
})

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
      style={{ position: 'relative', borderRadius: 4, overflow: 'hidden' }}
    >
      {/* In flight under held: the lighter part shows only past the solid one. */}
      <Box bg={color} data-testid="resumable-progress-flight" style={{ ...fill(p), opacity: 0.4 }} />
      <Box bg={color} data-testid="resumable-progress-held" style={fill(held)} />
    </Box>
  )
}

export default ProgressBar
