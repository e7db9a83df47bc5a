/**
 * The order of a `multiple` property's files in the edit form: the kept files and the new uploads
 * in one list the person can rearrange. Ids are `keep:<key>` and `new:<upload id>`; the form's
 * slots follow this order (upload-list-state.ts formSlots).
 */
export const keptId = (key: string): string => `keep:${key}`
export const newId = (id: string): string => `new:${id}`

/** `ids` in the person's order: known ones as arranged, new ones after them in their own order. */
export function arrange(order: readonly string[], ids: readonly string[]): string[] {
  const present = new Set(ids)
  const known = order.filter((id) => present.has(id))
  const seen = new Set(known)
  return [...known, ...ids.filter((id) => !seen.has(id))]
}

/** `id` moved by `delta` places among `ids` (clamped at both ends). */
export function move(order: readonly string[], ids: readonly string[], id: string, delta: number): string[] {
  const list = arrange(order, ids)
  const from = list.indexOf(id)
  if (from < 0) return list
  const to = Math.max(0, Math.min(list.length - 1, from + delta))
  list.splice(from, 1)
  list.splice(to, 0, id)
  return list
}

/** `id` placed where `before` is (drag and drop). */
export function moveTo(order: readonly string[], ids: readonly string[], id: string, before: string): string[] {
  const list = arrange(order, ids)
  const from = list.indexOf(id)
  const to = list.indexOf(before)
  if (from < 0 || to < 0 || from === to) return list
  list.splice(from, 1)
  list.splice(to, 0, id)
  return list
}
