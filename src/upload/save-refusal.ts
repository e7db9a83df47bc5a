/**
 * A Save refused for a reason the admin can act on (an expired upload, a hook's verdict, a file
 * listed twice): its message is shown on the property as is. Any other error during Save is a
 * fault, logged and answered with a generic message (see GENERIC_SAVE_FAILURE).
 */
export class SaveRefusal extends Error {
  override name = 'SaveRefusal'
}

/** What the admin reads when Save failed on the server's side: no path, no stack. */
export const GENERIC_SAVE_FAILURE = 'The file could not be stored on the server: save again, or upload the file again if that fails too.'

/** The upload went away between the form's check and the Save. */
export const UPLOAD_GONE = 'This upload is no longer on the server (it was cancelled or expired): upload the file again, then save.'
