'use strict'
// `npm run bench`: our SDK vs the reference wx-server-sdk 4.0.2 vs a plain
// Node.js keep-alive `http` POST, side by side in one run, on loopback only.
// Prints a markdown table of ratios (medians and spread) and writes it, with
// the machine it ran on, to bench/RESULTS.md (and to README.md between the
// bench markers).
//
// Every server runs in its own process (bench/lib/server-proc.js) and every
// measured client in a fresh process of its own, so no two of them share an
// event loop. Runs of the compared clients alternate (their order rotates on
// each repetition) so that a change in machine load hits all of them alike.
//
// Options (for quick looks; the defaults are what RESULTS.md reports):
//   --quick          fewer repetitions and shorter runs
//   --no-build       do not (re)build the release addon
//   --only=a,b       sections: cold, throughput, https, thirdparty, memory, footprint,
//                    emucpu, instructions
//   --baseline=DIR   a second checkout (e.g. `git worktree add ../base main`),
//                    built as published and measured side by side with this
//                    one in every section but footprint: its SDK as one more
//                    client in the cold start and memory rotations, and in
//                    nine neighbouring pairs of runs with ours per mode and
//                    concurrency after each throughput matrix (same servers);
//                    its `wx-cloud-emulator` binary in the emucpu section. An
//                    extra table gives ours/baseline per measure, and
//                    the instructions section counts both clients'
//                    instructions per cloud and HTTPS call, and both
//                    emulator binaries' per signed call (bench/lib/instructions.js,
//                    valgrind; each checkout's release addon at its root)
//   --emucpu-reps=N  repetitions of the emucpu section (default 5, quick 2)
//
// `--only=emucpu` (not quick) updates its row and its table in RESULTS.md in
// place, leaving the other rows as they were.

const fs = require('fs')
const os = require('os')
const path = require('path')
const http = require('http')
const { spawn, spawnSync } = require('child_process')
const { ROOT, summary, median, medianInterval, runChild, cpuSecondsOf } = require('./lib/common')
const { measureFootprint } = require('./lib/footprint')
const { nodeOnGlibc217 } = require('../scripts/toolchain.js')

/** The Node of a WeChat cloud function whose official build runs on glibc 2.17. */
const CLOUD_FUNCTION_NODE = '16.13.2'
const { recordRequest } = require('./lib/record')
const { buildBareClient, runBareClient } = require('./lib/bare-client')
const { buildEmulatorBinary, startEmulatorBinary, buildBareServer, startBareServer, cpuNsOf } = require('./lib/emulator-bin')

const argv = process.argv.slice(2)
const QUICK = argv.includes('--quick')
const ONLY = (argv.find((a) => a.startsWith('--only=')) || '').slice(7).split(',').filter(Boolean)
const want = (section) => ONLY.length === 0 || ONLY.includes(section)
const BASELINE = (argv.find((a) => a.startsWith('--baseline=')) || '').slice(11) || null
/** The baseline checkout, absolute. */
const BASE = BASELINE ? path.resolve(BASELINE) : null
/** Each matrix mode of the baseline's SDK, and the client mode it runs. */
const BASE_MODES = { base: 'ours', 'https-base': 'https-ours', 'thirdparty-base': 'thirdparty-redis' }
/** `modes` and, with --baseline, `baseMode` after them. */
const withBase = (modes, baseMode) => (BASE ? [...modes, baseMode] : modes)
/** The baseline's SDK in the mode of ours: the inverse of BASE_MODES. */
const baseModeOf = (mode) => Object.keys(BASE_MODES).find((b) => BASE_MODES[b] === mode)
const EMUCPU_REPS = Number((argv.find((a) => a.startsWith('--emucpu-reps=')) || '').slice(14)) || (QUICK ? 2 : 5)

const CONFIG = {
  coldProcesses: QUICK ? 4 : 15,
  concurrencies: [1, 16, 64, 256],
  throughputReps: QUICK ? 1 : 3,
  // The third-party row judges a CPU ratio of two of our own clients that
  // differ by a few microseconds per call, less than one run's spread (the
  // client CPU of one mode moves 20-30% between neighbouring runs here): at
  // c=64 it pairs this many neighbouring runs and takes the median ratio.
  cpuRatioReps: QUICK ? 2 : 9,
  // With --baseline: neighbouring pairs of runs (ours, the baseline's SDK)
  // per mode and concurrency. Nine pairs give the median ratio an interval
  // of 96% confidence from the order statistics alone (the 2nd and 8th
  // ratio); three could not tell a 10% change from a run's own swing.
  baselinePairs: QUICK ? 2 : 9,
  warmupMs: QUICK ? 200 : 300,
  durationMs: QUICK ? 400 : 1000,
  memoryReps: QUICK ? 2 : 5,
  soak: { n1: 1000, n2: 100000, concurrency: 64 },
  emucpu: { concurrency: 64, warmupMs: 300, durationMs: QUICK ? 1000 : 3000 },
}

const LIB = path.join(__dirname, 'lib')
const log = (...a) => console.error('[bench]', ...a)
const fmt = (n, digits = 0) => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a')
const fmtInt = (n) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : 'n/a')

// ---------------------------------------------------------------- build

function buildRelease(dir = ROOT) {
  // Always ask cargo for the release build: it is a no-op when up to date,
  // and it replaces a debug addon left by `npm test` (which would otherwise
  // be measured instead of the release one).
  // The published build (scripts/build-release.js): the package's addon
  // without the emulator, and the emulator package's (emulator/), which the
  // bench's emulator comes from.
  log(`building the release addons of ${dir} as published (npm run build:release; quick when up to date)…`)
  const r = spawnSync(process.execPath, [path.join(dir, 'scripts', 'build-release.js')], {
    cwd: dir,
    stdio: ['ignore', 2, 2],
  })
  if (r.status !== 0) throw new Error(`release build of ${dir} failed`)
}

// ---------------------------------------------------------------- machine

function machineInfo() {
  const cpuinfo = fs.readFileSync('/proc/cpuinfo', 'utf8')
  const model = (cpuinfo.match(/model name\s*:\s*(.*)/) || [])[1] || os.cpus()[0].model
  const rustc = spawnSync('rustc', ['-V'], { encoding: 'utf8' }).stdout.trim() || 'unknown'
  return {
    cpu: model.trim(),
    cores: os.cpus().length,
    node: process.version,
    rustc,
    os: `${os.type()} ${os.release()}`,
    date: new Date().toISOString(),
    loadavg: os.loadavg(),
  }
}

