import { useEffect, useMemo, useReducer, useRef, useState } from 'react'

import type { ResumableConstructor } from './resumable-types.js'
import { UploadController, type UploadOptions } from './upload-controller.js'
import { INITIAL_STATE, uploadReducer, type UploadState } from './upload-state.js'

export interface UploadActions {
  /** A picked or dropped file (several are refused). */
  choose(files: ArrayLike<File>): void
  pause(): void
  resume(): void
  /** Stops the upload and removes it on the server; "Discard" once it is complete. */
  cancel(): void
  retry(): void
  /** Marks the record's current file for removal on Save. */
  clear(): void
  undoClear(): void
  /** Attaches an upload the server holds whole (from the unfinished-uploads list), without the file. */
  attach(upload: { reference: string; filename: string; size: number }): void
}

export interface ResumableUpload extends UploadActions {
  state: UploadState
  /** False when this browser cannot upload in chunks. */
  supported: boolean
}

/**
 * The upload of one file property: state from uploadReducer, one Resumable.js instance per mounted
 * component (created after mount, stopped on unmount), and actions that never change identity.
 */
export function useResumableUpload(options: UploadOptions, Resumable?: ResumableConstructor): ResumableUpload {
  const [state, dispatch] = useReducer(uploadReducer, INITIAL_STATE)
  const [supported, setSupported] = useState(true)
  const latest = useRef({ options, state })
  latest.current = { options, state }
  const controller = useRef<UploadController | null>(null)

  useEffect(() => {
    const c = new UploadController(dispatch, () => latest.current.options, () => latest.current.state, Resumable)
    controller.current = c
    setSupported(c.start())
    return () => {
      c.stop()
      if (controller.current === c) controller.current = null
    }
  // One instance for the component's life: Resumable.js cannot be reconfigured or destroyed.
  // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [])

  useEffect(() => {
    if (state.phase !== 'uploading') return undefined
    const timer = setInterval(() => controller.current?.tick(), 1000)
    return () => clearInterval(timer)
  }, [state.phase])

  const actions = useMemo<UploadActions>(() => ({
    choose: (files) => controller.current?.choose(files),
    pause: () => controller.current?.pause(),
    resume: () => controller.current?.resume(),
    cancel: () => controller.current?.cancel(),
    retry: () => controller.current?.retry(),
    clear: () => controller.current?.clear(),
    undoClear: () => controller.current?.undoClear(),
    attach: (upload) => controller.current?.attach(upload),
  }), [])

  return { state, supported, ...actions }
}
