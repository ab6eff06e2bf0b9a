'use strict'
// Instructions per cloud call, this checkout against a baseline checkout,
// by where they run (our addon, node, libc, ...). valgrind's callgrind
// counts instructions, not seconds: the same binary with the same inputs
// gives nearly the same count whatever else the machine is doing, so a
// difference of a few percent shows in one run, where CPU time needs ten
// pairs and a quiet machine (bench/NOTES.md, "Instructions per call").
//
//   node bench/lib/instructions.js [BASELINE_DIR] [CONCURRENCY] [cloud|https]
//   node bench/lib/instructions.js [BASELINE_DIR] [CONCURRENCY] emulator [--no-build]
//
// `emulator`: the instructions the `wx-cloud-emulator` binary of each
// checkout spends per signed cloud call (the emucpu row's work, without the
// machine's noise). Each binary runs under callgrind; this checkout's SDK,
// natively in this process, makes 300 warm-up calls, the counts are zeroed
// (callgrind_control), N1 calls follow and the counts are dumped. The
// binaries are built with cargo (quick when up to date) unless --no-build.
//
// Each checkout needs its release addon at its root (`npm run build`), as
// for params-cpu.js; one emulator (this checkout's, in its own process)
// answers both. Each client runs twice under callgrind, making 300 warm-up
// calls then N0 or N1 calls with small params (a cloud call, or an HTTPS
// call with an app secret): the difference of the two
// counts over N1 - N0 is what one call costs, without start-up and exit.
// Caveats, printed with the table: valgrind hides the SHA extensions from
// the CPU, so sha2 runs its portable code (about ten times what it costs
// with them; shown on a line of its own), and node's share moves a little
// with timing (how often its event loop wakes).

const fs = require('fs')
const os = require('os')
const path = require('path')
const { spawnSync } = require('child_process')
const { ROOT, report, callLoop, startEmulatorProcess, runScript } = require('./common')
const { buildEmulatorBinary, startEmulatorBinary } = require('./emulator-bin')
const { APP } = require('../../__test__/helpers/emu-modes.js')

const WARMUP = 300
const N0 = 1000
const N1 = 3000

async function client(dir, nText, concurrencyText, mode, httpsBaseUrl) {
  const [n, concurrency] = [Number(nText), Number(concurrencyText)]
  const cloud = require(dir)
  if (mode === 'https') cloud.init({ mode: 'https', ...APP, apiBaseUrl: httpsBaseUrl })
  else cloud.init({ env: cloud.DYNAMIC_CURRENT_ENV })
  const call = () => cloud.openapi.tcb.createenvandresource({ type: 'CreatePostpayPackage', alias: 'ab' })
  await callLoop(call, WARMUP, concurrency)
  await callLoop(call, n, concurrency)
  report({ calls: n })
  process.exit(0)
}

/**
 * Self cost (instructions) by object file of a callgrind output file, and
 * sha2's part. Names are compressed as `(id) name` the first time and
 * `(id)` after; a `calls=` line is followed by the call's inclusive cost,
 * which is not self cost.
 */
function selfCosts(file) {
  const names = { ob: new Map(), fn: new Map() }
  const byObject = new Map()
  let sha = 0
  let ob = '?'
  let fn = '?'
  let skipNext = false
  const named = (kind, rest) => {
    const m = /^\((\d+)\)(?: (.*))?$/.exec(rest.trim())
    if (!m) return rest.trim()
    if (m[2] !== undefined) names[kind].set(m[1], m[2])
    return names[kind].get(m[1]) || '?'
  }
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    if (skipNext) {
      skipNext = false
      continue
    }
    if (line.startsWith('ob=')) ob = named('ob', line.slice(3))
    else if (line.startsWith('fn=')) fn = named('fn', line.slice(3))
    else if (line.startsWith('cob=')) named('ob', line.slice(4))
    else if (line.startsWith('cfn=')) named('fn', line.slice(4))
    else if (line.startsWith('calls=')) skipNext = true
    else if (/^[0-9+\-*]/.test(line)) {
      const cost = Number(line.split(' ')[1])
      if (!Number.isFinite(cost)) continue
      byObject.set(ob, (byObject.get(ob) || 0) + cost)
      if (fn.includes('sha2::sha256::compress')) sha += cost
    }
  }
  return { byObject, sha }
}