// ---------------------------------------------------------------- servers

/** Start a server process; resolves {info, pid, stop()}. */
function startServer(args) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(LIB, 'server-proc.js'), ...args], {
      env: { PATH: process.env.PATH },
      stdio: ['pipe', 'pipe', 'inherit'],
    })
    let out = ''
    const onData = (c) => {
      out += c
      const line = out.split('\n').find((l) => l.startsWith('@@READY@@ '))
      if (line) {
        child.stdout.off('data', onData)
        child.stdout.resume()
        const info = JSON.parse(line.slice(10))
        resolve({
          info,
          pid: child.pid,
          stop: () =>
            new Promise((res) => {
              child.on('close', res)
              child.stdin.end()
              setTimeout(() => child.kill('SIGKILL'), 8000).unref()
            }),
        })
      }
    }
    child.stdout.on('data', onData)
    child.on('error', reject)
    child.on('close', (code) => reject(new Error(`server ${args[0]} exited (${code}) before it was ready`)))
  })
}

/** POST a recorded request once; resolves {status, contentType, body}. */
function sendOnce(rec) {
  return new Promise((resolve, reject) => {
    const req = http.request(rec.url, { method: 'POST', headers: { ...rec.headers, connection: 'close' } }, (res) => {
      const chunks = []
      res.on('data', (c) => chunks.push(c))
      res.on('end', () => resolve({ status: res.statusCode, contentType: res.headers['content-type'] || '', body: Buffer.concat(chunks) }))
    })
    req.on('error', reject)
    req.end(Buffer.from(rec.bodyBase64, 'base64'))
  })
}

// ---------------------------------------------------------------- sections

async function coldStart(emu, node = undefined) {
  const whichs = withBase(['ours', 'ref'], 'base')
  const samples = Object.fromEntries(whichs.map((w) => [w, []]))
  for (let i = 0; i < CONFIG.coldProcesses; i++) {
    const order = whichs.map((_, k) => whichs[(k + i) % whichs.length])
    for (const which of order) {
      const args = which === 'base' ? ['ours', BASE] : [which]
      const r = await runChild(path.join(LIB, 'cold.js'), args, { env: emu.info.cloudEnv, timeoutMs: 30000, node })
      if (!r.ok) throw new Error(`cold start of ${which} failed: ${r.error}`)
      samples[which].push(r)
    }
  }
  const pick = (which, key) => samples[which].map((s) => s[key])
  const pairRatios = (key) => samples.ours.map((s, i) => s[key] / samples.ref[i][key])
  const vsBase = BASE ? { packageMs: versus(pick('ours', 'packageMs'), pick('base', 'packageMs')) } : undefined
  return {
    vsBase,
    ours: {
      packageMs: summary(pick('ours', 'packageMs')),
      processMs: summary(pick('ours', 'wallToResultMs')),
      requireMs: summary(pick('ours', 'requireMs')),
      initMs: summary(pick('ours', 'initMs')),
      callMs: summary(pick('ours', 'callMs')),
    },
    ref: {
      packageMs: summary(pick('ref', 'packageMs')),
      processMs: summary(pick('ref', 'wallToResultMs')),
      requireMs: summary(pick('ref', 'requireMs')),
      initMs: summary(pick('ref', 'initMs')),
      callMs: summary(pick('ref', 'callMs')),
    },
    ratioPackage: summary(pairRatios('packageMs')),
    ratioProcess: summary(pairRatios('wallToResultMs')),
  }
}

/**
 * One throughput run of `mode` in a fresh client process, with the server's
 * CPU time over the run (from /proc) divided by the calls counted.
 */
async function throughputRun(server, mode, concurrency, extra) {
  const spec = { mode, concurrency, warmupMs: CONFIG.warmupMs, durationMs: CONFIG.durationMs, ...extra }
  if (BASE_MODES[mode]) Object.assign(spec, { mode: BASE_MODES[mode], root: BASE })
  const cpu0 = cpuSecondsOf(server.pid)
  const r =
    mode === 'bare'
      ? await runBareClient(bareClientBin(), spec)
      : await runChild(path.join(LIB, 'client.js'), [JSON.stringify(spec)], {
          env: server.info.cloudEnv || extra.cloudEnv,
          timeoutMs: 60000,
        })
  const cpu1 = cpuSecondsOf(server.pid)
  if (r.error) throw new Error(`${mode} c=${concurrency}: ${r.error}`)
  if (r.failures > 0) throw new Error(`${mode} c=${concurrency}: ${r.failures} failed calls, first: ${r.firstFailure}`)
  r.serverCpuUsPerCall = r.started ? ((cpu1 - cpu0) * 1e6) / r.started : NaN
  return r
}

/** This checkout's bare client (bench/lib/bare-client.js), built on first use unless --no-build. */
let bareClient = null
function bareClientBin() {
  if (!bareClient) bareClient = argv.includes('--no-build') ? path.join(ROOT, 'target/release/examples/bare_client') : buildBareClient(ROOT, log)
  return bareClient
}

/**
 * Throughput of the compared `modes` at each concurrency, `reps` times, the
 * order of the modes rotating on each repetition. `specFor(mode)` gives the
 * extra spec of a run (it may record a fresh request).
 */
async function throughputMatrix(label, server, modes, specFor, repsAt = () => CONFIG.throughputReps) {
  const out = {}
  for (const c of CONFIG.concurrencies) {
    const runs = Object.fromEntries(modes.map((m) => [m, []]))
    for (let rep = 0; rep < repsAt(c); rep++) {
      const order = modes.map((_, i) => modes[(i + rep + c) % modes.length])
      for (const mode of order) {
        const r = await throughputRun(server, mode, c, await specFor(mode))
        runs[mode].push(r)
        log(
          `${label} c=${c} ${mode}: ${fmtInt(r.callsPerSec)} calls/s (client ${fmt(r.clientCpuUsPerCall)} µs CPU/call, server ${fmt(r.serverCpuUsPerCall)} µs CPU/call)`,
        )
      }
    }
    out[c] = runs
  }
  return out
}

/**
 * Ours against the baseline, runs paired by repetition: both summaries, the
 * paired ratios with the interval of their median (medianInterval), and the
 * noise: the larger relative spread (p10–p90 over the median) of either
 * series from one repetition to the next.
 */
