// Headless Debian Chromium for the browser rows of the bench, and the CPU time of its processes.
import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs'
import { spawnSync } from 'node:child_process'
import { chromium } from 'playwright-core'

/** The Debian Chromium, as the browser tests use it; never a downloaded browser. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH || '/usr/bin/chromium'
const FLAGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
]
const CLOCK_TICKS = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100

/** Why the browser rows cannot run here, or null. */
export function chromiumMissing() {
  return existsSync(CHROMIUM_PATH) ? null : `Chromium not found at ${CHROMIUM_PATH} (apt-get install -y chromium, or set CHROMIUM_PATH)`
}

function stat(pid) {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const fields = text.slice(text.lastIndexOf(') ') + 2).split(' ')
    // Counted after "pid (comm) ": ppid is field 4 of stat(5), utime..cstime fields 14-17.
    return { ppid: Number(fields[1]), ticks: Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]) }
  } catch {
    return null
  }
}

/**
 * The Chromium processes this bench process started (Playwright spawns the browser as our child;
 * the browser forks zygotes, renderers and utility processes below it), by pid, with their CPU ticks.
 * A child's time moves into its parent's cutime/cstime only when it exits and is reaped, so adding
 * both for every live process counts each tick once.
 */
function chromiumTree() {
  const all = new Map()
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue
    const s = stat(name)
    if (s) all.set(Number(name), s)
  }
  const isChromium = (pid) => {
    try { return /chrom/i.test(readlinkSync(`/proc/${pid}/exe`)) } catch { return false }
  }
  const tree = new Map()
  for (const [pid, s] of all) {
    let p = pid
    let inTree = false
    for (let depth = 0; depth < 16 && p > 1; depth++) {
      const parent = all.get(p)?.ppid
      if (parent === process.pid) { inTree = isChromium(p); break }
      p = parent
    }
    if (inTree) tree.set(pid, s.ticks)
  }
  return tree
}

/** From now on, the CPU seconds of Chromium's processes: `seconds()` adds what each used since (a process gone meanwhile counts in its parent). */
export function chromiumCpu() {
  const before = chromiumTree()
  return {
    processes: before.size,
    seconds() {
      const after = chromiumTree()
      let ticks = 0
      for (const [pid, t] of after) ticks += t - (before.get(pid) ?? 0)
      return ticks / CLOCK_TICKS
    },
  }
}

/** A fresh Chromium with a fresh context: nothing cached from an earlier run. */
export async function launchChromium() {
  const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: FLAGS })
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } })
  return {
    browser,
    context,
    version: browser.version(),
    async close() {
      await context.close().catch(() => undefined)
      await browser.close().catch(() => undefined)
    },
  }
}
