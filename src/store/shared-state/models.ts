import type { Model, ModelAttributeColumnOptions, ModelStatic, Sequelize } from 'sequelize'

/**
 * The tables every app host shares through the app's own database (via its Sequelize
 * instance, so no second connection pool and no driver of our own):
 *
 * - `<prefix>uploads`: one row per upload — the manifest, the staged object's key, the S3 UploadId,
 *   the state, and the timestamps the conditional updates and the sweep compare.
 * - `<prefix>upload_parts`: one row per part, keyed (upload_id, part_number). The primary key is
 *   what makes a part exclusive across hosts: the row is inserted as a claim before any byte is
 *   sent and turns `held` only once S3 has acknowledged the part with its ETag.
 *
 * - `<prefix>file_keys`: one row per key of a saved file, inserted before the file is copied into
 *   place, so that two Saves can never both write one key (S3-compatible servers need not honour
 *   `If-None-Match` on a copy; s3rver does not).
 * - `<prefix>owner_locks`: one row per admin while a host counts that admin's uploads and creates
 *   one, so that the limits hold across hosts whatever their clocks say (owner-locks.ts).
 *
 * Times are epoch milliseconds in BIGINT columns: the comparisons (lease expired? idle?) are plain
 * integer comparisons on every dialect, and tests can pass their own clock.
 */
export interface UploadRowAttributes {
  id: string
  owner: string
  resource_id: string
  property_path: string
  total_size: number
  manifest: string
  state: string
  object_key: string
  s3_upload_id: string | null
  /**
   * The checksum algorithm the multipart upload was created with ('SHA256'), or null for none:
   * S3 then wants that checksum on every part and in the completion.
   */
  part_checksum: string | null
  create_claimed_at: number | null
  completing_at: number | null
  active_at: number
  created_at: number
  /** JSON of what the route settled once the upload was complete (checksum, hook metadata). */
  completion: string | null
}

export interface PartRowAttributes {
  upload_id: string
  part_number: number
  state: string
  token: string
  claimed_at: number
  etag: string | null
  size: number | null
  /** The SHA-256 (hex) the client sent with the part's verified bytes; null when it sent none. */
  sha256: string | null
}

/** One row per file key the S3 file storage placed (or is placing): who owns the key, across hosts. */
export interface FileKeyRowAttributes {
  key: string
  state: string
  token: string
  claimed_at: number
}

/** Who is counting an owner's uploads now; the owner by hash, since an owner is any string. */
export interface OwnerLockRowAttributes {
  owner_hash: string
  token: string
  claimed_at: number
}

export type UploadModel = ModelStatic<Model<UploadRowAttributes, UploadRowAttributes>>
export type PartModel = ModelStatic<Model<PartRowAttributes, PartRowAttributes>>
export type FileKeyModel = ModelStatic<Model<FileKeyRowAttributes, FileKeyRowAttributes>>
export type OwnerLockModel = ModelStatic<Model<OwnerLockRowAttributes, OwnerLockRowAttributes>>

export interface SharedTables {
  sequelize: Sequelize
  Upload: UploadModel
  Part: PartModel
  FileKey: FileKeyModel
  OwnerLock: OwnerLockModel
}

/**
 * Defines the plugin's models on the app's Sequelize instance and creates just those tables
 * (`Model.sync()`, never `sequelize.sync()`, which would touch the app's own tables).
 * DataTypes come from the app's Sequelize class, so the plugin carries no copy of Sequelize.
 */
export function defineSharedTables(sequelize: Sequelize, tablePrefix = 'resumable_'): Promise<SharedTables> {
  // Several features of one app open their storage at once on one Sequelize: one creation for
  // them all, as concurrent CREATE TABLEs on PostgreSQL fail on its catalog's unique index.
  let defined = definitions.get(sequelize)
  if (!defined) definitions.set(sequelize, defined = new Map())
  let tables = defined.get(tablePrefix)
  if (!tables) {
    tables = createSharedTables(sequelize, tablePrefix)
    defined.set(tablePrefix, tables)
    tables.catch(() => defined.delete(tablePrefix))
  }
  return tables
}

const definitions = new WeakMap<Sequelize, Map<string, Promise<SharedTables>>>()

