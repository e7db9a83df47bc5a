/**
 * Whether the storage still holds a saved file, asked of the download route with a one-byte range:
 * a record can name a file that is gone (removed by hand, or the storage switched from disk to S3
 * on the same database), and a broken image or a 404 page tells the person nothing.
 */
import { useEffect, useState } from 'react'

import { ERROR_CODE } from '../src/shared/error-codes.js'
import { parseAnswer, REQUEST_HEADERS } from './protocol.js'

export type FileStatus = 'checking' | 'present' | 'missing' | 'unknown'

/** The status a download answer means; only the route's own `file_missing` is "missing". */
export function statusOf(status: number, type: string, body: string): FileStatus {
  // S3: the route redirects to a presigned URL only after finding the file.
  if (type === 'opaqueredirect' || (status >= 200 && status < 300) || status === 416) return 'present'
  return status === 404 && parseAnswer(body)?.code === ERROR_CODE.fileMissing ? 'missing' : 'unknown'
}

export async function fetchFileStatus(url: string): Promise<FileStatus> {
  try {
    const response = await fetch(url, {
      headers: { ...REQUEST_HEADERS, Range: 'bytes=0-0' }, credentials: 'same-origin', redirect: 'manual',
    })
    const body = response.status === 404 ? await response.text() : ''
    return statusOf(response.status, response.type, body)
  } catch {
    return 'unknown'
  }
}

/** The file's status, checked once per URL; `enabled` false skips the request ('unknown'). */
export function useFileStatus(url: string | undefined, enabled = true): FileStatus {
  const [status, setStatus] = useState<FileStatus>(url && enabled ? 'checking' : 'unknown')
  useEffect(() => {
    if (!url || !enabled) return undefined
    let live = true
    setStatus('checking')
    void fetchFileStatus(url).then((s) => { if (live) setStatus(s) })
    return () => { live = false }
  }, [url, enabled])
  return status
}
