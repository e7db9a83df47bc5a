// Starts the example app: `npm start` from the project root.
import { createApp, accounts } from './app.js'

const port = Number(process.env.PORT || 3000)
const { app, uploadDir } = await createApp()
const server = app.listen(port, process.env.HOST || '127.0.0.1', () => {
  const address = server.address()
  const url = `http://${address.address}:${address.port}/admin`
  console.log(`adminjs-resumable example app: ${url}`)
  console.log(`files are stored under ${uploadDir}`)
  const defaults = accounts().filter((a) => a.password === 'password')
  for (const account of accounts()) console.log(`  log in as ${account.email} (${account.role})`)
  if (defaults.length) {
    console.warn(`WARNING: ${defaults.map((a) => a.email).join(', ')} use the default password "password";`
      + ' set ADMIN_PASSWORD, EDITOR_PASSWORD and VIEWER_PASSWORD before exposing this app.')
  }
  console.log(`LISTENING ${address.port}`)
})
// No timeout on long chunk uploads over slow links; keep-alive longer than typical proxies'.
server.requestTimeout = 0
server.keepAliveTimeout = 65_000
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => server.close(() => process.exit(0)))
