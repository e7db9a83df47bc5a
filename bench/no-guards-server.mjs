// The example app with the cross-site guard and the body guard left out (bench only: the row
// `ours-noguards`), everything else as `npm start` runs it: what the guards cost per chunk request.
// buildAuthenticatedRouter installs them with router.use(crossSiteGuard) and router.use(bodyGuard);
// this drops exactly those two calls.
import express from 'express'

const SKIPPED = new Set(['crossSiteGuard', 'bodyGuard'])
// The object that owns `use` for every router (each router's own prototype is a fresh instance).
let routerPrototype = Object.getPrototypeOf(express.Router())
while (!Object.hasOwn(routerPrototype, 'use')) routerPrototype = Object.getPrototypeOf(routerPrototype)
const use = routerPrototype.use
routerPrototype.use = function useWithoutGuards(...args) {
  if (args.length === 1 && typeof args[0] === 'function' && SKIPPED.has(args[0].name)) return this
  return use.apply(this, args)
}
await import('../example-app/server.js')
