// Starts the example app: `npm start` from the project root.
import { guardHttpServer } from 'adminjs-resumable'
import { createApp, accounts } from './app.js'

const port = Number(process.env.PORT || 3000)
const { app, storedIn, close } = await createApp()
const host = process.env.HOST || '127.0.0.1'
// Express 5 hands listen errors (port in use, no permission) to this callback instead of throwing.
const server = app.listen(port, host, (error) => {
  if (error) {
    const hint = error.code === 'EADDRINUSE' ? ': something else is listening there; set PORT to another port'
      : error.code === 'EACCES' ? ': not allowed to listen there; set PORT above 1023' : ''
    console.error(`adminjs-resumable example app: cannot listen on ${host}:${port} (${error.code ?? error.message})${hint}.`)
    process.exit(1)
  }
  const address = server.address()
  const url = `http://${address.address}:${address.port}/admin`
  console.log(`adminjs-resumable example app: ${url}`)
  console.log(`files are stored in ${storedIn}`)
  const defaults = accounts().filter((a) => a.password === 'password')
  for (const account of accounts()) console.log(`  log in as ${account.email} (${account.role})`)
  if (defaults.length) {
    console.warn(`WARNING: ${defaults.map((a) => a.email).join(', ')} use the default password "password";`
      + ' set ADMIN_PASSWORD, EDITOR_PASSWORD and VIEWER_PASSWORD before exposing this app.')
  }
  console.log(`LISTENING ${address.port}`)
})
// An idle timeout per connection instead of a total one (a slow chunk that keeps making progress is
// never cut), keep-alive longer than typical proxies', and `100 Continue` only for requests whose
// body is going to be read.
guardHttpServer(server)
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => server.close(() => close().finally(() => process.exit(0))))
}
