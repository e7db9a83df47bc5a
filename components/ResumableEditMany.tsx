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
import { storedFiles, type StoredListFile } from './stored-files.js'
import { anyActive, formSlots, isFailed, uploadListReducer, type ListEntry } from './upload-list-state.js'
import { canRetry } from './upload-state.js'
import { arrange, keptId, move, moveTo, newId } from './file-order.js'
import { thumbUrl } from './FilePreview.js'
import OrderButtons from './OrderButtons.js'
import Thumbnail from './Thumbnail.js'
import { previewKind } from '../src/shared/preview.js'
import UploadListItem from './UploadListItem.js'
import UnfinishedUploads from './UnfinishedUploads.js'
import type { UnfinishedUpload } from './recovery.js'
import { constraintsText, problemMessage, saveRefusal } from './upload-messages.js'
import { useFreshError } from './fresh-error.js'

/**
 * Edit/new field of a `multiple` property: the record's files (each removable), a drop area that
 * takes several files or folders, and one row per upload with its own progress and buttons. The
 * form gets one slot per file (`images.0`, `images.1`, …: see upload-list-state.ts).
 */
const DRAG_TYPE = 'application/x-adminjs-resumable-row'

type Row =
  | { kind: 'keep'; id: string; name: string; file: StoredListFile }
  | { kind: 'new'; id: string; name: string; entry: ListEntry }

