import type { DirectUploads } from './direct.js'
import type { FileStorage } from './file-storage.js'
import type { StagingStore } from './staging.js'

/** A staging store and a file storage: the two halves of a storage backend. */
export interface StorageBackend {
  staging: StagingStore
  files: FileStorage
  /** Present when browsers send the chunks straight to the object store instead of through the app. */
  direct?: DirectUploads
}
