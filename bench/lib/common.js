'use strict'
// Shared helpers of the benchmark: statistics, child processes, paths.

const path = require('path')
const fs = require('fs')
const { spawn, spawnSync } = require('child_process')

const ROOT = path.join(__dirname, '..', '..')
const REFERENCE = require.resolve('wx-server-sdk', { paths: [ROOT] })

function quantile(values, q) {
  if (values.length === 0) return NaN
  const s = [...values].sort((a, b) => a - b)
  const pos = (s.length - 1) * q
  const lo = Math.floor(pos)
  const hi = Math.ceil(pos)
  return s[lo] + (s[hi] - s[lo]) * (pos - lo)
}
const median = (v) => quantile(v, 0.5)

/** {median, p10, p90, min, max, n} of a sample. */
function summary(values) {
  return {
    median: median(values),
    p10: quantile(values, 0.1),
    p90: quantile(values, 0.9),
    min: Math.min(...values),
    max: Math.max(...values),
    n: values.length,
  }
}

/**
 * An interval that holds the median of the distribution `values` come from
 * with at least 95% confidence, from their order statistics alone (no
 * assumption about that distribution): {low, high, confidence}, or null
 * when there are too few values (fewer than 6) for any such interval.
 * For 9 values it is the 2nd smallest to the 2nd largest (96.1%).
 */
function medianInterval(values) {
  const n = values.length
  // P(Binomial(n, 1/2) <= j), summed term by term.
  let term = 0.5 ** n
  let below = 0
  let k = 0
  for (let j = 0; j < n; j++) {
    below += term
    if (2 * below > 0.05) break
    k = j + 1
    term = (term * (n - j)) / (j + 1)
  }
  if (k === 0) return null
  const s = [...values].sort((a, b) => a - b)
  const confidence = 1 - 2 * (below - term)
  return { low: s[k - 1], high: s[n - k], confidence }
}

/**
 * Run `node script args` with exactly `env` (plus PATH) and collect the last
 * line of stdout that starts with `@@RESULT@@ ` as JSON. Kills the child
 * after `timeoutMs` (bounded: a hung child never hangs the bench). `node`
 * is the command that runs Node (default: this one), e.g. an official Node
 * build on the glibc 2.17 userland (scripts/toolchain.js).
 */
function runChild(script, args, { env = {}, timeoutMs = 60000, nodeArgs = [], node = [process.execPath] } = {}) {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint()
    const child = spawn(node[0], [...node.slice(1), ...nodeArgs, script, ...args], {
      env: { PATH: process.env.PATH, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let out = ''
    let err = ''
    let resultAt = null
    child.stdout.on('data', (c) => {
      out += c
      if (resultAt === null && out.includes('@@RESULT@@ ')) resultAt = process.hrtime.bigint()
    })
    child.stderr.on('data', (c) => (err += c))
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
    child.on('error', reject)
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      const exitedAt = process.hrtime.bigint()
      const line = out
        .split('\n')
        .reverse()
        .find((l) => l.startsWith('@@RESULT@@ '))
      if (!line) {
        reject(new Error(`${path.basename(script)} ${args.join(' ')}: no result (code ${code}, signal ${signal})\n${err.slice(-2000)}`))
        return
      }
      const result = JSON.parse(line.slice('@@RESULT@@ '.length))
      result.wallToResultMs = Number((resultAt || exitedAt) - started) / 1e6
      result.wallToExitMs = Number(exitedAt - started) / 1e6
      resolve(result)
    })
  })
}

/**
 * `n` calls of `call` (each must answer errCode 0), `concurrency` at a time:
 * each worker awaits one call after the other.
 */
async function callLoop(call, n, concurrency) {
  let next = 0
  const worker = async () => {
    while (next < n) {
      next++
      const r = await call()
      if (r.errCode !== 0) throw new Error(`errCode ${r.errCode}`)
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker))
}

/**
 * Client CPU (user + system, and each) and wall time per call (µs) of
 * `calls` calls, `concurrency` at a time, after `warmup` calls not counted.
 */
async function timeCalls(call, { warmup, calls, concurrency }) {
  await callLoop(call, warmup, concurrency)
  const start = process.cpuUsage()
  const t0 = process.hrtime.bigint()
  await callLoop(call, calls, concurrency)
  const cpu = process.cpuUsage(start)
  return {
    cpuUs: (cpu.user + cpu.system) / calls,
    userUs: cpu.user / calls,
    systemUs: cpu.system / calls,
    wallUs: Number(process.hrtime.bigint() - t0) / 1e3 / calls,
  }
}

/** The emulator of `checkout` (its release addon) in its own process (server-proc.js). */
function startEmulatorProcess(checkout = ROOT) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(checkout, 'bench', 'lib', 'server-proc.js'), 'emulator'], { stdio: ['pipe', 'pipe', 'inherit'] })
    let out = ''
    child.stdout.on('data', (c) => {
      out += c
      const line = out.split('\n').find((l) => l.startsWith('@@READY@@ '))
      if (line) resolve({ info: JSON.parse(line.slice(10)), stop: () => child.kill() })
    })
    child.on('exit', (code) => reject(new Error(`emulator exited ${code}`)))
  })
}

/**
 * A bench script's entry point: `node SCRIPT ROLE ...args` runs
 * `roles[ROLE](...args)` (what a child process does; its arguments as
 * text), anything else `main()`. A failure is printed and exits 1.
 */
function runScript(main, roles = {}) {
  const role = Object.hasOwn(roles, process.argv[2]) ? roles[process.argv[2]] : null
  Promise.resolve()
    .then(() => (role ? role(...process.argv.slice(3)) : main()))
    .catch((e) => {
      console.error(e)
      process.exit(1)
    })
}

/** Print the result line a child reports to the orchestrator. */
function report(result) {
  process.stdout.write(`\n@@RESULT@@ ${JSON.stringify(result)}\n`)
}

/** CPU seconds (user + system) a process has used, from /proc (Linux). */
function cpuSecondsOf(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    const ticks = Number(fields[11]) + Number(fields[12])
    return ticks / 100 // USER_HZ is 100 on Linux
  } catch (_) {
    return NaN
  }
}

/**
 * `cargo build --release -p PACKAGE TARGET...` in `checkout` (one job unless
 * CARGO_BUILD_JOBS says otherwise; quick when up to date): `target` is e.g.
 * ['--bin', 'wx-cloud-emulator'] or ['--example', 'bare_server']. Returns the
 * built file's path under target/release.
 */
function cargoBuildRelease(checkout, pkg, target, log = () => {}) {
  const [kind, name] = target
  const built = path.join(checkout, 'target', 'release', ...(kind === '--example' ? ['examples', name] : [name]))
  log(`building ${built} (cargo build --release; quick when up to date)…`)
  const r = spawnSync('cargo', ['build', '--release', '-p', pkg, ...target], {
    cwd: checkout,
    stdio: ['ignore', 2, 2],
    env: { ...process.env, CARGO_BUILD_JOBS: process.env.CARGO_BUILD_JOBS || '1' },
  })
  if (r.status !== 0) throw new Error(`cargo build of ${name} in ${checkout} failed`)
  return built
}

module.exports = {
  ROOT,
  cargoBuildRelease,
  REFERENCE,
  quantile,
  median,
  summary,
  medianInterval,
  runChild,
  report,
  cpuSecondsOf,
  callLoop,
  timeCalls,
  startEmulatorProcess,
  runScript,
}
