/**
 * Where keyboard focus goes when the upload changes phase. The button a keyboard user just pressed
 * often disappears with the phase it belonged to (Pause becomes Resume, the drop area gives way to
 * the progress), which would drop focus to the page's top; and an error is best met at the error.
 * Focus moves only when it was inside the field or already lost: an upload that fails while the
 * admin types in another field must not pull the cursor away (the error is announced anyway).
 */
import { useEffect, useRef, type RefObject } from 'react'

import type { Phase } from './upload-state.js'

export interface FocusSnapshot {
  phase: Phase
  cleared: boolean
}

/** The `data-testid`s of the elements to focus after a change, first present wins; null: leave it. */
export function focusTargets(before: FocusSnapshot, after: FocusSnapshot): string[] | null {
  if (before.cleared !== after.cleared) return after.cleared ? ['resumable-undo'] : ['resumable-clear']
  if (before.phase === after.phase) return null
  switch (after.phase) {
  case 'uploading':
    return ['resumable-pause', 'resumable-status']
  case 'paused':
    return ['resumable-resume']
  case 'finishing':
  case 'complete':
    return ['resumable-status']
  case 'failed':
  case 'expired':
  case 'auth-required':
  case 'refused':
    return ['resumable-retry', 'resumable-error']
  case 'idle':
  default:
    return ['resumable-dropzone']
  }
}

function focusLost(root: HTMLElement): boolean {
  const active = root.ownerDocument.activeElement
  return !active || active === root.ownerDocument.body || root.contains(active)
}

/** Applies focusTargets() inside `root` after every render that changed the snapshot. */
export function useFocusAfterChange(root: RefObject<HTMLElement | null>, snapshot: FocusSnapshot): void {
  const previous = useRef(snapshot)
  useEffect(() => {
    const before = previous.current
    previous.current = snapshot
    const element = root.current
    const targets = focusTargets(before, snapshot)
    if (!element || !targets || !focusLost(element)) return
    for (const id of targets) {
      const target = element.querySelector<HTMLElement>(`[data-testid="${id}"]`)
      if (target) {
        target.focus()
        return
      }
    }
  }, [root, snapshot.phase, snapshot.cleared]) // eslint-disable-line react-hooks/exhaustive-deps
}
