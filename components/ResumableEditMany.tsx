import React, { useCallback, useEffect, useMemo, useReducer, useRef, useState } from 'react'
import { Box, Button, FormGroup, FormMessage, MessageBox, Text } from '@adminjs/design-system'
import { PropertyLabel, type EditPropertyProps } from 'adminjs'

import { readCustom } from '../src/shared/custom.js'
import { chunkUrl } from './custom.js'
import DropArea from './DropArea.js'
import { droppedFiles } from './folder-drop.js'
import { formatSize } from './format.js'
import { useResumableTranslation } from './i18n.js'
import { MultiUploadController, type PickedFile } from './multi-upload-controller.js'
import { acceptAttribute, type FileProblem } from './rules.js'
import { storedFiles } from './stored-files.js'
import { anyActive, formSlots, uploadListReducer } from './upload-list-state.js'
import UploadListItem from './UploadListItem.js'
import { constraintsText, problemMessage, saveRefusal } from './upload-messages.js'
import { useFreshError } from './fresh-error.js'

/**
 * Edit/new field of a `multiple` property: the record's files (each removable), a drop area that
 * takes several files or folders, and one row per upload with its own progress and buttons. The
 * form gets one slot per file (`images.0`, `images.1`, …: see upload-list-state.ts).
 */
const ResumableEditMany: React.FC<EditPropertyProps> = ({ property, record, resource, onChange }) => {
  const custom = useMemo(() => readCustom(property.custom), [property.custom])
  const resourceId = resource?.id ?? property.resourceId
  const { tm, tb } = useResumableTranslation(resourceId)
  const target = useMemo(() => chunkUrl(custom, resourceId, property.path), [custom, resourceId, property.path])
  const [entries, dispatch] = useReducer(uploadListReducer, [])
  const [removed, setRemoved] = useState<string[]>([])
  const [touched, setTouched] = useState(false)
  const [refusals, setRefusals] = useState<{ problem: FileProblem; name: string }[]>([])
  const [supported, setSupported] = useState(true)
  const latest = useRef({ custom, target })
  latest.current = { custom, target }
  const controller = useRef<MultiUploadController | null>(null)

  useEffect(() => {
    const c = new MultiUploadController(
      dispatch,
      (problem, name) => setRefusals((list) => [...list.slice(-4), { problem, name }]),
      () => latest.current,
    )
    controller.current = c
    setSupported(c.start())
    return () => {
      c.stop()
      if (controller.current === c) controller.current = null
    }
  }, [])

  const uploading = entries.some((entry) => entry.state.phase === 'uploading')
  useEffect(() => {
    if (!uploading) return undefined
    const timer = setInterval(() => controller.current?.tick(), 1000)
    return () => clearInterval(timer)
  }, [uploading])

  const stored = storedFiles(custom, record?.params, resourceId, property.path, record?.id)
  const kept = stored.filter((file) => !removed.includes(file.key)).map((file) => file.key)
  const slots = formSlots(kept, entries)
  const slotsText = JSON.stringify(slots)
  useEffect(() => {
    // Nothing changed by hand: send no slot, and Save leaves the files as they are.
    if (touched) onChange(property.path, slots as unknown as string)
  // slotsText stands for slots.
  // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [slotsText, touched])

  const choose = useCallback((files: ArrayLike<PickedFile>) => {
    setRefusals([])
    setTouched(true)
    controller.current?.choose(files)
  }, [])
  const inputRef = useRef<HTMLInputElement | null>(null)
  const onInputChange = (event: React.ChangeEvent<HTMLInputElement>) => {
    choose(Array.from(event.target.files ?? []))
    event.target.value = ''
  }
  const onDrop = (transfer: DataTransfer) => { void droppedFiles(transfer).then(choose) }
  // Shown only while the slots are those the Save was refused with (fresh-error.ts).
  const recordError = useFreshError(record?.errors?.[property.path], slotsText)
  const failedNames = entries.filter((entry) => entry.state.phase === 'failed' || entry.state.phase === 'expired'
    || entry.state.phase === 'auth-required').map((entry) => entry.relativePath ?? entry.state.file?.name ?? '')

  return (
    // No `error` on the group: it would colour every row red, the good ones too; the refusal says
    // itself below, naming the rows that stop the Save.
    <FormGroup>
      <PropertyLabel property={property} />

      {stored.length ? (
        <Box as="ul" data-testid="resumable-stored-list" style={{ paddingLeft: 0, margin: 0 }}>
          {stored.map((file) => {
            const isRemoved = removed.includes(file.key)
            return (
              <Box as="li" key={file.key} data-testid="resumable-stored-item" data-removed={String(isRemoved)} flex flexDirection="row"
                alignItems="center" style={{ gap: 8, listStyle: 'none' }}>
                <Text as="span" style={{ textDecoration: isRemoved ? 'line-through' : undefined, wordBreak: 'break-all' }}>
                  {file.name}
                </Text>
                <Text as="span" color="grey60" fontSize="sm">{file.size !== undefined ? formatSize(file.size) : ''}</Text>
                <Button type="button" size="sm" variant="text" data-testid="resumable-stored-remove" onClick={() => {
                  setTouched(true)
                  setRemoved((list) => (isRemoved ? list.filter((k) => k !== file.key) : [...list, file.key]))
                }}>
                  {isRemoved ? tb('resumable.undo', 'Undo') : tb('resumable.clear', 'Remove')}
                </Button>
              </Box>
            )
          })}
        </Box>
      ) : null}

      {!supported ? (
        <MessageBox variant="danger" message={tm('resumable.unsupported', 'This browser cannot upload files in chunks.')} />
      ) : null}

      <input ref={inputRef} type="file" multiple data-testid="resumable-input" accept={acceptAttribute(custom)}
        style={{ display: 'none' }} onChange={onInputChange} disabled={!supported} />

      {supported ? (
        <DropArea
          onOpen={() => inputRef.current?.click()}
          onFiles={() => undefined}
          onDropTransfer={onDrop}
          text={tm('resumable.dropMany', 'Drop files or folders here or click to choose files')}
          constraints={constraintsText(custom, tm)}
        />
      ) : null}

      {refusals.map(({ problem, name }, i) => (
        <Box key={`${name}-${i}`} mt="default" data-testid="resumable-refused">
          <MessageBox variant="danger" message={`${name}: ${problemMessage(problem, tm)}`} />
        </Box>
      ))}

      {entries.length ? (
        <Box as="ul" data-testid="resumable-items" style={{ paddingLeft: 0, margin: 0 }}>
          {entries.map((entry) => (
            <UploadListItem
              key={entry.id}
              entry={entry}
              onPause={(id) => controller.current?.pause(id)}
              onResume={(id) => controller.current?.resume(id)}
              onRetry={(id) => controller.current?.retry(id)}
              onRemove={(id) => controller.current?.remove(id)}
              tm={tm}
              tb={tb}
            />
          ))}
        </Box>
      ) : null}

      <Box data-testid="resumable-status" data-state={anyActive(entries) ? 'uploading' : 'idle'} aria-live="polite" mt="default">
        {anyActive(entries) ? (
          <Text color="grey60" fontSize="sm">
            {tm('resumable.inProgressMany', 'Uploads in progress — Save will be refused until they complete')}
          </Text>
        ) : null}
      </Box>

      <FormMessage data-testid="resumable-save-error" role={recordError ? 'alert' : undefined}>
        {recordError ? <Text as="span" color="error">{saveRefusal(recordError.message, failedNames, tm)}</Text> : null}
      </FormMessage>
    </FormGroup>
  )
}

export default ResumableEditMany