function versus(ours, base) {
  const spreadOf = (xs) => {
    const s = summary(xs)
    return (s.p90 - s.p10) / s.median
  }
  const ratios = ours.map((x, i) => x / base[i])
  return {
    ours: summary(ours),
    base: summary(base),
    ratio: summary(ratios),
    interval: medianInterval(ratios),
    noise: Math.max(spreadOf(ours), spreadOf(base)),
  }
}

/**
 * Ours against the baseline's SDK (--baseline) in `mode` at each
 * concurrency: CONFIG.baselinePairs neighbouring pairs of runs, which of the
 * two goes first alternating, so that a change in the machine's state hits
 * both alike. `specFor(mode)` as in throughputMatrix.
 */
async function baselinePairs(label, server, mode, specFor) {
  const baseMode = baseModeOf(mode)
  const out = {}
  for (const c of CONFIG.concurrencies) {
    const runs = { [mode]: [], [baseMode]: [] }
    for (let i = 0; i < CONFIG.baselinePairs; i++) {
      for (const m of i % 2 === 0 ? [mode, baseMode] : [baseMode, mode]) {
        const r = await throughputRun(server, m, c, await specFor(m))
        runs[m].push(r)
        log(`${label} vs baseline, pair ${i + 1} c=${c} ${m}: ${fmtInt(r.callsPerSec)} calls/s (client ${fmt(r.clientCpuUsPerCall)} µs CPU/call)`)
      }
    }
    const rate = (m) => runs[m].map((r) => r.callsPerSec)
    const cpu = (m) => runs[m].map((r) => r.clientCpuUsPerCall)
    out[c] = { concurrency: c, rate: versus(rate(mode), rate(baseMode)), cpu: versus(cpu(mode), cpu(baseMode)) }
  }
  return out
}

/** Summaries and paired ratios (per repetition) of a throughput matrix: a/b. */
function summarizeMatrix(matrix, a, b) {
  const rows = {}
  for (const [c, runs] of Object.entries(matrix)) {
    const rate = (m) => runs[m].map((r) => r.callsPerSec)
    const row = { concurrency: Number(c) }
    for (const m of Object.keys(runs)) {
      row[m] = summary(rate(m))
      row[`${m}ClientCpu`] = median(runs[m].map((r) => r.clientCpuUsPerCall))
      row[`${m}ServerCpu`] = median(runs[m].map((r) => r.serverCpuUsPerCall))
    }
    if (a && b) {
      const cpu = (m) => runs[m].map((r) => r.clientCpuUsPerCall)
      row.ratio = summary(rate(a).map((x, i) => x / rate(b)[i]))
      row.cpuRatio = summary(cpu(a).map((x, i) => x / cpu(b)[i]))
    }
    rows[c] = row
  }
  return rows
}

async function memory(fixed) {
  const whichs = withBase(['ours', 'ref'], 'base')
  const req = Object.fromEntries(whichs.map((w) => [w, []]))
  for (let i = 0; i < CONFIG.memoryReps; i++) {
    for (const which of whichs.map((_, k) => whichs[(k + i) % whichs.length])) {
      const args = which === 'base' ? ['require', 'ours', BASE] : ['require', which]
      const r = await runChild(path.join(LIB, 'memory.js'), args, { env: fixed.info.cloudEnv, nodeArgs: ['--expose-gc'] })
      if (r.error) throw new Error(`memory ${which}: ${r.error}`)
      req[which].push(r)
    }
  }
  const { n1, n2, concurrency } = CONFIG.soak
  const soak = await runChild(path.join(LIB, 'memory.js'), ['soak', String(n1), String(n2), String(concurrency)], {
    env: fixed.info.cloudEnv,
    nodeArgs: ['--expose-gc'],
    timeoutMs: 240000,
  })
  if (soak.error || soak.failures) throw new Error(`soak: ${soak.error || `${soak.failures} failed calls`}`)
  const s = (which, key) => summary(req[which].map((r) => r[key]))
  return {
    ours: {
      requireMB: s('ours', 'requireMB'),
      firstCallMB: s('ours', 'firstCallMB'),
      anonMB: s('ours', 'firstCallAnonMB'),
      fileMB: s('ours', 'firstCallFileMB'),
    },
    ref: { requireMB: s('ref', 'requireMB'), firstCallMB: s('ref', 'firstCallMB'), anonMB: s('ref', 'firstCallAnonMB'), fileMB: s('ref', 'firstCallFileMB') },
    base: BASE ? { requireMB: s('base', 'requireMB'), firstCallMB: s('base', 'firstCallMB') } : undefined,
    soak,
  }
}

/** Is the HTTPS calling mode available in this checkout? */
function httpsModeAvailable(emu) {
  try {
    const cloud = require(ROOT)
    const c = new cloud.Cloud()
    c.init({ mode: 'https', appid: 'wx0emulatorapp0001', secret: 'emulator-app-secret', apiBaseUrl: emu.info.httpsBaseUrl })
    return true
  } catch (_) {
    return false
  }
}

/**
 * The emulator's CPU per signed call: the `wx-cloud-emulator` binary of this
 * checkout (and of `--baseline`, side by side) under the raw Node POST
 * client at c=64, replaying one signed cloud call recorded from our SDK
 * (every one verified: signature, multipart, protobuf, an environment
 * created). CPU is the emulator process's task clock (all its threads,
 * /proc/PID/task/TID/schedstat) over the client's whole run, divided by the
 * calls the client made.
 *
 * The floor, in the same rotation: this checkout's bare server
 * (crates/emulator/examples/bare_server.rs), the emulator's server stack
 * doing none of its work, answering the same request with the emulator's
 * recorded answer. What it spends per call is what the machine charges any
 * server on that stack in that state (the loopback send and read, the
 * wake-ups, hyper); the emulator's own work is the difference, taken per
 * neighbouring pair of runs. The order of the builds rotates on each
 * repetition.
 */
