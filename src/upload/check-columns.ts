import type AdminJS from 'adminjs'
import type { BaseResource } from 'adminjs'
import { ConfigurationError } from '../errors.js'
import { findFeature, type RegisteredFeature } from './registry.js'

const COLUMN_OPTIONS = ['key', 'filename', 'size', 'mimeType', 'relativePath', 'checksum', 'metadata'] as const

/** Every resource property that carries one of our features, with that feature. */
function featuresOnResource(admin: AdminJS, resource: BaseResource): RegisteredFeature[] {
  return Object.values(resource.decorate().properties)
    .map((property) => findFeature(admin, (property.options.custom as { featureId?: unknown } | undefined)?.featureId))
    .filter((feature): feature is RegisteredFeature => !!feature)
}

/**
 * Checks that every column a feature fills exists on its resource. The feature cannot: it is built
 * before AdminJS knows its resource, and the property options it declares for these columns make
 * AdminJS show them as (virtual) properties even when the database has no such column, and an
 * adapter drops values for columns it does not know: Save would succeed and the record would not
 * point at its file. So this asks the adapter (`resource.property()`), once all
 * resources are known, when the router is built.
 */
export function assertFeatureColumns(admin: AdminJS): void {
  for (const resource of admin.resources) {
    for (const feature of featuresOnResource(admin, resource)) {
      for (const option of COLUMN_OPTIONS) {
        const column = feature.mapping[option]
        // The adapter's own lookup, so that paths it resolves itself (nested ones) are accepted.
        if (column === undefined || resource.property(column)) continue
        const columns = resource.properties().map((property) => property.path())
        throw new ConfigurationError(`properties.${option}`, `names "${column}", which resource "${resource.decorate().id()}" does not have`
          + ` (its columns: ${columns.join(', ')})`)
      }
    }
  }
}
