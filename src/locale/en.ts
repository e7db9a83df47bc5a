/**
 * The components' English wording, in AdminJS's locale layout: `tm('resumable.uploading')` looks up
 * `messages.resumable.uploading`, `tb('resumable.pause')` `buttons.resumable.pause`. Each component
 * passes the same English text as its fallback (test/translations.test.ts keeps both equal), so
 * an app that never merges these still reads English.
 */
export const en = {
  messages: {
    resumable: {
      unsupported: 'This browser cannot upload files in chunks.',
      dropHere: 'Drop a file here or click to choose one',
      dropReplace: 'Drop a file here or click to choose one to replace the current file',
      maxSize: 'up to {{max}}',
      currentFile: 'Current file:',
      willBeReplaced: 'It will be replaced by the new file when you press Save.',
      willBeRemoved: 'The file will be removed when you press Save.',
      uploading: 'Uploading…',
      finishing: 'Finishing…',
      paused: 'Paused',
      uploaded: 'Uploaded — press Save to attach',
      failed: 'Upload failed',
      inProgress: 'Upload in progress — Save will be refused until it completes',
      unfinishedTitle: 'Unfinished uploads',
      unfinishedComplete: '{{name}}, uploaded, started {{started}}: pick the file again to attach it, or discard',
      unfinishedPartial: '{{name}}, {{percent}} %, started {{started}}: pick the file again to continue, or discard',
      unfinishedFile: '({{size}}, last modified {{modified}})',
      unfinishedChanged: 'The file you picked was modified since this upload started: it is uploaded from the start.',
      ago: '{{time}} ago',
      justNow: 'just now',
      discardFailed: 'The upload could not be discarded. Try again.',
      dropMany: 'Drop files or folders here or click to choose files',
      inProgressMany: 'Uploads in progress — Save will be refused until they complete',
      fileCountOne: '1 file',
      fileCount: '{{count}} files',
      folder: 'from',
      retrying: 'Connection problem or server busy — retrying ({{count}})…',
      restarting: 'The upload expired on the server — starting again.',
      speed: 'Speed',
      timeLeft: 'Time left',
      progressLabel: 'Upload of {{name}}',
      progressValue: '{{percent}} % ({{done}} of {{total}})',
      emptyFile: 'The file is empty.',
      oneFile: 'Drop one file only.',
      tooLarge: 'The file is too large: at most {{max}} allowed.',
      extensionNotAllowed: 'This kind of file is not allowed. Allowed extensions: {{list}}.',
      typeNotAllowed: 'This type of file is not allowed. Allowed types: {{list}}.',
      uploadFailed: 'The upload failed. Check your connection and try again.',
      sessionExpired: 'Your session has expired — log in again',
      notConfirmed: 'The server did not confirm the upload. Try again.',
      serverSaid: 'The server said: {{message}}',
      logIn: 'Log in (opens a new tab)',
      size: 'Size',
      type: 'Type',
      noFile: 'No file',
      preview: 'Preview of {{name}}',
      openInBrowser: 'Open in the browser',
      cannotPlay: 'This browser cannot play the file: download it instead.',
      errors: {
        invalid_request: 'The server refused the request as malformed.',
        not_authenticated: 'Your session has expired — log in again',
        forbidden: 'You may not upload files here.',
        not_found: 'The server does not know this upload or property.',
        method_not_allowed: 'The server refused the request.',
        conflict: 'The server holds another upload under this name: choose the file again.',
        expired: 'The upload expired on the server: start it again.',
        too_large: 'The file is too large for the server.',
        type_not_allowed: 'The server does not accept this type of file.',
        chunk_busy: 'The server is busy with this part of the file.',
        chunk_digest_mismatch: 'A part of the file arrived damaged at the server.',
        storage_failure: 'The server could not store the file.',
        upload_refused: 'The server refused the file.',
        cross_site: 'The server refused a request from another site.',
        storage_unavailable: 'The storage is unavailable for a moment: the upload retries.',
        too_many_uploads: 'You have too many unfinished uploads: save or cancel one first.',
        range_not_satisfiable: 'The server could not send that part of the file.',
      },
    },
  },
  buttons: {
    resumable: {
      pickAgain: 'Pick the file',
      pause: 'Pause',
      resume: 'Resume',
      cancel: 'Cancel',
      discard: 'Discard',
      chooseAnother: 'Choose another file',
      retry: 'Retry',
      clear: 'Remove',
      undo: 'Undo',
      download: 'Download',
    },
  },
} as const

/** The shape every locale of the feature has: the same keys as English, any wording. */
export type ResumableTranslation = {
  [K in keyof typeof en]: { resumable: Widen<(typeof en)[K]['resumable']> }
}

type Widen<T> = { [K in keyof T]: T[K] extends string ? string : Widen<T[K]> }