async function emulatorCpu() {
  const builds = [['ours', ROOT]]
  if (BASELINE) builds.push(['baseline', path.resolve(BASELINE)])
  const noBuild = argv.includes('--no-build')
  const bins = builds.map(([which, dir]) => [which, noBuild ? path.join(dir, 'target/release/wx-cloud-emulator') : buildEmulatorBinary(dir, log)])
  const bareBin = noBuild ? path.join(ROOT, 'target/release/examples/bare_server') : buildBareServer(ROOT, log)
  const servers = {}
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'wxco-bench-emucpu-'))
  try {
    for (const [which, bin] of bins) servers[which] = await startEmulatorBinary(bin)
    // The bare server answers with the emulator's own answer to the call.
    const probe = await recordRequest(servers.ours.info.cloudEnv, servers.ours.info.url)
    const answer = await sendOnce(probe)
    if (answer.status !== 200 || answer.body[0] === 0x7b) throw new Error(`the emulator rejected the recorded request: ${answer.body}`)
    const answerFile = path.join(tmp, 'answer.bin')
    fs.writeFileSync(answerFile, answer.body)
    const bare = await startBareServer(bareBin, answerFile, answer.contentType)
    servers.floor = { pid: bare.pid, stop: bare.stop, bareUrl: bare.url, info: servers.ours.info }
    const whichs = Object.keys(servers)
    const runs = Object.fromEntries(whichs.map((w) => [w, []]))
    const { concurrency, warmupMs, durationMs } = CONFIG.emucpu
    for (let rep = 0; rep < EMUCPU_REPS; rep++) {
      const order = whichs.map((_, k) => whichs[(k + rep) % whichs.length])
      for (const which of order) {
        const server = servers[which]
        // The same secret pair for every binary: one recording serves all.
        let request = await recordRequest(server.info.cloudEnv, server.info.url)
        if (server.bareUrl) {
          const u = new URL(request.url)
          request = { ...request, url: `${server.bareUrl}${u.pathname}${u.search}` }
        }
        const file = path.join(tmp, `request-${rep}-${which}.json`)
        fs.writeFileSync(file, JSON.stringify(request))
        const spec = { mode: 'raw', concurrency, warmupMs, durationMs, request: file }
        const ns0 = cpuNsOf(server.pid)
        const r = await runChild(path.join(LIB, 'client.js'), [JSON.stringify(spec)], { env: server.info.cloudEnv, timeoutMs: 60000 })
        const ns1 = cpuNsOf(server.pid)
        if (r.error || r.failures > 0) throw new Error(`emucpu ${which}: ${r.error || `${r.failures} failed calls, first: ${r.firstFailure}`}`)
        r.serverCpuUsPerCall = (ns1 - ns0) / 1e3 / r.started
        runs[which].push(r)
        log(`emucpu ${which}: ${fmtInt(r.callsPerSec)} calls/s, server ${fmt(r.serverCpuUsPerCall, 1)} µs CPU/call (client ${fmt(r.clientCpuUsPerCall)} µs)`)
      }
    }
    const out = { reps: EMUCPU_REPS, label: BASELINE ? baselineLabel(BASELINE) : null }
    for (const [which, rs] of Object.entries(runs)) {
      out[which] = { cpu: summary(rs.map((r) => r.serverCpuUsPerCall)), rate: summary(rs.map((r) => r.callsPerSec)) }
    }
    const cpuOf = (which, i) => runs[which][i].serverCpuUsPerCall
    if (runs.baseline) out.ratio = summary(runs.ours.map((_, i) => cpuOf('ours', i) / cpuOf('baseline', i)))
    // The emulator's own work: its CPU per call above the floor's, per repetition.
    out.ownOurs = summary(runs.ours.map((_, i) => cpuOf('ours', i) - cpuOf('floor', i)))
    if (runs.baseline) out.ownBaseline = summary(runs.baseline.map((_, i) => cpuOf('baseline', i) - cpuOf('floor', i)))
    return out
  } finally {
    for (const s of Object.values(servers)) await s.stop()
    fs.rmSync(tmp, { recursive: true, force: true })
  }
}

/** `DIR (branch@commit)` of a baseline checkout. */
function baselineLabel(dir) {
  const git = (...a) => spawnSync('git', ['-C', dir, ...a], { encoding: 'utf8' }).stdout.trim()
  return `${path.basename(path.resolve(dir))} (${git('rev-parse', '--abbrev-ref', 'HEAD')}@${git('rev-parse', '--short', 'HEAD')})`
}

// ---------------------------------------------------------------- report

const spread = (s, digits = 0, unit = '') => `${fmt(s.median, digits)}${unit} (${fmt(s.p10, digits)}–${fmt(s.p90, digits)})`
const ratioCell = (s, digits = 2) => `**${fmt(s.median, digits)}×** (${fmt(s.min, digits)}–${fmt(s.max, digits)})`
const verdict = (ok) => (ok === null ? 'n/a' : ok ? '**met**' : '**missed**')
const mb = (bytes) => `${(bytes / 1e6).toFixed(2)} MB`