/** Instructions per call of `dir`'s client: by object, and sha2's part. */
function perCall(dir, env, concurrency, mode, httpsBaseUrl, work) {
  const counts = []
  for (const n of [N0, N1]) {
    const out = path.join(work, `${path.basename(dir)}-${n}.callgrind`)
    const r = spawnSync(
      'valgrind',
      ['--tool=callgrind', `--callgrind-out-file=${out}`, process.execPath, __filename, 'client', dir, String(n), String(concurrency), mode, httpsBaseUrl],
      {
        env: { PATH: process.env.PATH, ...env },
        encoding: 'utf8',
        maxBuffer: 64 * 1024 * 1024,
      },
    )
    if (r.status !== 0 || !fs.existsSync(out)) throw new Error(`callgrind run of ${dir} failed (${r.status}):\n${(r.stderr || '').slice(-2000)}`)
    counts.push(selfCosts(out))
  }
  const perCallOf = (a, b) => (b - a) / (N1 - N0)
  const byObject = new Map()
  for (const [ob, cost] of counts[1].byObject) {
    const name = shortObject(ob)
    byObject.set(name, (byObject.get(name) || 0) + perCallOf(counts[0].byObject.get(ob) || 0, cost))
  }
  return { byObject, sha: perCallOf(counts[0].sha, counts[1].sha) }
}

/** The file name; an addon of ours is `the addon`. */
function shortObject(ob) {
  const base = path.basename(ob)
  if (/^wx-cloud-openapi\..*\.node$/.test(base)) return 'the addon (wx-cloud-openapi)'
  if (base === '???') return "code with no file (V8's compiled JavaScript)"
  return base
}

/** A table row: per-call counts of the baseline and this checkout, and their ratio. */
function row(name, a, b) {
  return `| ${name} | ${Math.round(a).toLocaleString('en')} | ${Math.round(b).toLocaleString('en')} | ${(b / a).toFixed(3)} |`
}

/**
 * Instructions per signed cloud call of the emulator binary of `dir`
 * (callgrind, counted between a zeroing and a dump, so without start-up),
 * with this checkout's SDK as the client.
 */
async function emulatorPerCall(dir, concurrency, work, build) {
  const bin = build ? buildEmulatorBinary(dir) : path.join(dir, 'target', 'release', 'wx-cloud-emulator')
  if (!fs.existsSync(bin)) throw new Error(`no emulator binary at ${bin} (build it, or leave out --no-build)`)
  const out = path.join(work, `emulator-${path.basename(dir)}.callgrind`)
  const server = await startEmulatorBinary(bin, ['valgrind', '--tool=callgrind', `--callgrind-out-file=${out}`])
  const control = (flag) => {
    const r = spawnSync('callgrind_control', [flag, String(server.pid)], { encoding: 'utf8' })
    if (r.status !== 0) throw new Error(`callgrind_control ${flag} ${server.pid} failed: ${r.stderr}`)
  }
  try {
    const { Cloud, DYNAMIC_CURRENT_ENV } = require(ROOT)
    const cloud = new Cloud()
    cloud.init({ env: DYNAMIC_CURRENT_ENV, processEnv: server.info.cloudEnv })
    const call = () => cloud.openapi.tcb.createenvandresource({ type: 'CreatePostpayPackage', alias: 'ab' })
    await callLoop(call, WARMUP, concurrency)
    control('-z')
    await callLoop(call, N1, concurrency)
    control('-d')
  } finally {
    await server.stop()
  }
  // The dump of `-d` is the file's first part.
  const { byObject, sha } = selfCosts(`${out}.1`)
  const total = [...byObject.values()].reduce((a, b) => a + b, 0)
  return { total: total / N1, sha: sha / N1 }
}

