// Builds AdminJS's bundle of the example app's components (.adminjs/bundle.js). createApp runs this
// in a child process when the bundle is older than the compiled components; run it by hand with
// `node example-app/bundle-components.js` (from the project root, where AdminJS looks for .adminjs).
import { bundleComponents } from './app.js'

await bundleComponents()