function render(machine, R) {
  const lines = []
  const targets = []
  const add = (measure, ours, other, ratio, target, ok) => targets.push(`| ${measure} | ${ours} | ${other} | ${ratio} | ${target} | ${verdict(ok)} |`)

  const coldRow = (measure, c) =>
    add(
      measure,
      spread(c.ours.packageMs, 1),
      spread(c.ref.packageMs, 1),
      `${fmt(c.ratioPackage.median, 3)} (${fmt(c.ratioPackage.p10, 3)}–${fmt(c.ratioPackage.p90, 3)})`,
      '≤ 1/50 = 0.020',
      c.ratioPackage.median <= 0.02,
    )
  if (R.cold) {
    const c = R.cold
    coldRow('Cold start: `require` + `init` + one cloud call, ms (fresh process, emulator)', c)
    add(
      "Cold start incl. node's own start-up (spawn → result), ms",
      spread(c.ours.processMs, 1),
      spread(c.ref.processMs, 1),
      `${fmt(c.ratioProcess.median, 3)} (${fmt(c.ratioProcess.p10, 3)}–${fmt(c.ratioProcess.p90, 3)})`,
      'context only',
      null,
    )
  }
  if (R.cold217) {
    coldRow(`Cold start on the cloud-function runtime (glibc 2.17 userland, official Node ${CLOUD_FUNCTION_NODE}), ms`, R.cold217)
  }
  if (R.fixed) {
    const r = R.fixed[64]
    add('Throughput c=64, minimal gateway, calls/s', spread(r.ours), spread(r.ref), ratioCell(r.ratio), '≥ 6× reference', r.ratio.median >= 6)
  }
  if (R.emulator) {
    const r = R.emulator[64]
    add('Throughput c=64, emulator (signature checked), calls/s', spread(r.ours), spread(r.ref), ratioCell(r.ratio), '≥ 6× reference', r.ratio.median >= 6)
  }
  if (R.https?.rows) {
    for (const c of [64]) {
      const r = R.https.rows[c]
      add(
        `HTTPS mode c=${c}, emulator, calls/s (vs raw Node POST)`,
        spread(r['https-ours']),
        spread(r['https-raw']),
        ratioCell(r.ratio),
        '≥ 1.2× raw POST',
        r.ratio.median >= 1.2,
      )
    }
  } else if (R.https) {
    add('HTTPS mode, emulator, calls/s (vs raw Node POST)', R.https.note, '', '', '≥ 1.2× raw POST', null)
  }
  if (R.thirdParty) {
    const r = R.thirdParty.rows[64]
    add(
      `Third-party call c=64, cached token via Redis store, client CPU µs/call (vs HTTPS call; ratio of ${r.cpuRatio.n} neighbouring pairs)`,
      fmt(r['thirdparty-redisClientCpu'], 1),
      fmt(r['https-oursClientCpu'], 1),
      ratioCell(r.cpuRatio),
      '≤ 1.1× HTTPS CPU/call',
      r.cpuRatio.median <= 1.1,
    )
  }
  if (R.memory) {
    const m = R.memory
    add('RSS added by `require`, MB', spread(m.ours.requireMB, 2), spread(m.ref.requireMB, 2), '', '≤ 4 MB', m.ours.requireMB.median <= 4)
    add(
      'RSS added by `require` + `init` + first call, MB [of which anonymous / file-backed]',
      `${spread(m.ours.firstCallMB, 2)} [${fmt(m.ours.anonMB.median, 2)} / ${fmt(m.ours.fileMB.median, 2)}]`,
      `${spread(m.ref.firstCallMB, 2)} [${fmt(m.ref.anonMB.median, 2)} / ${fmt(m.ref.fileMB.median, 2)}]`,
      '',
      '≤ 4 MB',
      m.ours.firstCallMB.median <= 4,
    )
    // Judged without the node executable's own code pages (bench/NOTES.md,
    // "The soak row"): when V8 first optimises our hot JavaScript it faults
    // in compiler code from node's file, which says nothing of what we hold.
    const grewWithoutNode = m.soak.grewMB - m.soak.nodeCodeGrewMB
    add(
      `RSS after ${fmtInt(m.soak.n2)} calls − after ${fmtInt(m.soak.n1)} (c=${CONFIG.soak.concurrency}, minimal gateway), without node's own code pages, MB`,
      `${fmt(grewWithoutNode, 2)} (RSS ${fmt(m.soak.rss1, 1)} → ${fmt(m.soak.rss2, 1)}, +${fmt(m.soak.grewMB, 2)}, of which node's code pages ${fmt(m.soak.nodeCodeGrewMB, 2)}; anonymous +${fmt(m.soak.anonGrewMB, 2)}; V8 heap used ${fmt(m.soak.heap1, 1)} → ${fmt(m.soak.heap2, 1)}, committed ${fmt(m.soak.heapTotal1, 1)} → ${fmt(m.soak.heapTotal2, 1)})`,
      '',
      '',
      '≤ 10 MB',
      grewWithoutNode <= 10,
    )
  }
  if (R.footprint) {
    const f = R.footprint
    add(
      'Install footprint (`--omit=dev`), bytes / packages',
      `${mb(f.ours.bytes)} / ${f.ours.packages} (of which the addon ${mb(f.ours.addonBytes)})`,
      `${mb(f.ref.bytes)} / ${f.ref.packages}`,
      `${fmt(f.ours.bytes / f.ref.bytes, 3)}`,
      '≤ 4 MB, no runtime npm dependency',
      f.ours.bytes <= 4e6 && f.ours.runtimeDependencies.length === 0,
    )
  }

  if (R.emucpu) {
    const e = R.emucpu
    add(
      EMUCPU_ROW,
      `${spread(e.ours.cpu, 1)} [the floor, a bare server on the same stack: ${fmt(e.floor.cpu.median, 1)}; the emulator's own work: ${fmt(e.ownOurs.median, 1)}]`,
      e.baseline ? `${spread(e.baseline.cpu, 1)} (baseline: ${e.label})` : 'n/a (no --baseline)',
      e.ratio ? `${fmt(e.ratio.median, 2)} (${fmt(e.ratio.min, 2)}–${fmt(e.ratio.max, 2)}) of the baseline` : '',
      '≤ 15 µs',
      e.ours.cpu.median <= 15,
    )
  }

  lines.push('| measure | ours, median (p10–p90) | reference, median (p10–p90) | ratio ours/reference, median (spread) | target | |')
  lines.push('|---|---|---|---|---|---|')
  lines.push(...targets)
  lines.push('')

  const matrixTable = (title, rows, cols, ratioTitle) => {
    lines.push(
      `**${title}** — calls/s, median (min–max) of ${CONFIG.throughputReps} runs of ${CONFIG.durationMs} ms; CPU µs per call (client / server process), median`,
    )
    lines.push('')
    lines.push(`| concurrency | ${cols.map((c) => c[1]).join(' | ')} | ${ratioTitle} |`)
    lines.push(`|---|${cols.map(() => '---|').join('')}---|`)
    for (const row of Object.values(rows)) {
      const cells = cols.map(
        ([m]) => `${fmtInt(row[m].median)} (${fmtInt(row[m].min)}–${fmtInt(row[m].max)}); ${fmt(row[`${m}ClientCpu`])} / ${fmt(row[`${m}ServerCpu`])} µs`,
      )
      lines.push(`| ${row.concurrency} | ${cells.join(' | ')} | ${ratioCell(row.ratio)} |`)
    }
    lines.push('')
  }
  const cloudCols = [
    ['ours', 'ours'],
    ['ref', 'reference'],
    ['raw', 'raw Node POST (floor)'],
  ]
  if (R.fixed) {
    const bareCol = ['bare', 'bare client (our transport; no Node, no call work)']
    matrixTable('Cloud call, minimal gateway (node `http`, own process)', R.fixed, [...cloudCols, bareCol], 'ours/reference')
    lines.push(
      `ours / raw Node POST: ${Object.values(R.fixed)
        .map((r) => `c=${r.concurrency} ${fmt(r.ours.median / r.raw.median, 2)}×`)
        .join(', ')}`,
    )
    lines.push('')
    lines.push(
      `ours' client CPU per call above the bare client's (Node, the binding and the call's own work), µs: ${Object.values(R.fixed)
        .map((r) => `c=${r.concurrency} ${fmt(r.oursClientCpu - r.bareClientCpu)}`)
        .join(', ')}`,
    )
    lines.push('')
  }
  if (R.emulator) {
    matrixTable('Cloud call, emulator (signature checked, own process)', R.emulator, cloudCols, 'ours/reference')
    lines.push(
      `ours / raw Node POST: ${Object.values(R.emulator)
        .map((r) => `c=${r.concurrency} ${fmt(r.ours.median / r.raw.median, 2)}×`)
        .join(', ')}`,
    )
    lines.push('')
  }
  if (R.https?.rows) {
    matrixTable(
      'HTTPS mode, emulator',
      R.https.rows,
      [
        ['https-ours', 'ours (HTTPS mode)'],
        ['https-raw', 'raw Node POST'],
      ],
      'ours/raw',
    )
  }
  if (R.thirdParty) {
    matrixTable(
      'Third-party mode, cached token via Redis store, emulator',
      R.thirdParty.rows,
      [
        ['thirdparty-redis', 'third-party (Redis store)'],
        ['https-ours', 'HTTPS mode'],
      ],
      'third-party/HTTPS',
    )
  }
  if (R.emucpu) lines.push(emulatorCpuTable(R.emucpu), '')
  if (BASE) lines.push(baselineTable(R), '')
  if (R.instructions) lines.push(R.instructions, '')
  const breakdown = (title, c) =>
    lines.push(
      `**${title}**, ms, median of ${CONFIG.coldProcesses} processes each: ours require ${fmt(c.ours.requireMs.median, 1)}, init ${fmt(c.ours.initMs.median, 1)}, call ${fmt(c.ours.callMs.median, 1)}; reference require ${fmt(c.ref.requireMs.median, 1)}, init ${fmt(c.ref.initMs.median, 1)}, call ${fmt(c.ref.callMs.median, 1)}.`,
      '',
    )
  if (R.cold) breakdown('Cold start breakdown', R.cold)
  if (R.cold217) breakdown(`Cold start breakdown on glibc 2.17, Node ${CLOUD_FUNCTION_NODE}`, R.cold217)
  if (R.footprint) {
    const f = R.footprint.ours
    lines.push(
      `**Install**: our tarball ${mb(f.tarballBytes)}; installed JS packages: ${f.jsPackages.join(', ') || 'none'}; native addon ${f.addonInTarball ? `in the tarball (${mb(f.addonBytes)})` : `not in the tarball, counted as one platform package of ${mb(f.addonBytes)}`}; runtime dependencies in package.json: ${f.runtimeDependencies.length ? f.runtimeDependencies.join(', ') : 'none'}.`,
    )
    lines.push('')
  }
  const table = lines.join('\n')

  const machineLine = `${machine.cpu}, ${machine.cores} cores, ${machine.os}, node ${machine.node}, ${machine.rustc}, ${machine.date} (load average at start ${machine.loadavg.map((l) => l.toFixed(2)).join(' ')})`
  return { table, machineLine }
}

