import React, { useCallback, useEffect, useMemo, useRef, useState } from 'react'
import ResumableJs from 'resumablejs'
import { Box, Button, FormGroup, FormMessage, Link, MessageBox, Text } from '@adminjs/design-system'
import { PropertyLabel, type EditPropertyProps } from 'adminjs'

import { chunkUrl, readCustom, storedFile, type ResumableCustom } from './custom.js'
import { SpeedMeter, formatDuration, formatSize, formatSpeed } from './format.js'
import { useResumableTranslation, type T } from './i18n.js'
import {
  REQUEST_HEADERS, deleteUpload, fetchReference, parseAnswer,
  type ChunkingOptions, type UploadDescriptor,
} from './protocol.js'
import { acceptAttribute, checkFile, type FileProblem } from './rules.js'
import type { ResumableConstructor, ResumableFile, ResumableInstance } from './resumable-types.js'

const Resumable = ResumableJs as unknown as ResumableConstructor

/** The value the server reads as "remove the saved file". */
export const CLEAR_VALUE = '__clear__'
/** Put into the form while a file uploads: the server refuses a Save with it ("not finished yet"). */
export const PENDING_VALUE = '__pending__'

/** Rejected with these, an upload will not get better by trying again. */
const PERMANENT_ERRORS = [400, 401, 403, 404, 409, 410, 413, 415, 500, 501]
/** Error codes for which a Retry button makes no sense. */
const FINAL_CODES = new Set([
  'invalid_request', 'forbidden', 'not_found', 'method_not_allowed', 'conflict', 'too_large', 'type_not_allowed',
])
const MAX_EXPIRED_RESTARTS = 2

type Phase = 'idle' | 'uploading' | 'paused' | 'complete' | 'error'

type UploadError =
  | { kind: 'auth'; message: string }
  | { kind: 'server'; message: string; code?: string; retryable: boolean }
  | { kind: 'validation'; message: string }

interface Progress {
  percent: number
  bytes: number
  speed: number
  eta?: number
}

interface Selected {
  name: string
  size: number
}

const NO_PROGRESS: Progress = { percent: 0, bytes: 0, speed: 0 }

function describe(f: ResumableFile): UploadDescriptor {
  return {
    uniqueIdentifier: f.uniqueIdentifier,
    fileName: f.fileName,
    relativePath: f.relativePath,
    size: f.size,
    type: f.file.type || '',
  }
}

function loginUrl(): string {
  const paths = (typeof window !== 'undefined'
    ? (window as unknown as { REDUX_STATE?: { paths?: { rootPath?: string; loginPath?: string } } }).REDUX_STATE?.paths
    : undefined) ?? {}
  if (paths.loginPath) return paths.loginPath
  const root = (paths.rootPath ?? '/admin').replace(/\/+$/, '')
  return `${root}/login`
}

function problemMessage(problem: FileProblem, tm: T): string {
  switch (problem.code) {
  case 'empty':
    return tm('resumable.emptyFile', 'The file is empty.')
  case 'too_large':
    return tm('resumable.tooLarge', 'The file is too large: at most {{max}} allowed.', { max: formatSize(problem.maxSize) })
  case 'extension':
    return tm('resumable.extensionNotAllowed', 'This kind of file is not allowed. Allowed extensions: {{list}}.', {
      list: problem.allowed.map((e) => `.${e}`).join(', '),
    })
  case 'type':
  default:
    return tm('resumable.typeNotAllowed', 'This type of file is not allowed. Allowed types: {{list}}.', {
      list: (problem as { allowed: string[] }).allowed.join(', '),
    })
  }
}

function constraintsText(custom: ResumableCustom, tm: T): string {
  const parts: string[] = []
  if (custom.maxSize > 0) parts.push(tm('resumable.maxSize', 'up to {{max}}', { max: formatSize(custom.maxSize) }))
  const types = [...custom.mimeTypes, ...custom.extensions.map((e) => `.${e}`)]
  if (types.length) parts.push(types.join(', '))
  return parts.join(' · ')
}

const ProgressBar: React.FC<{ percent: number; paused: boolean; failed: boolean }> = ({ percent, paused, failed }) => {
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
      bg="grey20"
      height="8px"
      width="100%"
      style={{ borderRadius: 4, overflow: 'hidden' }}
    >
      <Box bg={color} height="100%" style={{ width: `${p}%`, transition: 'width 0.3s ease' }} />
    </Box>
  )
}

