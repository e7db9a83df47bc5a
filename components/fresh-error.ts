/**
 * A Save refusal (AdminJS's `record.errors[path]`) stays on the record until the next Save, but it
 * was about the form as it was then. Once the person changes what the field sends (removes the
 * failed file, the upload completes), the old message is wrong: show it only while the field's
 * value is still the one it was refused with.
 */
import { useRef } from 'react'

export interface Seen<E> {
  error: E
  /** The field's value (as text) when the error arrived. */
  value: string
  /** The value has changed since: the error stays hidden until the next Save. */
  stale: boolean
}

/** Pure core of useFreshError: the error still worth showing, and what to remember. */
export function freshError<E>(seen: Seen<E> | null, error: E | undefined | null, value: string): { shown: E | null; seen: Seen<E> | null } {
  if (!error) return { shown: null, seen: null }
  // A new refusal (another object from another Save) is fresh by definition.
  if (!seen || seen.error !== error) return { shown: error, seen: { error, value, stale: false } }
  if (seen.stale || seen.value !== value) return { shown: null, seen: seen.stale ? seen : { ...seen, stale: true } }
  return { shown: error, seen }
}

export function useFreshError<E>(error: E | undefined | null, value: string): E | null {
  const ref = useRef<Seen<E> | null>(null)
  const { shown, seen } = freshError(ref.current, error, value)
  ref.current = seen
  return shown
}