async function emulatorMain(baseline, concurrency) {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'wx-instructions-'))
  const build = !process.argv.includes('--no-build')
  let old
  let now
  try {
    old = await emulatorPerCall(baseline, concurrency, work, build)
    now = await emulatorPerCall(ROOT, concurrency, work, build)
  } finally {
    fs.rmSync(work, { recursive: true, force: true })
  }
  console.log(`Instructions per signed cloud call in the emulator binary at concurrency ${concurrency} (callgrind; ${N1} calls of this checkout's SDK)\n`)
  console.log(`| | baseline (${path.basename(baseline)}) | this checkout | ratio |`)
  console.log('|---|---|---|---|')
  console.log(row('**total**', old.total, now.total))
  if (old.sha > 0 && now.sha > 0) {
    console.log(row('of which sha2 (portable code under valgrind)', old.sha, now.sha))
    console.log(row('**total without sha2**', old.total - old.sha, now.total - now.sha))
  } else console.log("\nsha2's part is not told apart: a binary has no symbols (build with CARGO_PROFILE_RELEASE_STRIP=none to see it).")
}

async function main() {
  const baseline = path.resolve(process.argv[2] || path.join(ROOT, '..', 'baseline'))
  const concurrency = Number(process.argv[3] || 64)
  const mode = process.argv[4] || 'cloud'
  if (!['cloud', 'https', 'emulator'].includes(mode)) throw new Error(`mode ${mode}: cloud, https or emulator`)
  const probe = spawnSync('valgrind', ['--version'], { encoding: 'utf8' })
  if (probe.status !== 0) throw new Error('valgrind is not installed (Debian: apt-get install -y valgrind)')
  if (mode === 'emulator') return emulatorMain(baseline, concurrency)
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'wx-instructions-'))
  const emu = await startEmulatorProcess()
  const env = { ...emu.info.cloudEnv, WX_API_BASE_URL: emu.info.url }
  let old
  let now
  try {
    old = perCall(baseline, env, concurrency, mode, emu.info.httpsBaseUrl, work)
    now = perCall(ROOT, env, concurrency, mode, emu.info.httpsBaseUrl, work)
  } finally {
    emu.stop()
    fs.rmSync(work, { recursive: true, force: true })
  }
  const objects = [...new Set([...old.byObject.keys(), ...now.byObject.keys()])]
    .map((ob) => ({ ob, old: old.byObject.get(ob) || 0, now: now.byObject.get(ob) || 0 }))
    .filter((r) => Math.max(r.old, r.now) >= 100)
    .sort((a, b) => b.now - a.now)
  const total = (side) => [...side.byObject.values()].reduce((a, b) => a + b, 0)
  const what = mode === 'https' ? 'HTTPS call (app secret, cached token)' : 'cloud call'
  console.log(`Instructions per ${what} at concurrency ${concurrency} (callgrind; ${N1 - N0} calls, small params)\n`)
  console.log(`| where | baseline (${path.basename(baseline)}) | this checkout | ratio |`)
  console.log('|---|---|---|---|')
  for (const r of objects) console.log(row(r.ob, r.old, r.now))
  if (old.sha > 0 && now.sha > 0) console.log(row('of which sha2 (portable code under valgrind)', old.sha, now.sha))
  console.log(row('**total**', total(old), total(now)))
  if (old.sha > 0 && now.sha > 0) console.log(row('**total without sha2**', total(old) - old.sha, total(now) - now.sha))
  else console.log("\nsha2's part is not told apart: an addon has no symbols (build with CARGO_PROFILE_RELEASE_STRIP=none to see it).")
}

runScript(main, { client })