/**
 * Where ours/baseline stands: within noise when the interval of the median
 * paired ratio (≥ 95% confidence, medianInterval) holds 1, or the median is
 * within the runs' own spread of 1; otherwise better or worse. Fewer than
 * six pairs give no such interval to judge by.
 */
function judge(v, higherIsBetter) {
  const i = v.interval
  if (!i) return `n/a (${v.ratio.n} pairs)`
  if ((i.low <= 1 && i.high >= 1) || Math.abs(v.ratio.median - 1) <= v.noise) return 'within noise'
  return v.ratio.median > 1 === higherIsBetter ? 'better' : '**worse**'
}

/** With --baseline: each measure of this checkout against the baseline's, run side by side. */
function baselineTable(R) {
  const rows = []
  const row = (measure, v, digits, higherIsBetter) =>
    rows.push(
      `| ${measure} | ${fmt(v.ours.median, digits)} | ${fmt(v.base.median, digits)} | ${fmt(v.ratio.median, 2)} (${v.interval ? `${fmt(v.interval.low, 2)}–${fmt(v.interval.high, 2)}` : 'n/a'}) | ${v.ratio.n} | ±${fmt(v.noise * 100)}% | ${judge(v, higherIsBetter)} |`,
    )
  for (const [key, title] of [
    ['cold', 'Cold start, ms'],
    ['cold217', `Cold start on glibc 2.17, Node ${CLOUD_FUNCTION_NODE}, ms`],
  ]) {
    const v = R[key]?.vsBase?.packageMs
    if (v) row(title, v, 1, false)
  }
  for (const [key, title] of [
    ['fixed', 'Cloud call, minimal gateway'],
    ['emulator', 'Cloud call, emulator'],
    ['https', 'HTTPS mode, emulator'],
    ['thirdParty', 'Third-party, Redis store, emulator'],
  ]) {
    for (const r of Object.values(R.vsBase?.[key] || {})) {
      row(`${title} c=${r.concurrency}, calls/s`, r.rate, 0, true)
      row(`${title} c=${r.concurrency}, client CPU µs/call`, r.cpu, 0, false)
    }
  }
  const lines = [
    `**Against the baseline** ${baselineLabel(BASE)}, measured in the same run: medians; ours/baseline per neighbouring pair of runs (which goes first alternates), median and the interval that holds it with at least 95% confidence from the order statistics alone (of 9 pairs, the 2nd smallest to the 2nd largest; of 15, the 4th to the 12th); noise: the larger p10–p90 spread of either's own runs; "within noise" when that interval holds 1 or the median ratio is within the noise.`,
    '',
    '| measure | ours | baseline | ours/baseline (interval) | pairs | noise | |',
    '|---|---|---|---|---|---|---|',
    ...rows,
  ]
  const m = R.memory
  if (m?.base) {
    lines.push(
      '',
      `Memory (medians, not paired): RSS added by require ${fmt(m.ours.requireMB.median, 2)} MB vs ${fmt(m.base.requireMB.median, 2)} MB; by require + init + first call ${fmt(m.ours.firstCallMB.median, 2)} MB vs ${fmt(m.base.firstCallMB.median, 2)} MB.`,
    )
  }
  return lines.join('\n')
}

/**
 * Instructions per cloud and HTTPS call of this checkout's client and the
 * baseline's, and per signed call of each checkout's emulator binary
 * (bench/lib/instructions.js): the side-by-side comparison that machine
 * noise does not move (the emucpu row's CPU time moves ±10% with it). Its
 * markdown tables, or why there is none.
 */
function instructionsTable() {
  const tables = ['cloud', 'https', 'emulator'].map((mode) => {
    const args = [path.join(LIB, 'instructions.js'), path.resolve(BASE), '64', mode]
    if (mode === 'emulator' && argv.includes('--no-build')) args.push('--no-build')
    const r = spawnSync(process.execPath, args, { encoding: 'utf8', timeout: 15 * 60 * 1000 })
    if (r.status !== 0) return `Instructions per ${mode} call: not measured (${(r.stderr || r.error || '').toString().trim().split('\n').pop()}).`
    return r.stdout.trim()
  })
  return tables.join('\n\n')
}

