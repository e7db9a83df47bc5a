import { ConfigurationError } from '../errors.js'
import type { DirectUploads } from '../store/direct.js'

/** A feature whose browsers send chunks straight to the bucket (`storage.s3.upload: 'direct'`). */
export interface DirectMode {
  uploads: DirectUploads
  /**
   * Resolves once the bucket's CORS was found to allow the admin's pages (or could not be read
   * from this server: a warning then shows the policy); rejects with the ConfigurationError that
   * names what is missing. A check the object store could not answer (down at start-up) is made
   * again by the next call.
   */
  corsChecked(): Promise<void>
}

/** Starts the CORS check at once, so that a misconfigured bucket is reported when the app starts. */
export function startDirect(uploads: DirectUploads): DirectMode {
  let checking: Promise<void> | null = null
  const corsChecked = () => {
    checking ??= uploads.checkCors().then(
      ({ check, bucket, policy }) => {
        if (check === 'unverifiable') {
          // MinIO's community edition and some emulators have no bucket CORS API: the rule cannot
          // be read, and refusing to start would make direct uploads impossible there.
          console.warn(`adminjs-resumable: the CORS configuration of bucket ${bucket} cannot be read from this server, so direct uploads `
            + `start unchecked. If uploads fail in the browser with a CORS error, allow this (or the server's equivalent):\n${policy}`)
        }
      },
      (error: unknown) => {
        if (!(error instanceof ConfigurationError)) checking = null
        throw error
      },
    )
    return checking
  }
  corsChecked().catch((error: unknown) => {
    console.error(`adminjs-resumable: direct uploads cannot start: ${error instanceof Error ? error.message : String(error)}`)
  })
  return { uploads, corsChecked }
}
