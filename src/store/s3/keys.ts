import { InvalidRequest } from '../../errors.js'
import { isUploadId } from '../../protocol/scope.js'

/**
 * Record keys are relative paths (what `uploadPath` gives). On S3 they are not file-system paths,
 * but the same rules hold as on disk, so that one record value means the same file whichever store
 * is configured and a key can never reach the plugin's staging area or climb out of its prefix in
 * tools that treat `/` as folders.
 */
export function checkKey(key: string): string {
  if (typeof key !== 'string' || !key || key.includes('\0') || key.includes('\\') || key.startsWith('/')) {
    throw new InvalidRequest('Invalid storage key.')
  }
  if (key.split('/').some((s) => s === '' || s === '.' || s === '..')) throw new InvalidRequest('Invalid storage key.')
  if (Buffer.byteLength(key) > 900) throw new InvalidRequest('Invalid storage key.')
  return key
}

export function checkUploadId(id: string): string {
  if (!isUploadId(id)) throw new InvalidRequest('Invalid upload id.')
  return id
}

/**
 * Where the object store keeps what the plugin writes: staged uploads under `<prefix>staging/`,
 * finished files under `<prefix><key>`. A key cannot start with `staging/` then, or a file could be
 * mistaken for (and swept as) a staged upload.
 */
export class S3Keys {
  constructor(readonly prefix: string) {
    if (prefix && !prefix.endsWith('/')) throw new RangeError(`The S3 prefix must end with "/" (got ${JSON.stringify(prefix)}).`)
  }

  get stagingPrefix(): string {
    return `${this.prefix}staging/`
  }

  /** A fresh object key for one staged upload: a new one each time the upload starts afresh. */
  staging(id: string, generation: string): string {
    return `${this.stagingPrefix}${checkUploadId(id)}/${generation}`
  }

  file(key: string): string {
    checkKey(key)
    if (key === 'staging' || key.startsWith('staging/')) throw new InvalidRequest('Invalid storage key.')
    return `${this.prefix}${key}`
  }
}