async function createSharedTables(sequelize: Sequelize, tablePrefix: string): Promise<SharedTables> {
  const { DataTypes } = sequelize.constructor as unknown as typeof import('sequelize')
  const uploadName = `${tablePrefix}uploads`
  const partName = `${tablePrefix}upload_parts`
  const Upload = (sequelize.isDefined(uploadName)
    ? sequelize.model(uploadName)
    : sequelize.define(
        uploadName,
        {
          id: { type: DataTypes.STRING(64), primaryKey: true },
          owner: { type: DataTypes.STRING(255), allowNull: false },
          resource_id: { type: DataTypes.STRING(255), allowNull: false },
          property_path: { type: DataTypes.STRING(255), allowNull: false },
          total_size: { type: DataTypes.BIGINT, allowNull: false },
          manifest: { type: DataTypes.TEXT, allowNull: false },
          state: { type: DataTypes.STRING(16), allowNull: false },
          object_key: { type: DataTypes.STRING(1024), allowNull: false },
          s3_upload_id: { type: DataTypes.STRING(1024), allowNull: true },
          part_checksum: { type: DataTypes.STRING(16), allowNull: true },
          create_claimed_at: { type: DataTypes.BIGINT, allowNull: true },
          completing_at: { type: DataTypes.BIGINT, allowNull: true },
          active_at: { type: DataTypes.BIGINT, allowNull: false },
          created_at: { type: DataTypes.BIGINT, allowNull: false },
          completion: { type: DataTypes.TEXT, allowNull: true },
        },
        { tableName: uploadName, timestamps: false, indexes: [{ fields: ['state', 'active_at'] }, { fields: ['owner'] }] },
      )) as UploadModel
  const Part = (sequelize.isDefined(partName)
    ? sequelize.model(partName)
    : sequelize.define(
        partName,
        {
          upload_id: { type: DataTypes.STRING(64), primaryKey: true },
          part_number: { type: DataTypes.INTEGER, primaryKey: true },
          state: { type: DataTypes.STRING(8), allowNull: false },
          token: { type: DataTypes.STRING(32), allowNull: false },
          claimed_at: { type: DataTypes.BIGINT, allowNull: false },
          etag: { type: DataTypes.STRING(128), allowNull: true },
          size: { type: DataTypes.BIGINT, allowNull: true },
          sha256: { type: DataTypes.STRING(64), allowNull: true },
        },
        { tableName: partName, timestamps: false },
      )) as PartModel
  const keyName = `${tablePrefix}file_keys`
  const FileKey = (sequelize.isDefined(keyName)
    ? sequelize.model(keyName)
    : sequelize.define(
        keyName,
        {
          key: { type: DataTypes.STRING(1200), primaryKey: true },
          state: { type: DataTypes.STRING(8), allowNull: false },
          token: { type: DataTypes.STRING(32), allowNull: false },
          claimed_at: { type: DataTypes.BIGINT, allowNull: false },
        },
        { tableName: keyName, timestamps: false },
      )) as FileKeyModel
  const ownerLockName = `${tablePrefix}owner_locks`
  const OwnerLock = (sequelize.isDefined(ownerLockName)
    ? sequelize.model(ownerLockName)
    : sequelize.define(
        ownerLockName,
        {
          owner_hash: { type: DataTypes.STRING(64), primaryKey: true },
          token: { type: DataTypes.STRING(32), allowNull: false },
          claimed_at: { type: DataTypes.BIGINT, allowNull: false },
        },
        { tableName: ownerLockName, timestamps: false },
      )) as OwnerLockModel
  for (const model of [Upload, Part, FileKey, OwnerLock]) await syncOnce(model)
  await addMissingColumn(sequelize, partName, 'sha256', { type: DataTypes.STRING(64), allowNull: true })
  await addMissingColumn(sequelize, uploadName, 'part_checksum', { type: DataTypes.STRING(16), allowNull: true })
  return { sequelize, Upload, Part, FileKey, OwnerLock }
}

/** Two hosts starting at once may both try CREATE TABLE: the loser's error is harmless once the table exists. */
async function syncOnce(model: ModelStatic<Model>): Promise<void> {
  try {
    await model.sync()
  } catch (error) {
    await model.sync().catch(() => {
      throw error
    })
  }
}

/**
 * `Model.sync()` never changes a table that exists: a column added in a later version is added here,
 * so an app upgrading keeps its tables. Two hosts racing may both try; the loser finds it there.
 */
async function addMissingColumn(sequelize: Sequelize, table: string, column: string, definition: ModelAttributeColumnOptions): Promise<void> {
  const queries = sequelize.getQueryInterface()
  if (column in (await queries.describeTable(table))) return
  try {
    await queries.addColumn(table, column, definition)
  } catch (error) {
    if (!(column in (await queries.describeTable(table)))) throw error
  }
}

/** Sequelize gives BIGINT back as a string on PostgreSQL and as a number on SQLite. */
export function int(value: unknown): number {
  return value === null || value === undefined ? NaN : Number(value)
}