const ResumableEdit: React.FC<EditPropertyProps> = (props) => {
  const { property, record, resource, onChange } = props
  const custom = useMemo(() => readCustom(property.custom), [property.custom])
  const resourceId = resource?.id ?? property.resourceId
  const { tm, tb } = useResumableTranslation(resourceId)

  const target = useMemo(() => chunkUrl(custom, resourceId, property.path), [custom, resourceId, property.path])
  const chunking: ChunkingOptions = useMemo(
    () => ({ chunkSize: custom.chunkSize, forceChunkSize: custom.forceChunkSize }),
    [custom.chunkSize, custom.forceChunkSize],
  )

  const [phase, setPhase] = useState<Phase>('idle')
  const [progress, setProgress] = useState<Progress>(NO_PROGRESS)
  const [selected, setSelected] = useState<Selected | null>(null)
  const [error, setError] = useState<UploadError | null>(null)
  const [notice, setNotice] = useState<string | null>(null)
  const [retries, setRetries] = useState(0)
  const [finishing, setFinishing] = useState(false)
  const [cleared, setCleared] = useState(false)
  const [dragging, setDragging] = useState(false)

  const inputRef = useRef<HTMLInputElement | null>(null)
  const currentRef = useRef<ResumableFile | null>(null)
  const referenceRef = useRef<string | null>(null)
  const meterRef = useRef(new SpeedMeter(5000))
  const lastRefreshRef = useRef(0)
  const succeededChunksRef = useRef(0)
  const restartsRef = useRef<Record<string, number>>({})
  const mountedRef = useRef(true)

  // Resumable.js's events are bound once; they call the latest handlers through this ref.
  const handlersRef = useRef<{
    added(f: ResumableFile): void
    progress(f: ResumableFile): void
    success(f: ResumableFile, message: string): void
    failed(f: ResumableFile, message: string): void
    retry(f: ResumableFile): void
  } | null>(null)

  const resumableRef = useRef<ResumableInstance | null>(null)
  if (!resumableRef.current && typeof window !== 'undefined') {
    const r = new Resumable({
      target,
      chunkSize: custom.chunkSize,
      forceChunkSize: custom.forceChunkSize,
      simultaneousUploads: custom.simultaneousUploads,
      testChunks: true,
      headers: { ...REQUEST_HEADERS },
      withCredentials: true,
      permanentErrors: PERMANENT_ERRORS,
      maxChunkRetries: 20,
      chunkRetryInterval: 1000,
      maxFiles: 1,
      fileParameterName: 'file',
      generateUniqueIdentifier: (file: File) => `${file.size}-${file.lastModified}-${file.name}`,
      // Checks happen before addFile(); never let Resumable.js alert().
      maxFilesErrorCallback: () => undefined,
      minFileSizeErrorCallback: () => undefined,
      maxFileSizeErrorCallback: () => undefined,
      fileTypeErrorCallback: () => undefined,
    })
    // `new Resumable()` returns `false` (as an object wrapper) when the browser lacks File/Blob APIs.
    if (r && r.support) {
      r.on('fileAdded', (f) => handlersRef.current?.added(f))
      r.on('fileProgress', (f) => handlersRef.current?.progress(f))
      r.on('fileSuccess', (f, message) => handlersRef.current?.success(f, message))
      r.on('fileError', (f, message) => handlersRef.current?.failed(f, message))
      r.on('fileRetry', (f) => handlersRef.current?.retry(f))
    }
    resumableRef.current = r
  }
  const supported = Boolean(resumableRef.current?.support)

  const latest = useRef({ onChange, path: property.path })
  latest.current = { onChange, path: property.path }

  const refresh = useCallback((f: ResumableFile, force = false) => {
    const now = Date.now()
    if (!force && now - lastRefreshRef.current < 200) return
    lastRefreshRef.current = now
    const ratio = Math.max(0, Math.min(1, f.progress()))
    const bytes = ratio * f.size
    meterRef.current.add(bytes, now)
    const speed = meterRef.current.speed(now)
    const eta = meterRef.current.eta(f.size - bytes, now)
    // 100 % only once the server has confirmed the whole file.
    const percent = Math.min(99, Math.floor(ratio * 100))
    setProgress({ percent, bytes, speed, eta })
  }, [])

  const complete = useCallback((reference: string) => {
    referenceRef.current = reference
    setFinishing(false)
    setPhase('complete')
    setError(null)
    setNotice(null)
    setRetries(0)
    setProgress((p) => ({ ...p, percent: 100, bytes: currentRef.current?.size ?? p.bytes, speed: 0, eta: 0 }))
    latest.current.onChange(latest.current.path, reference)
  }, [])

  /** Forgets the form value this component put there (if any). */
  const forgetReference = useCallback(() => {
    if (referenceRef.current !== null) {
      referenceRef.current = null
      latest.current.onChange(latest.current.path, cleared ? CLEAR_VALUE : undefined)
    }
  }, [cleared])

  const serverError = useCallback((message: string): UploadError => {
    const answer = parseAnswer(message)
    const code = typeof answer?.code === 'string' ? answer.code : undefined
    if (code === 'not_authenticated' || code === 'unauthorized') {
      return { kind: 'auth', message: tm('resumable.sessionExpired', 'Your session has expired — log in again') }
    }
    let text = typeof answer?.message === 'string' && answer.message ? answer.message : ''
    if (!text) {
      const plain = (message || '').trim()
      text = plain && plain.length < 300 && !plain.startsWith('<')
        ? plain
        : tm('resumable.uploadFailed', 'The upload failed. Check your connection and try again.')
    }
    return { kind: 'server', message: text, code, retryable: !code || !FINAL_CODES.has(code) }
  }, [tm])

  handlersRef.current = {
    added(f) {
      currentRef.current = f
      meterRef.current.reset()
      succeededChunksRef.current = 0
      lastRefreshRef.current = 0
      setSelected({ name: f.fileName, size: f.size })
      setProgress(NO_PROGRESS)
      setRetries(0)
      setFinishing(false)
      setError(null)
      setPhase('uploading')
      resumableRef.current?.upload()
    },
    progress(f) {
      if (f !== currentRef.current) return
      const done = f.chunks.filter((c) => c.status() === 'success').length
      if (done > succeededChunksRef.current) {
        succeededChunksRef.current = done
        setRetries(0)
      }
      refresh(f)
    },
    success(f, message) {
      if (f !== currentRef.current) return
      refresh(f, true)
      const answer = parseAnswer(message)
      const reference = typeof answer?.reference === 'string' && answer.reference ? answer.reference : null
      if (reference) {
        complete(reference)
        return
      }
      // The chunk that finished last here was not the one that finished the file on the server
      // (or a test GET answered "held" without a reference): ask for it.
      setFinishing(true)
      fetchReference(target, describe(f), chunking).then((result) => {
        if (!mountedRef.current || f !== currentRef.current) return
        setFinishing(false)
        if (result.reference) {
          complete(result.reference)
        } else if (result.answer?.status === 'error' || (result.status && result.status >= 400)) {
          handlersRef.current?.failed(f, JSON.stringify(result.answer ?? {}))
        } else {
          setError({
            kind: 'server',
            message: tm('resumable.notConfirmed', 'The server did not confirm the upload. Try again.'),
            retryable: true,
          })
          setPhase('error')
        }
      })
    },
    failed(f, message) {
      if (f !== currentRef.current) return
      const answer = parseAnswer(message)
      if (answer?.code === 'expired' || answer?.code === 'upload_expired') {
        const count = restartsRef.current[f.uniqueIdentifier] ?? 0
        if (count < MAX_EXPIRED_RESTARTS) {
          restartsRef.current[f.uniqueIdentifier] = count + 1
          setNotice(tm('resumable.restarting', 'The upload expired on the server — starting again.'))
          const r = resumableRef.current
          const file = f.file
          deleteUpload(target, describe(f), chunking).then(() => {
            if (!mountedRef.current || f !== currentRef.current || !r) return
            currentRef.current = null
            r.removeFile(f)
            r.addFile(file)
          })
          return
        }
      }
      setFinishing(false)
      setNotice(null)
      setError(serverError(message))
      setPhase('error')
    },
    retry(f) {
      if (f !== currentRef.current) return
      setRetries((n) => n + 1)
    },
  }

  // Keep speed and time left moving (and decaying) between progress events.
  useEffect(() => {
    if (phase !== 'uploading') return undefined
    const timer = setInterval(() => {
      const f = currentRef.current
      if (f && !finishing) refresh(f, true)
    }, 1000)
    return () => clearInterval(timer)
  }, [phase, finishing, refresh])

  // Resumable.js has no destroy(): stop the transfers when the form goes away. Nothing is
  // deleted, so picking the same file again later resumes it.
  useEffect(() => {
    mountedRef.current = true
    return () => {
      mountedRef.current = false
      const r = resumableRef.current
      if (r && r.support) {
        r.files.forEach((f) => {
          f.pause(true)
          f.abort()
        })
      }
    }
  }, [])

  const discardCurrent = useCallback((sendDelete: boolean) => {
    const f = currentRef.current
    currentRef.current = null
    if (f) {
      f.cancel()
      if (sendDelete) void deleteUpload(target, describe(f), chunking)
    }
  }, [target, chunking])

  const resetUi = useCallback(() => {
    setPhase('idle')
    setSelected(null)
    setProgress(NO_PROGRESS)
    setError(null)
    setNotice(null)
    setRetries(0)
    setFinishing(false)
    meterRef.current.reset()
  }, [])

  const handleFile = useCallback((file: File | undefined | null) => {
    if (!file) return
    const r = resumableRef.current
    if (!r || !r.support) return
    const problem = checkFile(file, custom)
    if (problem) {
      setError({ kind: 'validation', message: problemMessage(problem, tm) })
      if (phase !== 'uploading' && phase !== 'paused') setPhase('error')
      return
    }
    const identifier = `${file.size}-${file.lastModified}-${file.name}`
    const previous = currentRef.current
    if (previous) discardCurrent(previous.uniqueIdentifier !== identifier)
    // Any other file Resumable.js still knows about (e.g. one that failed) goes too.
    r.files.slice().forEach((f) => f.cancel())
    forgetReference()
    resetUi()
    r.addFile(file)
    // Until the reference arrives, a Save must fail on the server instead of silently saving the
    // record without its file.
    referenceRef.current = PENDING_VALUE
    latest.current.onChange(latest.current.path, PENDING_VALUE)
  }, [custom, tm, phase, discardCurrent, forgetReference, resetUi])

  const onInputChange = (event: React.ChangeEvent<HTMLInputElement>) => {
    const file = event.target.files?.[0]
    handleFile(file)
    // Let the same file be picked again.
    event.target.value = ''
  }

  const onDrop = (event: React.DragEvent<HTMLDivElement>) => {
    event.preventDefault()
    event.stopPropagation()
    setDragging(false)
    const files = event.dataTransfer?.files
    if (!files || files.length === 0) return
    if (files.length > 1) {
      setError({ kind: 'validation', message: tm('resumable.oneFile', 'Drop one file only.') })
      if (phase !== 'uploading' && phase !== 'paused') setPhase('error')
      return
    }
    handleFile(files[0])
  }

  const pause = () => {
    const f = currentRef.current
    if (!f) return
    f.pause(true)
    f.abort()
    meterRef.current.reset()
    setProgress((p) => ({ ...p, speed: 0, eta: undefined }))
    setPhase('paused')
  }

  const resume = () => {
    const f = currentRef.current
    const r = resumableRef.current
    if (!f || !r) return
    f.pause(false)
    meterRef.current.reset()
    setPhase('uploading')
    const inFlight = f.chunks.filter((c) => c.status() === 'uploading').length
    for (let i = inFlight; i < custom.simultaneousUploads; i += 1) {
      if (!r.uploadNextChunk()) break
    }
  }

  const cancel = () => {
    const f = currentRef.current
    discardCurrent(true)
    if (!f) resumableRef.current?.files.slice().forEach((other) => other.cancel())
    forgetReference()
    resetUi()
  }

  const retry = () => {
    const f = currentRef.current
    const r = resumableRef.current
    setError(null)
    setNotice(null)
    setRetries(0)
    if (!f || !r) {
      setPhase('idle')
      return
    }
    meterRef.current.reset()
    f.pause(false)
    setPhase('uploading')
    if (f.isComplete() && f.chunks.length > 0) {
      // Every chunk is in; only the reference was missing.
      handlersRef.current?.success(f, '')
    } else {
      f.retry()
    }
  }

  const clearStored = () => {
    if (phase === 'complete') {
      discardCurrent(true)
      resetUi()
    }
    referenceRef.current = null
    setCleared(true)
    onChange(property.path, CLEAR_VALUE)
  }

  const undoClear = () => {
    setCleared(false)
    onChange(property.path, undefined as unknown as string)
  }

  const stored = storedFile(custom, record?.params, resourceId, property.path, record?.id)
  const recordError = record?.errors?.[property.path]
  const active = phase === 'uploading' || phase === 'paused'
  const hasFile = Boolean(selected) && phase !== 'idle'
  // After a session expiry the same upload is retried, not replaced: no invitation to drop another.
  const showDropArea = !active && phase !== 'complete' && !(phase === 'error' && error?.kind === 'auth')
  const accept = acceptAttribute(custom)
  const constraints = constraintsText(custom, tm)

  const statusText: Record<Phase, string> = {
    idle: '',
    uploading: finishing
      ? tm('resumable.finishing', 'Finishing…')
      : tm('resumable.uploading', 'Uploading…'),
    paused: tm('resumable.paused', 'Paused'),
    complete: tm('resumable.uploaded', 'Uploaded — press Save to attach'),
    error: tm('resumable.failed', 'Upload failed'),
  }

  return (
    <FormGroup error={Boolean(recordError)}>
      <PropertyLabel property={property} />

      {stored ? (
        <Box flex flexDirection="row" alignItems="center" mb="default" style={{ gap: 8, flexWrap: 'wrap' }}>
          <Text as="span" color="grey60">{tm('resumable.currentFile', 'Current file:')}</Text>
          {stored.url ? (
            <Link
              data-testid="resumable-current"
              href={stored.url}
              target="_blank"
              rel="noopener noreferrer"
              style={cleared ? { textDecoration: 'line-through' } : undefined}
            >
              {stored.name}
            </Link>
          ) : (
            <Text as="span" data-testid="resumable-current">{stored.name}</Text>
          )}
          {stored.size !== undefined ? <Text as="span" color="grey60">{`(${formatSize(stored.size)})`}</Text> : null}
          {!custom.required && !cleared ? (
            <Button type="button" size="sm" variant="text" data-testid="resumable-clear" onClick={clearStored}>
              {tb('resumable.clear', 'Remove')}
            </Button>
          ) : null}
          {phase !== 'idle' && !cleared ? (
            <Text as="span" color="grey60" data-testid="resumable-will-replace">
              {tm('resumable.willBeReplaced', 'It will be replaced by the new file when you press Save.')}
            </Text>
          ) : null}
          {cleared ? (
            <>
              <Text as="span" color="grey60">
                {tm('resumable.willBeRemoved', 'The file will be removed when you press Save.')}
              </Text>
              <Button type="button" size="sm" variant="text" data-testid="resumable-undo" onClick={undoClear}>
                {tb('resumable.undo', 'Undo')}
              </Button>
            </>
          ) : null}
        </Box>
      ) : null}

      {!supported ? (
        <MessageBox
          variant="danger"
          message={tm('resumable.unsupported', 'This browser cannot upload files in chunks.')}
        />
      ) : null}

      <input
        ref={inputRef}
        type="file"
        data-testid="resumable-input"
        accept={accept}
        style={{ display: 'none' }}
        onChange={onInputChange}
        disabled={!supported}
      />

      {supported && showDropArea ? (
        <Box
          data-testid="resumable-dropzone"
          role="button"
          tabIndex={0}
          onClick={() => inputRef.current?.click()}
          onKeyDown={(e: React.KeyboardEvent) => {
            if (e.key === 'Enter' || e.key === ' ') {
              e.preventDefault()
              inputRef.current?.click()
            }
          }}
          onDragOver={(e: React.DragEvent) => { e.preventDefault(); setDragging(true) }}
          onDragEnter={(e: React.DragEvent) => { e.preventDefault(); setDragging(true) }}
          onDragLeave={() => setDragging(false)}
          onDrop={onDrop}
          p="xl"
          bg={dragging ? 'primary20' : 'white'}
          style={{
            border: '1px dashed',
            borderColor: dragging ? '#4268F6' : '#BBC3CB',
            borderRadius: 4,
            cursor: 'pointer',
            textAlign: 'center',
          }}
        >
          <Text>
            {stored
              ? tm('resumable.dropReplace', 'Drop a file here or click to choose one to replace the current file')
              : tm('resumable.dropHere', 'Drop a file here or click to choose one')}
          </Text>
          {constraints ? <Text color="grey60" fontSize="sm" mt="sm">{constraints}</Text> : null}
        </Box>
      ) : null}

      {hasFile && selected ? (
        <Box mt="default">
          <Box flex flexDirection="row" justifyContent="space-between" mb="sm" style={{ gap: 8, flexWrap: 'wrap' }}>
            <Text as="span" fontWeight="bold" style={{ wordBreak: 'break-all' }}>{selected.name}</Text>
            <Text as="span" color="grey60">
              {`${formatSize(progress.bytes)} / ${formatSize(selected.size)} · ${progress.percent}%`}
            </Text>
          </Box>
          <ProgressBar percent={progress.percent} paused={phase === 'paused'} failed={phase === 'error'} />
          {phase === 'uploading' && !finishing ? (
            <Text color="grey60" fontSize="sm" mt="sm">
              {`${tm('resumable.speed', 'Speed')}: ${formatSpeed(progress.speed)} · `
                + `${tm('resumable.timeLeft', 'Time left')}: ${formatDuration(progress.eta)}`}
            </Text>
          ) : null}
          <Box flex flexDirection="row" mt="default" style={{ gap: 8 }}>
            {phase === 'uploading' && !finishing ? (
              <Button type="button" size="sm" variant="outlined" data-testid="resumable-pause" onClick={pause}>
                {tb('resumable.pause', 'Pause')}
              </Button>
            ) : null}
            {phase === 'paused' ? (
              <Button type="button" size="sm" variant="contained" data-testid="resumable-resume" onClick={resume}>
                {tb('resumable.resume', 'Resume')}
              </Button>
            ) : null}
            <Button type="button" size="sm" variant="text" data-testid="resumable-cancel" onClick={cancel}>
              {phase === 'complete' ? tb('resumable.discard', 'Discard') : tb('resumable.cancel', 'Cancel')}
            </Button>
            {phase === 'complete' ? (
              <Button type="button" size="sm" variant="text" data-testid="resumable-replace" onClick={() => inputRef.current?.click()}>
                {tb('resumable.chooseAnother', 'Choose another file')}
              </Button>
            ) : null}
          </Box>
        </Box>
      ) : null}

      <Box
        data-testid="resumable-status"
        data-state={phase}
        aria-live="polite"
        mt={phase === 'idle' ? undefined : 'default'}
      >
        {statusText[phase] ? (
          <Text color={phase === 'complete' ? 'success' : phase === 'error' ? 'error' : 'grey80'}>
            {statusText[phase]}
          </Text>
        ) : null}
        {active ? (
          <Text color="grey60" fontSize="sm">
            {tm('resumable.inProgress', 'Upload in progress — Save will be refused until it completes')}
          </Text>
        ) : null}
        {active && retries > 0 ? (
          <Text color="grey60" fontSize="sm">
            {tm('resumable.retrying', 'Connection problem or server busy — retrying ({{count}})…', { count: retries })}
          </Text>
        ) : null}
        {notice ? <Text color="grey60" fontSize="sm">{notice}</Text> : null}
      </Box>

      {error ? (
        <Box data-testid="resumable-error" data-kind={error.kind} mt="default">
          <MessageBox variant="danger" message={error.message}>
            {error.kind === 'auth' ? (
              <Box flex flexDirection="row" alignItems="center" mt="sm" style={{ gap: 8 }}>
                <Link href={loginUrl()} target="_blank" rel="noopener noreferrer" data-testid="resumable-login">
                  {tm('resumable.logIn', 'Log in (opens a new tab)')}
                </Link>
                <Button type="button" size="sm" variant="outlined" data-testid="resumable-retry" onClick={retry}>
                  {tb('resumable.retry', 'Retry')}
                </Button>
              </Box>
            ) : null}
            {error.kind === 'server' && error.retryable && currentRef.current ? (
              <Box mt="sm">
                <Button type="button" size="sm" variant="outlined" data-testid="resumable-retry" onClick={retry}>
                  {tb('resumable.retry', 'Retry')}
                </Button>
              </Box>
            ) : null}
          </MessageBox>
        </Box>
      ) : null}

      <FormMessage>{recordError ? tm(recordError.message, recordError.message) : null}</FormMessage>
    </FormGroup>
  )
}

export default ResumableEdit
