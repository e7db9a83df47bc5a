import React, { useCallback, useEffect, useState } from 'react'
import { Box, Button, MessageBox, Text } from '@adminjs/design-system'

import { formatDuration, formatSize } from './format.js'
import type { T } from './i18n.js'
import {
  discardUnfinished, forgetFile, listUnfinished, pickedMatches, rememberedFor, type RememberedFile, type UnfinishedUpload,
} from './recovery.js'

export interface UnfinishedUploadsProps {
  /** The chunk route of this resource and property. */
  target: string
  /** The file picked in this form, if any: its upload is no longer "left over". */
  picked: RememberedFile | null
  /** Opens the file picker. */
  onPick(): void
  /** Puts a complete upload into the form as it is. */
  onAttach(upload: UnfinishedUpload): void
  /** References already in the form: not listed as left over. */
  attached?: readonly string[]
  tm: T
  tb: T
}

function ago(iso: string, tm: T): string {
  const seconds = Math.max(0, (Date.now() - Date.parse(iso)) / 1000)
  return seconds < 60 ? tm('resumable.justNow', 'just now') : tm('resumable.ago', '{{time}} ago', { time: formatDuration(seconds) })
}

/**
 * This admin's uploads of the property that a closed tab or a crashed browser left behind, from the
 * server: "video.mp4, 45 %, started 2 h ago: pick the file again to continue, or discard". Picking
 * the same file resumes it (its identifier is derived from the file, and Resumable.js's test
 * requests skip the chunks the server holds).
 */
const UnfinishedUploads: React.FC<UnfinishedUploadsProps> = ({ target, picked, onPick, onAttach, attached = [], tm, tb }) => {
  const [uploads, setUploads] = useState<UnfinishedUpload[]>([])
  const [problem, setProblem] = useState<string | null>(null)

  useEffect(() => {
    let live = true
    void listUnfinished(target).then((list) => { if (live && list) setUploads(list) })
    return () => { live = false }
  }, [target])

  const discard = useCallback(async (upload: UnfinishedUpload) => {
    const result = await discardUnfinished(target, upload.reference)
    if (!result.ok) {
      setProblem(result.message ?? tm('resumable.discardFailed', 'The upload could not be discarded. Try again.'))
      return
    }
    setProblem(null)
    forgetFile(target, upload)
    setUploads((list) => list.filter((u) => u.reference !== upload.reference))
  }, [target, tm])

  const shown = uploads.map((upload) => ({ upload, remembered: rememberedFor(target, upload) }))
    .filter(({ upload, remembered }) => !picked || pickedMatches(picked, upload, remembered) !== 'same')
    .filter(({ upload }) => !attached.includes(upload.reference))
  if (!shown.length) return null

  return (
    <Box data-testid="resumable-unfinished" mb="default" role="region" aria-label={tm('resumable.unfinishedTitle', 'Unfinished uploads')}>
      <Text fontWeight="bold" mb="sm">{tm('resumable.unfinishedTitle', 'Unfinished uploads')}</Text>
      <Box as="ul" style={{ listStyle: 'none', padding: 0, margin: 0 }}>
        {shown.map(({ upload, remembered }) => {
          const changed = picked && pickedMatches(picked, upload, remembered) === 'changed'
          const vars = {
            name: upload.filename,
            percent: upload.percent,
            started: ago(upload.createdAt, tm),
          }
          return (
            <Box
              as="li"
              key={upload.reference}
              data-testid="resumable-unfinished-item"
              data-reference={upload.reference}
              data-percent={upload.percent}
              data-complete={upload.complete ? 'true' : 'false'}
              flex
              flexDirection="row"
              alignItems="center"
              mb="sm"
              style={{ gap: 8, flexWrap: 'wrap' }}
            >
              <Text as="span">
                {upload.complete
                  ? tm('resumable.unfinishedReady', '{{name}}, uploaded completely, started {{started}}: attach it, or discard', vars)
                  : tm('resumable.unfinishedPartial', '{{name}}, {{percent}}%, started {{started}}: pick the file again to continue, or discard', vars)}
              </Text>
              <Text as="span" color="grey80" fontSize="sm">
                {remembered
                  ? tm('resumable.unfinishedFile', '({{size}}, last modified {{modified}})', {
                    size: formatSize(upload.size), modified: new Date(remembered.lastModified).toLocaleString(),
                  })
                  : `(${formatSize(upload.size)})`}
              </Text>
              {upload.complete ? (
                <Button type="button" size="sm" variant="outlined" data-testid="resumable-unfinished-attach" onClick={() => onAttach(upload)}>
                  {tb('resumable.attach', 'Attach')}
                </Button>
              ) : (
                <Button type="button" size="sm" variant="outlined" data-testid="resumable-unfinished-pick" onClick={onPick}>
                  {tb('resumable.pickAgain', 'Pick the file')}
                </Button>
              )}
              <Button type="button" size="sm" variant="text" data-testid="resumable-discard" onClick={() => { void discard(upload) }}>
                {tb('resumable.discard', 'Discard')}
              </Button>
              {changed ? (
                <Text as="span" color="error" fontSize="sm" data-testid="resumable-unfinished-changed">
                  {tm('resumable.unfinishedChanged', 'The file you picked was modified since this upload started: it is uploaded from the start.')}
                </Text>
              ) : null}
            </Box>
          )
        })}
      </Box>
      {problem ? <MessageBox variant="danger" message={problem} /> : null}
    </Box>
  )
}

// Drawn again only when its props change, not on every progress draw of the field around it.
export default React.memo(UnfinishedUploads)