/** The measure of the emucpu row (the key its in-place update finds it by). */
const EMUCPU_ROW = 'Emulator CPU per signed call (`wx-cloud-emulator` binary, raw Node POST c=64), µs (vs a baseline checkout)'
const EMUCPU_START = '<!-- emucpu:start -->'
const EMUCPU_END = '<!-- emucpu:end -->'

/** The emucpu section's detail: each build's CPU per call and calls/s. */
function emulatorCpuTable(e) {
  const { concurrency, durationMs } = CONFIG.emucpu
  const rows = [
    EMUCPU_START,
    `**Emulator CPU per signed call** (the \`wx-cloud-emulator\` binary; raw Node POST of a recorded signed call, c=${concurrency}, ${e.reps} runs of ${durationMs} ms per build, the builds in rotation) — server process CPU (all threads' task clock) per call, µs, and calls/s, median (min–max). The floor: the bare server (crates/emulator/examples/bare_server.rs), the emulator's server stack doing none of its work, answering the same request with the emulator's recorded answer`,
    '',
    '| build | server CPU µs/call | calls/s |',
    '|---|---|---|',
  ]
  for (const [which, label] of [
    ['ours', 'this checkout'],
    ['baseline', `baseline: ${e.label}`],
    ['floor', 'the floor: bare server (this checkout)'],
  ]) {
    if (!e[which]) continue
    const r = e[which]
    rows.push(
      `| ${label} | ${fmt(r.cpu.median, 1)} (${fmt(r.cpu.min, 1)}–${fmt(r.cpu.max, 1)}) | ${fmtInt(r.rate.median)} (${fmtInt(r.rate.min)}–${fmtInt(r.rate.max)}) |`,
    )
  }
  if (e.ratio) rows.push('', `ours/baseline CPU per call, per neighbouring pair: ${fmt(e.ratio.median, 2)} (${fmt(e.ratio.min, 2)}–${fmt(e.ratio.max, 2)})`)
  const own = (o) => `${fmt(o.median, 1)} (${fmt(o.min, 1)}–${fmt(o.max, 1)})`
  rows.push(
    '',
    `The emulator's own work (its CPU per call minus the floor's, per repetition), µs: this checkout ${own(e.ownOurs)}${e.ownBaseline ? `; baseline ${own(e.ownBaseline)}` : ''}`,
  )
  rows.push(EMUCPU_END)
  return rows.join('\n')
}

/**
 * `--only=emucpu`: replace (or add) the emucpu row of the targets table and
 * its detail table in RESULTS.md, and its notes (NOTES.md); the other rows
 * are left as they were (README.md's copy of the table is refreshed by the
 * next full run).
 */
function updateEmulatorCpu(machineLine, R) {
  const { table } = render({ cpu: '', cores: 0, os: '', node: '', rustc: '', date: '', loadavg: [] }, { emucpu: R.emucpu })
  const row = table.split('\n').find((l) => l.startsWith(`| ${EMUCPU_ROW} |`))
  const detail = emulatorCpuTable(R.emucpu)
  const note = `_Emulator CPU row measured separately (\`--only=emucpu\`) on: ${machineLine}._`
  for (const file of [path.join(__dirname, 'RESULTS.md')]) {
    let text = fs.readFileSync(file, 'utf8')
    const lines = text.split('\n')
    const at = lines.findIndex((l) => l.startsWith(`| ${EMUCPU_ROW} |`))
    if (at >= 0) lines[at] = row
    else {
      // after the last row of the targets table
      const head = lines.findIndex((l) => l.startsWith('| measure |'))
      if (head < 0) continue
      let end = head + 2
      while (end < lines.length && lines[end].startsWith('|')) end++
      lines.splice(end, 0, row)
    }
    text = lines.join('\n')
    const block = `${detail.replace(EMUCPU_END, '')}\n${note}\n${EMUCPU_END}`
    const a = text.indexOf(EMUCPU_START)
    const b = text.indexOf(EMUCPU_END)
    if (a >= 0 && b > a) text = text.slice(0, a) + block + text.slice(b + EMUCPU_END.length)
    else {
      // before the cold start breakdown, else after the targets table
      const anchor = text.indexOf('**Cold start breakdown**')
      if (anchor >= 0) text = `${text.slice(0, anchor)}${block}\n\n${text.slice(anchor)}`
    }
    // the notes after the tables, as a full run writes them
    const notesAt = text.indexOf('\n## ')
    if (notesAt >= 0) text = text.slice(0, notesAt) + fs.readFileSync(path.join(__dirname, 'NOTES.md'), 'utf8')
    fs.writeFileSync(file, text)
    log(`${path.relative(ROOT, file)}: emucpu row and table updated`)
  }
}

function writeResults(machineLine, table, elapsedS) {
  const notes = fs.readFileSync(path.join(__dirname, 'NOTES.md'), 'utf8')
  const doc = ['# Benchmark results', '', `Generated by \`npm run bench\` (bench/run.js) in ${fmt(elapsedS)} s on: ${machineLine}.`, '', table, notes].join(
    '\n',
  )
  fs.writeFileSync(path.join(__dirname, 'RESULTS.md'), doc)

  const readme = path.join(ROOT, 'README.md')
  const text = fs.readFileSync(readme, 'utf8')
  const start = '<!-- bench:start -->'
  const end = '<!-- bench:end -->'
  const a = text.indexOf(start)
  const b = text.indexOf(end)
  if (a >= 0 && b > a) {
    const block = `${start}\n_${machineLine}; details and what limits each figure in [bench/RESULTS.md](bench/RESULTS.md)._\n\n${table}\n${end}`
    fs.writeFileSync(readme, text.slice(0, a) + block + text.slice(b + end.length))
  }
}

// ---------------------------------------------------------------- main

