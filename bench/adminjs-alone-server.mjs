// The example app WITHOUT adminjs-resumable: the same AdminJS resource, Sequelize on SQLite, session
// store and @adminjs/express router, so that the bench can show what AdminJS itself occupies before
// any upload (its "idle" row). Prints `LISTENING <port>` like example-app/server.js.
import AdminJS, { ComponentLoader } from 'adminjs'
import AdminJSExpress from '@adminjs/express'
import * as AdminJSSequelize from '@adminjs/sequelize'
import express from 'express'
import session from 'express-session'
import connectSessionSequelize from 'connect-session-sequelize'
import { mkdir } from 'node:fs/promises'
import { dirname } from 'node:path'
import { accounts, connect, defineDocument } from '../example-app/app.js'

AdminJS.registerAdapter({ Resource: AdminJSSequelize.Resource, Database: AdminJSSequelize.Database })

await mkdir(dirname(process.env.DATABASE_FILE), { recursive: true })
const sequelize = connect()
const Document = defineDocument(sequelize)
const SequelizeStore = connectSessionSequelize(session.Store)
const store = new SequelizeStore({ db: sequelize, tableName: 'Sessions', checkExpirationInterval: 15 * 60 * 1000 })
await sequelize.sync()
await store.sync()
const admin = new AdminJS({ rootPath: '/admin', componentLoader: new ComponentLoader(), resources: [{ resource: Document, options: { id: 'Document' } }] })
const users = accounts()
const router = AdminJSExpress.buildAuthenticatedRouter(admin, {
  cookieName: 'adminjs',
  cookiePassword: 'bench-adminjs-alone-session-secret-0123456789',
  authenticate: async (email, password) => {
    const user = users.find((u) => u.email === email && u.password === password)
    return user ? { id: user.id, email: user.email, role: user.role } : null
  },
}, null, { store, resave: false, saveUninitialized: false, rolling: true })
const app = express()
app.use('/admin', router)
const server = app.listen(Number(process.env.PORT || 0), process.env.HOST || '127.0.0.1', (error) => {
  if (error) throw error
  console.log(`LISTENING ${server.address().port}`)
})
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => server.close(() => process.exit(0)))
