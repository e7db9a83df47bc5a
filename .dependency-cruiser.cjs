/**
 * The layers of the package, checked by `npm run lint` (dependency-cruiser). Type-only imports count:
 * a cycle through types still ties the files together.
 *
 *   feature (AdminJS hooks)   route (HTTP handlers)
 *            \                /
 *             upload (the lifecycle: no HTTP, no AdminJS hooks)
 *                     |
 *        store, protocol, content, integrity, shared
 */
module.exports = {
  forbidden: [
    { name: 'no-cycle', severity: 'error', comment: 'No import cycle, type-only imports included.', from: {}, to: { circular: true } },
    { name: 'route-not-feature', severity: 'error', comment: 'The routes reach the lifecycle through src/upload, never through the AdminJS hooks.', from: { path: '^src/route/' }, to: { path: '^src/feature/' } },
    { name: 'feature-not-route', severity: 'error', comment: 'The AdminJS hooks reach the lifecycle through src/upload, never through the routes.', from: { path: '^src/feature/' }, to: { path: '^src/route/' } },
    { name: 'upload-is-below', severity: 'error', comment: 'The lifecycle knows neither HTTP nor the AdminJS hooks.', from: { path: '^src/upload/' }, to: { path: '^src/(route|feature|guard)/' } },
    { name: 'upload-knows-no-http', severity: 'error', comment: 'The lifecycle is called by handlers and hooks; requests and responses stay with them.', from: { path: '^src/(upload|store)/' }, to: { path: '^(node_modules/(express|busboy|express-session)/|node:http|http$)' } },
    { name: 'store-is-below', severity: 'error', comment: 'Storage knows nothing of who uses it: the file hash thread and the previews are built on it.', from: { path: '^src/store/' }, to: { path: '^src/(route|feature|upload|integrity|preview)/' } },
    { name: 'protocol-not-store', severity: 'error', comment: 'The wire protocol does not depend on storage.', from: { path: '^src/protocol/' }, to: { path: '^src/store/' } },
    { name: 'nothing-on-example-app', severity: 'error', comment: 'The example app is a demo: nothing of the package imports it.', from: { pathNot: '^(example-app|test)/' }, to: { path: '^example-app/' } },
    { name: 'tests-not-on-example-app', severity: 'error', comment: 'Tests build their apps from the fixtures in test/support; only the example app\'s own test may import it.', from: { path: '^test/', pathNot: '^test/example-app\\.test\\.ts$' }, to: { path: '^example-app/' } },
    { name: 'components-only-shared', severity: 'error', comment: 'Browser code shares only src/shared with the server.', from: { path: '^components/' }, to: { path: '^src/', pathNot: '^src/shared/' } },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)(dist|lib)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
}
