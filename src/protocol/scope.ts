import { createHash } from 'node:crypto'

export interface UploadScope {
  /** The admin's id (or email when the auth provider gives no id). */
  owner: string
  resourceId: string
  propertyPath: string
}

/**
 * The upload id: the same file picked again by the same admin on the same property finds the same
 * upload (so a page reload resumes), while two admins sending a same-named, same-sized file get
 * unrelated ids. It is a hash, so it is safe as a folder name whatever the client sent.
 */
export function uploadId(scope: UploadScope, identifier: string): string {
  return createHash('sha256')
    .update(JSON.stringify(['adminjs-resumable/1', scope.owner, scope.resourceId, scope.propertyPath, identifier]))
    .digest('hex')
    .slice(0, 40)
}

/** Upload ids (and so references) are 40 hex digits; anything else names no upload. */
export function isUploadId(value: unknown): value is string {
  return typeof value === 'string' && /^[a-f0-9]{40}$/.test(value)
}

/** Whether an upload was started by this admin, on this resource and property. */
export function belongsTo(upload: UploadScope, scope: UploadScope): boolean {
  return upload.owner === scope.owner && upload.resourceId === scope.resourceId && upload.propertyPath === scope.propertyPath
}

export function hashText(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 32)
}

/** The owner key of a logged-in AdminJS user, or null when there is none. */
export function ownerOf(currentAdmin: unknown): string | null {
  if (!currentAdmin || typeof currentAdmin !== 'object') return null
  const admin = currentAdmin as { id?: unknown; _id?: unknown; email?: unknown }
  const id = admin.id ?? admin._id ?? admin.email
  if (id === undefined || id === null || id === '') return null
  return String(id)
}
