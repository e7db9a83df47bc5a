/**
 * What a direct upload's requests cost the app, on a real database (SQLite and PostgreSQL) and a
 * real S3 server: the statements on the upload tables are counted with Sequelize's logging hook,
 * the bucket requests by the verifying proxy in front of s3rver. A sign or report request reads
 * the upload's row once; which parts are held is answered (and ListParts asked) only when the page
 * asks; one report records many parts. No timing is asserted.
 */
import { afterAll, beforeAll, expect, jest, test } from '@jest/globals'
import type { Sequelize } from 'sequelize'
import { login, startTestApp, type Agent, type TestApp } from './support/app.js'
import { directPath, putPart, report, sign, viaAgent, type DirectTransport } from './support/direct-client.js'
import { fileOf, directSuite, type DirectServers } from './support/direct-servers.js'
import { sha256 } from './support/resumable-client.js'

jest.setTimeout(120_000)

const { suite, postgresUrl, dialects, servers } = directSuite('Queries per direct upload request')
let d: DirectServers
beforeAll(() => {
  d = servers()
})

/** Statements on the plugin's upload tables (the session store's are the app's, not the upload's). */
const onUploads = (sql: string) => /resumable_upload/.test(sql)
const marksActivity = (sql: string) => /^Executing \(default\): UPDATE ["`]resumable_uploads["`] SET ["`]active_at["`]=\S+ WHERE/.test(sql)
const readsUploadRow = (sql: string) => /^Executing \(default\): SELECT .* FROM ["`]resumable_uploads["`]/.test(sql)

for (const dialect of dialects) {
  suite(`queries per direct upload request (${dialect})`, () => {
    let t: TestApp
    let admin: Agent
    let send: DirectTransport
    const statements: string[] = []

    /** The statements on the upload tables that `work` made the app run. */
    async function counted<T>(work: () => Promise<T>): Promise<{ value: T; queries: string[]; rowReads: number; activity: number }> {
      const from = statements.length
      const value = await work()
      const all = statements.slice(from).filter(onUploads)
      // The upload's activity mark is renewed at most once a second, so whether a request renews it depends on the clock.
      const queries = all.filter((sql) => !marksActivity(sql))
      return { value, queries, rowReads: queries.filter(readsUploadRow).length, activity: all.length - queries.length }
    }

    async function putAll(file: ReturnType<typeof fileOf>, signed: Awaited<ReturnType<typeof sign>>) {
      const etags: Array<{ partNumber: number; etag: string }> = []
      for (const part of signed.body.parts) {
        const put = await putPart(file, part)
        expect(put.status).toBe(200)
        etags.push({ partNumber: part.partNumber, etag: String(put.headers.etag) })
      }
      return etags
    }

    beforeAll(async () => {
      t = await startTestApp({ databaseUrl: dialect === 'postgres' ? postgresUrl : null, env: d.env() })
      admin = await login(t.app, 'admin@example.com')
      send = viaAgent(admin)
      // Sequelize reads `options.logging` at every query: from here on every statement is seen.
      ;(t.sequelize as Sequelize & { options: { logging: unknown } }).options.logging = (sql: string) => { statements.push(sql) }
    })
    afterAll(async () => {
      await t?.close()
    })

    test('a sign request of an upload under way reads its row once and writes its digests in one insert; a report reads the row once', async () => {
      const file = fileOf(6)
      const first = await sign(send, file, [1, 2, 3], true, true)
      expect(first.body).toMatchObject({ status: 'signed', held: [] })
      const later = await counted(() => sign(send, file, [4, 5, 6], true))
      expect(later.value.status).toBe(200)
      expect(later.value.body.parts.map((p) => p.partNumber)).toEqual([4, 5, 6])
      expect(later.rowReads).toBe(1)
      // The row and the digests' insert (and at most the upload's activity mark).
      expect(later.queries).toHaveLength(2)
      expect(later.activity).toBeLessThanOrEqual(1)
      const etags = [...await putAll(file, first), ...await putAll(file, later.value)]
      const partial = await counted(() => report(send, file, etags.slice(0, 3)))
      expect(partial.value.body).toEqual({ status: 'partial', held: [1, 2, 3] })
      expect(partial.rowReads).toBe(1)
      // The row, the digests signed, the parts' upsert, the parts held (and at most the activity mark).
      expect(partial.queries).toHaveLength(4)
      expect(partial.activity).toBeLessThanOrEqual(1)
      const whole = await counted(() => report(send, file, etags.slice(3), sha256(file.data)))
      expect(whole.value.body).toMatchObject({ status: 'complete' })
    })

    test('which parts are held is answered only when asked, and only then is the bucket asked for its parts', async () => {
      const file = fileOf(4)
      const first = await sign(send, file, [1, 2], true, true)
      const etags = await putAll(file, first)
      expect((await report(send, file, etags)).body).toEqual({ status: 'partial', held: [1, 2] })
      const listParts = (from: number) => d.proxy.forwarded.slice(from).filter((r) => r.method === 'GET' && /[?&]uploadId=/.test(r.url))
      const before = d.proxy.forwarded.length
      const unasked = await sign(send, file, [3, 4], true)
      expect(unasked.status).toBe(200)
      expect(unasked.body.held).toBeUndefined()
      expect(unasked.body.parts.map((p) => p.partNumber)).toEqual([3, 4])
      expect(listParts(before)).toEqual([])
      // A page after a reload asks: the parts the upload holds, from the tables, confirmed by
      // ListParts where the bucket has it (s3rver answers 405, so the tables' word stands).
      const asked = await sign(send, file, [3, 4], true, true)
      expect(asked.body.held).toEqual([1, 2])
      expect(listParts(before)).toHaveLength(1)
      const wrong = await send(directPath(file, 'sign'), { parts: [{ partNumber: 3 }], held: 'yes' })
      expect(wrong.status).toBe(400)
      expect(wrong.body.message).toMatch(/"held" must be true or false/)
    })

    test('one report records many parts: every ETag of a batch held after one request', async () => {
      const file = fileOf(8)
      const signed = await sign(send, file, [1, 2, 3, 4, 5, 6, 7, 8], false, true)
      const etags = await putAll(file, signed)
      const one = await counted(() => report(send, file, etags.slice(0, 7)))
      expect(one.value.body).toEqual({ status: 'partial', held: [1, 2, 3, 4, 5, 6, 7] })
      expect(one.rowReads).toBe(1)
      expect((await report(send, file, etags.slice(7))).body).toMatchObject({ status: 'complete' })
    })
  })
}