async function main() {
  const t0 = Date.now()
  // The sections on the embedded emulator and the minimal gateway (emucpu
  // starts binaries of its own, and builds them).
  const shared = ['cold', 'throughput', 'https', 'thirdparty', 'memory'].some(want)
  if (!argv.includes('--no-build') && (shared || want('footprint'))) buildRelease()
  if (!argv.includes('--no-build') && BASE && shared) buildRelease(BASE)
  const machine = machineInfo()
  log(`${machine.cpu}, ${machine.cores} cores, node ${machine.node}, ${machine.rustc}`)

  const R = {}
  // With --baseline: ours against the baseline's SDK, per section (baselinePairs).
  const vsBase = {}
  if (BASE) R.vsBase = vsBase
  if (want('emucpu')) {
    log(`emulator CPU per call (the wx-cloud-emulator binary${BASELINE ? `, against ${BASELINE}` : ''})…`)
    R.emucpu = await emulatorCpu()
  }
  if (want('instructions') && BASE) {
    log(`instructions per cloud and HTTPS call and per emulator call (callgrind), against ${BASE}…`)
    R.instructions = instructionsTable()
  }
  const emu = shared ? await startServer(['emulator']) : null
  const servers = emu ? [emu] : []
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'wxco-bench-run-'))
  try {
    if (emu) {
      // The fixed answer of the minimal gateway: the emulator's real answer to
      // the recorded request (a valid CommOpenApiResp).
      const probe = await recordRequest(emu.info.cloudEnv, emu.info.url)
      const answer = await sendOnce(probe)
      if (answer.status !== 200 || answer.body[0] === 0x7b) throw new Error(`the emulator rejected the recorded request: ${answer.body}`)
      const answerFile = path.join(tmp, 'answer.json')
      fs.writeFileSync(answerFile, JSON.stringify({ status: answer.status, contentType: answer.contentType, bodyBase64: answer.body.toString('base64') }))
      const fixedServer = await startServer(['fixed', answerFile])
      servers.push(fixedServer)
      const fixed = { ...fixedServer, info: { ...fixedServer.info, cloudEnv: { ...emu.info.cloudEnv } } }
      const cnfg = JSON.parse(emu.info.cloudEnv.TCB_CONTEXT_CNFG)
      const u = new URL(cnfg.URL)
      fixed.info.cloudEnv.TCB_CONTEXT_CNFG = JSON.stringify({ ...cnfg, URL: `${fixedServer.info.url}${u.pathname}${u.search}` })

      let recIndex = 0
      const rawSpec = (server) => async (mode) => {
        if (mode !== 'raw' && mode !== 'bare') return {}
        const file = path.join(tmp, `request-${recIndex++}.json`)
        fs.writeFileSync(file, JSON.stringify(await recordRequest(server.info.cloudEnv, server.info.url)))
        return { request: file }
      }

      if (want('cold')) {
        log('cold start…')
        R.cold = await coldStart(emu)
        // Where a cloud function runs: CentOS 7.6's glibc 2.17 and the
        // official Node 16.13 build (the runtime suite's userland).
        log(`cold start on glibc 2.17, Node ${CLOUD_FUNCTION_NODE}…`)
        R.cold217 = await coldStart(emu, nodeOnGlibc217(CLOUD_FUNCTION_NODE))
      }
      if (want('throughput')) {
        log('throughput, minimal gateway…')
        const cloudModes = ['ours', 'ref', 'raw']
        // The bare client posts without a signature: against the minimal
        // gateway only, which answers whatever it gets.
        R.fixed = summarizeMatrix(await throughputMatrix('fixed', fixed, [...cloudModes, 'bare'], rawSpec(fixed)), 'ours', 'ref')
        if (BASE) vsBase.fixed = await baselinePairs('fixed', fixed, 'ours', async () => ({}))
        log('throughput, emulator…')
        R.emulator = summarizeMatrix(await throughputMatrix('emulator', emu, cloudModes, rawSpec(emu)), 'ours', 'ref')
        if (BASE) vsBase.emulator = await baselinePairs('emulator', emu, 'ours', async () => ({}))
      }
      if (want('https')) {
        if (httpsModeAvailable(emu)) {
          log('HTTPS mode, emulator…')
          const https = { baseUrl: emu.info.httpsBaseUrl, appid: 'wx0emulatorapp0001', secret: 'emulator-app-secret' }
          const m = await throughputMatrix('https', emu, ['https-ours', 'https-raw'], async () => ({ https }))
          R.https = { rows: summarizeMatrix(m, 'https-ours', 'https-raw') }
          if (BASE) vsBase.https = await baselinePairs('https', emu, 'https-ours', async () => ({ https }))
        } else {
          R.https = { note: 'not measured: HTTPS mode not merged yet' }
        }
      }
      if (want('thirdparty')) {
        // A third-party call with a cached token through the Redis store (a real
        // redis-server on loopback) against an HTTPS call: client CPU per call.
        log('third-party mode with a Redis store, emulator…')
        const { startRedis } = require('../__test__/helpers/redis.js')
        const redis = await startRedis()
        try {
          const thirdParty = { baseUrl: emu.info.httpsBaseUrl, redisPort: redis.port, prefix: `bench${process.pid}:` }
          const https = { baseUrl: emu.info.httpsBaseUrl, appid: 'wx0emulatorapp0001', secret: 'emulator-app-secret' }
          const reps = (c) => (c === 64 ? CONFIG.cpuRatioReps : CONFIG.throughputReps)
          const spec = async () => ({ thirdParty, https })
          const m = await throughputMatrix('thirdparty', emu, ['thirdparty-redis', 'https-ours'], spec, reps)
          R.thirdParty = { rows: summarizeMatrix(m, 'thirdparty-redis', 'https-ours') }
          if (BASE) vsBase.thirdParty = await baselinePairs('thirdparty', emu, 'thirdparty-redis', spec)
        } finally {
          await redis.stop()
        }
      }
      if (want('memory')) {
        log('memory…')
        R.memory = await memory(fixed)
      }
    }
  } finally {
    for (const s of servers) await s.stop()
    fs.rmSync(tmp, { recursive: true, force: true })
  }
  if (want('footprint')) {
    log('install footprint…')
    R.footprint = measureFootprint()
  }

  const elapsedS = (Date.now() - t0) / 1000
  const { table, machineLine } = render(machine, R)
  console.log(`\n${machineLine}\n\n${table}`)
  fs.writeFileSync(path.join(__dirname, 'last-run.json'), JSON.stringify({ machine, config: CONFIG, results: R }, null, 1))
  if (ONLY.length === 0 && !QUICK) writeResults(machineLine, table, elapsedS)
  else if (ONLY.length === 1 && ONLY[0] === 'emucpu' && !QUICK) updateEmulatorCpu(machineLine, R)
  else log('partial or quick run: RESULTS.md left unchanged')
  log(`done in ${fmt(elapsedS)} s`)
}

main().catch((e) => {
  console.error(e?.stack)
  process.exit(1)
})
