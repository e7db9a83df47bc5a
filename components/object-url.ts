import { useEffect, useState } from 'react'

/** A blob URL of a picked image for its row's thumbnail, revoked when the row goes. */
export function useObjectUrl(file: File | null | undefined): string | null {
  const [url, setUrl] = useState<string | null>(null)
  useEffect(() => {
    if (!file || !/^image\//.test(file.type) || typeof URL.createObjectURL !== 'function') {
      setUrl(null)
      return undefined
    }
    const made = URL.createObjectURL(file)
    setUrl(made)
    return () => URL.revokeObjectURL(made)
  }, [file])
  return url
}
