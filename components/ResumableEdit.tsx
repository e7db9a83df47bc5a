import React, { useCallback, useEffect, useMemo, useRef, useState } from 'react'
import { FormGroup, FormMessage, MessageBox } from '@adminjs/design-system'
import { PropertyLabel, type EditPropertyProps } from 'adminjs'

import { readCustom } from '../src/shared/custom.js'
import CurrentFile from './CurrentFile.js'
import { chunkUrl, storedFile } from './custom.js'
import DropArea from './DropArea.js'
import { useFocusAfterChange } from './focus.js'
import { useFreshError } from './fresh-error.js'
import { useResumableTranslation } from './i18n.js'
import { acceptAttribute } from './rules.js'
import { constraintsText, refusalText } from './upload-messages.js'
import { isActive } from './upload-state.js'
import UploadProgress from './UploadProgress.js'
import UploadStatus from './UploadStatus.js'
import { useResumableUpload } from './use-resumable-upload.js'
import UnfinishedUploads from './UnfinishedUploads.js'
import { rememberFile, type RememberedFile } from './recovery.js'

/**
 * Edit/new form field: the record's current file, a drop area, and the upload of a new file in
 * chunks. The form gets the upload's reference once the server has the whole file (PENDING_MARKER
 * until then, CLEAR_MARKER to remove the file); the save hooks do the rest.
 */
const ResumableEdit: React.FC<EditPropertyProps> = ({ property, record, resource, onChange }) => {
  const custom = useMemo(() => readCustom(property.custom), [property.custom])
  const resourceId = resource?.id ?? property.resourceId
  const { tm, tb } = useResumableTranslation(resourceId)
  const target = useMemo(() => chunkUrl(custom, resourceId, property.path), [custom, resourceId, property.path])
  const onValue = useCallback(
    (value: string | undefined) => onChange(property.path, value as string),
    [onChange, property.path],
  )
  const resumable = useResumableUpload({ custom, target, onValue })
  // Every pick is remembered (name, size, last modified) for the unfinished-uploads list.
  const [picked, setPicked] = useState<RememberedFile | null>(null)
  const [attachedRef, setAttachedRef] = useState<string | null>(null)
  const resumableChoose = resumable.choose
  const choose = useCallback((files: ArrayLike<File>) => {
    if (files.length === 1) {
      setPicked({ name: files[0].name, size: files[0].size, lastModified: files[0].lastModified })
      rememberFile(target, files[0])
    }
    resumableChoose(files)
  }, [resumableChoose, target])
  const upload = { ...resumable, choose }
  const { state, supported } = upload
  const { phase } = state

  // Discarded again: the upload is still on the server, so it is listed again.
  useEffect(() => { if (phase === 'idle') setAttachedRef(null) }, [phase])

  const rootRef = useRef<HTMLDivElement | null>(null)
  useFocusAfterChange(rootRef, { phase, cleared: state.cleared })

  const inputRef = useRef<HTMLInputElement | null>(null)
  const openPicker = useCallback(() => inputRef.current?.click(), [])
  const onInputChange = (event: React.ChangeEvent<HTMLInputElement>) => {
    upload.choose(Array.from(event.target.files ?? []).slice(0, 1))
    // Let the same file be picked again.
    event.target.value = ''
  }

  // The parts a progress draw does not change keep their props (and are not drawn again: React.memo).
  const stored = useMemo(
    () => storedFile(custom, record?.params, resourceId, property.path, record?.id),
    [custom, record?.params, resourceId, property.path, record?.id],
  )
  const label = useMemo(() => <PropertyLabel property={property} />, [property])
  const attached = useMemo(() => (attachedRef ? [attachedRef] : []), [attachedRef])
  const { attach } = upload
  const onAttach = useCallback((u: { reference: string; filename: string; size: number }) => {
    setPicked(null)
    setAttachedRef(u.reference)
    attach(u)
  }, [attach])
  // A refusal stays only while the field sends what was refused (fresh-error.ts): a pause that
  // ended in completion must not leave "not finished yet" next to "Uploaded".
  const recordError = useFreshError(record?.errors?.[property.path], `${phase}|${String(record?.params?.[property.path] ?? '')}`)
  // After a session expiry the same upload is retried, not replaced: no invitation to drop another.
  const showDropArea = supported && !isActive(phase) && phase !== 'complete' && phase !== 'auth-required'

  return (
    <FormGroup error={Boolean(recordError)}>
      {label}
      <div ref={rootRef} data-testid="resumable-root">

      {stored ? (
        <CurrentFile
          stored={stored}
          cleared={state.cleared}
          replacing={phase !== 'idle'}
          removable={!custom.required}
          onClear={upload.clear}
          onUndo={upload.undoClear}
          tm={tm}
          tb={tb}
        />
      ) : null}

      {supported ? (
        <UnfinishedUploads target={target} picked={picked} onPick={openPicker} tm={tm} tb={tb}
          attached={attached} onAttach={onAttach} />
      ) : null}

      {!supported ? (
        <MessageBox variant="danger" message={tm('resumable.unsupported', 'This browser cannot upload files in chunks.')} />
      ) : null}

      <input
        ref={inputRef}
        type="file"
        data-testid="resumable-input"
        // The drop area is the control keyboards and screen readers use; this input only opens the picker.
        tabIndex={-1}
        aria-hidden="true"
        accept={acceptAttribute(custom)}
        style={{ display: 'none' }}
        onChange={onInputChange}
        disabled={!supported}
      />

      {showDropArea ? (
        <DropArea
          onOpen={openPicker}
          onFiles={upload.choose}
          text={stored
            ? tm('resumable.dropReplace', 'Drop a file here or click to choose one to replace the current file')
            : tm('resumable.dropHere', 'Drop a file here or click to choose one')}
          constraints={constraintsText(custom, tm)}
        />
      ) : null}

      {state.file && phase !== 'idle' ? (
        <UploadProgress state={state} file={state.file} actions={upload} chunkSize={custom.chunkSize} onReplace={openPicker} tm={tm} tb={tb} />
      ) : null}

      <UploadStatus state={state} canRetry={state.file !== null} onRetry={upload.retry} tm={tm} tb={tb} />

      </div>
      <FormMessage data-testid="resumable-save-error">{recordError ? refusalText(recordError, tm) : null}</FormMessage>
    </FormGroup>
  )
}

export default ResumableEdit
