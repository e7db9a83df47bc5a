// Runs one upload client (bench/resumable-client.mjs or bench/tus-client.mjs) in a process of its
// own, so that what a client costs does not depend on what the bench process did before it: run in
// the bench process, tus-js-client's CPU per 512 MiB went from 0.6-1 s to 2.3-3.6 s and back
// between rounds with the state of the process's heap (bench/RESULTS.md). Each client process
// starts alike, with a young generation fixed at its largest, the steady state in which
// tus-js-client spends least on garbage collection; both clients get the same.
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'

export const CLIENT_NODE_FLAGS = ['--min-semi-space-size=32', '--max-semi-space-size=32']
const self = fileURLToPath(import.meta.url)

/**
 * `client` ('resumable' or 'tus') with `options` (JSON only) in a new process; resolves with its
 * result and `clientCpuS`, the CPU the client process used for the upload alone.
 */
export function inClientProcess(client, options, track = () => undefined) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...CLIENT_NODE_FLAGS, self], { stdio: ['pipe', 'pipe', 'pipe'] })
    track(child)
    let out = ''
    let err = ''
    child.stdout.on('data', (d) => { out += d })
    child.stderr.on('data', (d) => { err += d })
    child.on('error', reject)
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`the ${client} client process exited with ${code}:\n${err.slice(-2000)}`))
      try {
        resolve(JSON.parse(out))
      } catch (error) {
        reject(new Error(`the ${client} client process printed no result (${error.message}):\n${err.slice(-2000)}`))
      }
    })
    child.stdin.end(JSON.stringify({ client, options }))
  })
}

if (process.argv[1] === self) {
  let input = ''
  for await (const d of process.stdin) input += d
  const { client, options } = JSON.parse(input)
  const { uploadResumable } = await import('./resumable-client.mjs')
  const { uploadTus } = await import('./tus-client.mjs')
  const cpu0 = process.cpuUsage()
  const result = client === 'tus' ? await uploadTus(options) : await uploadResumable(options)
  const cpu = process.cpuUsage(cpu0)
  process.stdout.write(JSON.stringify({ ...result, clientCpuS: (cpu.user + cpu.system) / 1e6 }))
}