const ResumableEditMany: React.FC<EditPropertyProps> = ({ property, record, resource, onChange }) => {
  const custom = useMemo(() => readCustom(property.custom), [property.custom])
  const resourceId = resource?.id ?? property.resourceId
  const { tm, tb } = useResumableTranslation(resourceId)
  const target = useMemo(() => chunkUrl(custom, resourceId, property.path), [custom, resourceId, property.path])
  const [entries, dispatch] = useReducer(uploadListReducer, [])
  const [removed, setRemoved] = useState<string[]>([])
  const [order, setOrder] = useState<string[]>([])
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
  const slots = formSlots(kept, entries, order)
  // One list in the person's order: kept files (removed ones stay, struck through, until Save) and uploads.
  const rows: Row[] = [
    ...stored.map((file) => ({ kind: 'keep' as const, id: keptId(file.key), name: file.name, file })),
    ...entries.map((entry) => ({ kind: 'new' as const, id: newId(entry.id), name: entry.relativePath ?? entry.state.file?.name ?? '', entry })),
  ]
  const ids = rows.filter((row) => row.kind === 'new' || !removed.includes(row.file.key)).map((row) => row.id)
  const rank = new Map(arrange(order, rows.map((row) => row.id)).map((id, i) => [id, i]))
  rows.sort((a, b) => rank.get(a.id)! - rank.get(b.id)!)
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
  // A complete upload from the unfinished-uploads list: a row of its own, already complete.
  const attach = useCallback((upload: UnfinishedUpload) => {
    const id = `recovered-${upload.reference}`
    setTouched(true)
    dispatch({ type: 'file', id, event: { type: 'added', name: upload.filename, size: upload.size } })
    dispatch({ type: 'file', id, event: { type: 'complete' } })
    dispatch({ type: 'reference', id, reference: upload.reference })
  }, [])
  const inputRef = useRef<HTMLInputElement | null>(null)
  const openPicker = useCallback(() => inputRef.current?.click(), [])
  // Rows change on every progress draw, their references only when one completes: the list of
  // unfinished uploads (React.memo) is drawn again only then.
  const attachedKey = entries.flatMap((entry) => (entry.reference ? [entry.reference] : [])).join('\n')
  const attached = useMemo(() => (attachedKey ? attachedKey.split('\n') : []), [attachedKey])
  const label = useMemo(() => <PropertyLabel property={property} />, [property])
  const onInputChange = (event: React.ChangeEvent<HTMLInputElement>) => {
    choose(Array.from(event.target.files ?? []))
    event.target.value = ''
  }
  const onDrop = (transfer: DataTransfer) => { void droppedFiles(transfer).then(choose) }
  // Shown only while the slots are those the Save was refused with (fresh-error.ts).
  const recordError = useFreshError(record?.errors?.[property.path], slotsText)
  const failedRows = entries.filter(isFailed)
    .map((entry) => ({ name: entry.relativePath ?? entry.state.file?.name ?? '', retryable: canRetry(entry.state.error) }))

  return (
    // No `error` on the group: it would colour every row red, the good ones too; the refusal says
    // itself below, naming the rows that stop the Save.
    <FormGroup>
      {label}

      {supported ? (
        <UnfinishedUploads target={target} picked={null} onPick={openPicker} tm={tm} tb={tb}
          attached={attached} onAttach={attach} />
      ) : null}

      {!supported ? (
        <MessageBox variant="danger" message={tm('resumable.unsupported', 'This browser cannot upload files in chunks.')} />
      ) : null}

      <input ref={inputRef} type="file" multiple data-testid="resumable-input" accept={acceptAttribute(custom)}
        style={{ display: 'none' }} onChange={onInputChange} disabled={!supported} />

      {supported ? (
        <DropArea
          onOpen={openPicker}
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

      {rows.length ? (
        // Apart from the drop area above: the list is its own block, not part of the target.
        <Box as="ul" data-testid="resumable-files" mt="lg" style={{ paddingLeft: 0, marginBottom: 0 }}>
          {rows.map((row, index) => {
            const orderButtons = rows.length > 1 ? (
              <OrderButtons name={row.name} first={index === 0} last={index === rows.length - 1} tb={tb}
                onMove={(delta) => { setTouched(true); setOrder((o) => move(o, ids, row.id, delta)) }} />
            ) : null
            const drag = {
              draggable: true,
              onDragStart: (event: React.DragEvent) => { event.dataTransfer.setData(DRAG_TYPE, row.id); event.dataTransfer.effectAllowed = 'move' },
              onDragOver: (event: React.DragEvent) => { if (event.dataTransfer.types.includes(DRAG_TYPE)) event.preventDefault() },
              onDrop: (event: React.DragEvent) => {
                const dragged = event.dataTransfer.getData(DRAG_TYPE)
                if (!dragged) return
                event.preventDefault()
                event.stopPropagation()
                setTouched(true)
                setOrder((o) => moveTo(o, ids, dragged, row.id))
              },
            }
            if (row.kind === 'keep') {
              const { file } = row
              const isRemoved = removed.includes(file.key)
              const image = file.url && previewKind(file.mimeType) === 'image'
              return (
                <Box as="li" key={row.id} data-testid="resumable-stored-item" data-removed={String(isRemoved)} data-name={file.name}
                  flex flexDirection="row" alignItems="center" mb="default" style={{ gap: 8, listStyle: 'none', flexWrap: 'wrap' }} {...drag}>
                  {image ? <Thumbnail src={thumbUrl(file.url!)} checkUrl={file.url} alt="" size={48} tm={tm} testId="resumable-stored-thumb" /> : null}
                  <Text as="span" color="grey100" style={{ textDecoration: isRemoved ? 'line-through' : undefined, wordBreak: 'break-all' }}>
                    {file.name}
                  </Text>
                  <Text as="span" color="grey80" fontSize="sm">{file.size !== undefined ? formatSize(file.size) : ''}</Text>
                  <Button type="button" size="sm" variant="text" data-testid="resumable-stored-remove" onClick={() => {
                    setTouched(true)
                    setRemoved((list) => (isRemoved ? list.filter((k) => k !== file.key) : [...list, file.key]))
                  }}>
                    {isRemoved ? tb('resumable.undo', 'Undo') : tb('resumable.clear', 'Remove')}
                  </Button>
                  {isRemoved ? null : orderButtons}
                </Box>
              )
            }
            return (
              <Box as="li" key={row.id} mb="default" style={{ listStyle: 'none' }} {...drag}>
                <UploadListItem
                  entry={row.entry}
                  file={controller.current?.fileOf(row.entry.id)}
                  order={orderButtons}
                  chunkSize={custom.chunkSize}
                  onPause={(id) => controller.current?.pause(id)}
                  onResume={(id) => controller.current?.resume(id)}
                  onRetry={(id) => controller.current?.retry(id)}
                  onRemove={(id) => controller.current?.remove(id)}
                  tm={tm}
                  tb={tb}
                />
              </Box>
            )
          })}
        </Box>
      ) : null}

      <Box data-testid="resumable-status" data-state={anyActive(entries) ? 'uploading' : 'idle'} aria-live="polite" mt="default">
        {anyActive(entries) ? (
          <Text color="grey80" fontSize="sm">
            {tm('resumable.inProgressMany', 'Uploads in progress — Save will be refused until they complete')}
          </Text>
        ) : null}
      </Box>

      <FormMessage data-testid="resumable-save-error" role={recordError ? 'alert' : undefined}>
        {recordError ? <Text as="span" color="error">{saveRefusal(recordError, failedRows, tm)}</Text> : null}
      </FormMessage>
    </FormGroup>
  )
}

export default ResumableEditMany
