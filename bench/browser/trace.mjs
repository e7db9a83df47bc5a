// Chromium's performance trace of a browser row (--browser-trace): where the browser's time went,
// per process and thread, and by event on the page's main thread.
import { mkdir, writeFile } from 'node:fs/promises'
import { dirname } from 'node:path'

export const TRACE_CATEGORIES = [
  'devtools.timeline', 'disabled-by-default-devtools.timeline', 'v8', 'v8.execute', 'blink', 'cc', 'viz', 'toplevel',
  'disabled-by-default-devtools.timeline.frame', 'loading', 'netlog', 'mojom',
]

/** Events on a main thread worth adding up (their own durations nest, so they are listed, not summed). */
const MAIN_THREAD_EVENTS = new Set([
  'FunctionCall', 'EvaluateScript', 'v8.callFunction', 'TimerFire', 'XHRReadyStateChange', 'XHRLoad', 'EventDispatch', 'RunMicrotasks',
  'UpdateLayoutTree', 'Layout', 'PrePaint', 'Paint', 'Layerize', 'Commit', 'UpdateLayer', 'HitTest', 'ParseHTML', 'ParseAuthorStyleSheet',
  'MajorGC', 'MinorGC', 'V8.GC_SCAVENGER', 'V8.GC_MARK_COMPACTOR', 'BlinkGC.AtomicPhase', 'FireAnimationFrame', 'Animation',
  'ScheduleStyleRecalculation', 'InvalidateLayout', 'BeginMainThreadFrame', 'ThreadControllerImpl::RunTask',
])

/**
 * Sums a trace's complete events ('X'): per thread (process label / thread name) the time of its
 * tasks (`RunTask`; thread CPU time where the trace has it), and on renderer main threads the time of
 * each of MAIN_THREAD_EVENTS.
 */
export function summarizeTrace(trace) {
  const events = trace.traceEvents ?? trace
  const threadNames = new Map()
  const processNames = new Map()
  for (const e of events) {
    if (e.ph !== 'M') continue
    if (e.name === 'thread_name') threadNames.set(`${e.pid}:${e.tid}`, e.args?.name)
    if (e.name === 'process_name') processNames.set(e.pid, e.args?.name)
    if (e.name === 'process_labels') processNames.set(e.pid, `${processNames.get(e.pid) ?? ''} ${e.args?.labels ?? ''}`.trim())
  }
  const perThread = new Map()
  const perEvent = new Map()
  const add = (map, key, value) => map.set(key, (map.get(key) ?? 0) + value)
  for (const e of events) {
    if (e.ph !== 'X' || !e.dur) continue
    const key = `${e.pid}:${e.tid}`
    const thread = `${processNames.get(e.pid) ?? e.pid} / ${threadNames.get(key) ?? e.tid}`
    // Only the outer task event: ThreadControllerImpl::RunTask runs inside it, and counting both about doubles a thread's time.
    if (e.name === 'RunTask') add(perThread, thread, (e.tdur ?? e.dur) / 1000)
    if (threadNames.get(key) === 'CrRendererMain' && MAIN_THREAD_EVENTS.has(e.name)) add(perEvent, e.name, e.dur / 1000)
  }
  const sorted = (map) => [...map.entries()].sort((a, b) => b[1] - a[1]).map(([k, v]) => [k, Math.round(v)])
  return { threadsMs: sorted(perThread).slice(0, 15), mainThreadEventsMs: sorted(perEvent).slice(0, 25) }
}

/** Starts a trace of `page`; stop() saves it to `path` and returns its summary. */
export async function traceOf(browser, page, path) {
  await browser.startTracing(page, { categories: TRACE_CATEGORIES, screenshots: false })
  return {
    async stop() {
      const buffer = await browser.stopTracing()
      await mkdir(dirname(path), { recursive: true })
      await writeFile(path, buffer)
      return summarizeTrace(JSON.parse(buffer.toString('utf8')))
    },
  }
}
