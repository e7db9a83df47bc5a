// @tus/server + @tus/file-store on loopback, as a peer. Env: TUS_DIR (datastore), PORT (0), HOST.
import http from 'node:http'
import { Server } from '@tus/server'
import { FileStore } from '@tus/file-store'

const directory = process.env.TUS_DIR
if (!directory) throw new Error('TUS_DIR is required')
const tus = new Server({ path: '/files', datastore: new FileStore({ directory }) })
const server = http.createServer((req, res) => tus.handle(req, res))
server.requestTimeout = 0
server.keepAliveTimeout = 65_000
server.listen(Number(process.env.PORT || 0), process.env.HOST || '127.0.0.1', () => {
  console.log(`LISTENING ${server.address().port}`)
})
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.exit(0))
