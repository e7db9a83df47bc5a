import type AdminJS from 'adminjs'
import type { BaseResource, CurrentAdmin } from 'adminjs'
import type { Request } from 'express'
import { Forbidden, NotAuthenticated, NotFound } from '../errors.js'
import { findFeature, type RegisteredFeature } from '../upload/registry.js'
import { ownerOf, type UploadScope } from '../protocol/scope.js'

export interface Target {
  feature: RegisteredFeature
  resource: BaseResource
  currentAdmin: CurrentAdmin
  scope: UploadScope
}

type Session = { adminUser?: CurrentAdmin }

/**
 * Who is asking and for which property: the AdminJS session (401 without one), the resource and a
 * property that carries our feature (404 otherwise). Permission checks are the caller's: uploading
 * needs `new` or `edit`, downloading needs `show` on the record.
 */
export function resolveTarget(admin: AdminJS, req: Request): Target {
  const currentAdmin = (req as Request & { session?: Session }).session?.adminUser
  const owner = ownerOf(currentAdmin)
  if (!currentAdmin || !owner) throw new NotAuthenticated('Your admin session has expired or you are not logged in: log in again.')
  const { resourceId, propertyPath } = req.params as Record<string, string>
  let resource: BaseResource
  try {
    resource = admin.findResource(resourceId)
  } catch {
    throw new NotFound(`There is no resource "${resourceId}".`)
  }
  const property = resource.decorate().getPropertyByKey(propertyPath)
  const feature = findFeature(admin, (property?.options.custom as { featureId?: unknown } | undefined)?.featureId)
  if (!feature || feature.mapping.file !== propertyPath) {
    throw new NotFound(`Resource "${resourceId}" has no resumable file property "${propertyPath}".`)
  }
  return { feature, resource, currentAdmin, scope: { owner, resourceId: resource.decorate().id(), propertyPath } }
}

export function assertCanUpload(target: Target): void {
  const { actions } = target.resource.decorate()
  const allowed = ['new', 'edit'].some((name) => actions[name]?.isAccessible(target.currentAdmin))
  if (!allowed) throw new Forbidden('You may not upload files to this resource.')
}

/** Cross-site HTML forms cannot send this header, so its presence proves a same-origin script. */
export function assertXhr(req: Request): void {
  if (req.get('x-requested-with') !== 'XMLHttpRequest') {
    throw new Forbidden('Missing header X-Requested-With: XMLHttpRequest.')
  }
}
