import React from 'react'
import { Box, Button, Link, MessageBox, Text } from '@adminjs/design-system'

import type { T } from './i18n.js'
import { errorDetail, errorMessage, loginUrl, statusText } from './upload-messages.js'
import { isActive, type UploadState } from './upload-state.js'

export interface UploadStatusProps {
  state: UploadState
  /** There is an upload that Retry can take up again. */
  canRetry: boolean
  onRetry(): void
  tm: T
  tb: T
}

const STATUS_COLOR: Partial<Record<UploadState['phase'], string>> = { complete: 'success', idle: 'grey80', uploading: 'grey80', paused: 'grey80', finishing: 'grey80' }

/** The phase in words (data-state carries it for tests), then the error if there is one. */
const UploadStatus: React.FC<UploadStatusProps> = ({ state, canRetry, onRetry, tm, tb }) => {
  const { phase, error } = state
  const status = statusText(phase, tm)
  const active = isActive(phase)
  const retryButton = (
    <Button type="button" size="sm" variant="outlined" data-testid="resumable-retry" onClick={onRetry}>
      {tb('resumable.retry', 'Retry')}
    </Button>
  )
  const retryable = error?.kind === 'unconfirmed' || error?.kind === 'expired' || (error?.kind === 'server' && error.retryable)
  return (
    <>
      {/* Always rendered: a live region announces changes only when it was already there. Focus
          lands here (tabIndex -1) when the button that had it went away with its phase. */}
      <Box
        data-testid="resumable-status"
        data-state={phase}
        role="status"
        aria-live="polite"
        aria-atomic="true"
        tabIndex={-1}
        mt={phase === 'idle' ? undefined : 'default'}
      >
        {status ? <Text color={STATUS_COLOR[phase] ?? 'error'}>{status}</Text> : null}
        {active ? (
          <Text color="grey80" fontSize="sm">
            {tm('resumable.inProgress', 'Upload in progress — Save will be refused until it completes')}
          </Text>
        ) : null}
        {active && state.retries > 0 ? (
          <Text color="grey80" fontSize="sm">
            {tm('resumable.retrying', 'Connection problem or server busy — retrying ({{count}})…', { count: state.retries })}
          </Text>
        ) : null}
        {state.restarting ? (
          <Text color="grey80" fontSize="sm">
            {tm('resumable.restarting', 'The upload expired on the server — starting again.')}
          </Text>
        ) : null}
      </Box>

      {error ? (
        <Box data-testid="resumable-error" data-kind={error.kind} role="alert" tabIndex={-1} mt="default">
          <MessageBox variant="danger" message={errorMessage(error, tm)}>
            {errorDetail(error, tm) ? <Text mt="sm">{errorDetail(error, tm)}</Text> : null}
            {error.kind === 'auth' ? (
              <Box flex flexDirection="row" alignItems="center" mt="sm" style={{ gap: 8 }}>
                <Link href={loginUrl()} target="_blank" rel="noopener noreferrer" data-testid="resumable-login">
                  {tm('resumable.logIn', 'Log in (opens a new tab)')}
                </Link>
                {retryButton}
              </Box>
            ) : null}
            {retryable && canRetry ? <Box mt="sm">{retryButton}</Box> : null}
          </MessageBox>
        </Box>
      ) : null}
    </>
  )
}

export default UploadStatus
