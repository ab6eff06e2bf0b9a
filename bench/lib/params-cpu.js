'use strict'
// Client CPU per cloud call for two params shapes, this checkout against a
// baseline checkout, alternating (old, new, new, old, …), each run in its
// own process against one emulator in another process (server-proc.js), so
// that the figure is the client's CPU alone (process.cpuUsage).
//
//   node bench/lib/params-cpu.js [BASELINE_DIR] [PAIRS]
//
// Each checkout needs its release addon at its root (`npm run build`), or
// both use the one NAPI_RS_NATIVE_LIBRARY_PATH names (a change in JS only).
// Each run: 2,000 warm-up calls, then 20,000 calls at concurrency 64; then
// the marshalling alone (index.js's marshalParams, 200,000 times).

const path = require('path')
const { spawn } = require('child_process')
const { ROOT, median, timeCalls, startEmulatorProcess, runScript } = require('./common')

const CALLS = 20000
const WARMUP = 2000
const CONCURRENCY = 64

/** A params object of some 60 values, nested four levels deep. */
function nested() {
  const item = (i) => ({ itemId: `item-${i}`, count: i, price: i * 1.5, tags: ['a', 'b', `t${i}`], extra: { fooBar: true, note: null } })
  return {
    type: 'CreatePostpayPackage',
    alias: 'x',
    orderInfo: { outTradeNo: 'order-123456', totalFee: 100, items: [0, 1, 2, 3, 4, 5].map(item) },
    userInfo: { openId: 'o-abcdefghijklmnop', nickName: '微信用户', address: { city: 'Shenzhen', zipCode: '518000' } },
  }
}
const PARAMS = { small: () => ({ type: 'CreatePostpayPackage', alias: 'x' }), nested }

async function client(checkout, kind) {
  const cloud = require(checkout)
  cloud.init({ env: cloud.DYNAMIC_CURRENT_ENV })
  const make = PARAMS[kind]
  const call = () => cloud.openapi.tcb.createenvandresource(make())
  const timed = await timeCalls(call, { warmup: WARMUP, calls: CALLS, concurrency: CONCURRENCY })
  process.stdout.write(`@@RESULT@@ ${JSON.stringify(timed)}\n`)
}

/**
 * The marshalling alone: index.js's own `marshalParams` of `checkout`
 * (compiled with one line that exports it), 200,000 times in one process.
 */
function micro(checkout, kind) {
  const Module = require('module')
  const file = path.join(checkout, 'index.js')
  const m = new Module(file, module)
  m.filename = file
  m.paths = Module._nodeModulePaths(checkout)
  const source = require('fs').readFileSync(file, 'utf8')
  m._compile(`${source}\nmodule.exports.__marshalParams = marshalParams\n`, file)
  const marshal = m.exports.__marshalParams
  const make = PARAMS[kind]
  const n = 200000
  for (let i = 0; i < 20000; i++) marshal('tcb.createenvandresource', make(), true)
  let start = process.cpuUsage()
  for (let i = 0; i < n; i++) make()
  const making = process.cpuUsage(start)
  start = process.cpuUsage()
  for (let i = 0; i < n; i++) marshal('tcb.createenvandresource', make(), true)
  const cpu = process.cpuUsage(start)
  const us = (c) => c.user + c.system
  process.stdout.write(`@@RESULT@@ ${JSON.stringify({ cpuUs: (us(cpu) - us(making)) / n })}\n`)
}

function childResult(args, env) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [__filename, ...args], {
      env: { PATH: process.env.PATH, NAPI_RS_NATIVE_LIBRARY_PATH: process.env.NAPI_RS_NATIVE_LIBRARY_PATH || '', ...env },
      stdio: ['ignore', 'pipe', 'inherit'],
    })
    let out = ''
    child.stdout.on('data', (c) => (out += c))
    child.on('exit', (code) => {
      const line = out.split('\n').find((l) => l.startsWith('@@RESULT@@ '))
      if (code !== 0 || !line) reject(new Error(`client exited ${code}: ${out}`))
      else resolve(JSON.parse(line.slice(11)))
    })
  })
}

async function main() {
  const baseline = path.resolve(process.argv[2] || path.join(ROOT, '..', 'baseline'))
  const pairs = Number(process.argv[3] || 3)
  // One server for both clients: this checkout's emulator (the baseline
  // needs no emulator build of its own; the figure is the client's CPU).
  const emu = await startEmulatorProcess()
  const env = { ...emu.info.cloudEnv, WX_API_BASE_URL: emu.info.url }
  const rows = {}
  for (const kind of Object.keys(PARAMS)) {
    rows[kind] = { old: [], new: [] }
    rows[`${kind} marshalParams`] = { old: [], new: [] }
  }
  try {
    for (let i = 0; i < pairs; i++) {
      for (const kind of Object.keys(PARAMS)) {
        // Old first in odd pairs, new first in even ones (no order bias).
        const order = [
          ['old', baseline],
          ['new', ROOT],
        ]
        if (i % 2 === 1) order.reverse()
        for (const [which, dir] of order) {
          const r = await childResult(['client', dir, kind], env)
          rows[kind][which].push(r.cpuUs)
          console.log(`pair ${i + 1} ${kind.padEnd(6)} ${which}: ${r.cpuUs.toFixed(1)} µs CPU/call (${r.wallUs.toFixed(1)} µs wall/call)`)
          const mr = await childResult(['micro', dir, kind], env)
          rows[`${kind} marshalParams`][which].push(mr.cpuUs)
          console.log(`pair ${i + 1} ${kind.padEnd(6)} ${which}: ${mr.cpuUs.toFixed(2)} µs CPU per marshalParams`)
        }
      }
    }
  } finally {
    emu.stop()
  }
  for (const [kind, r] of Object.entries(rows)) {
    const ratios = r.new.map((n, i) => n / r.old[i])
    console.log(
      `${kind}: old ${median(r.old).toFixed(2)} µs, new ${median(r.new).toFixed(2)} µs (medians); new/old per pair ${ratios.map((x) => x.toFixed(3)).join(' ')}`,
    )
  }
}

runScript(main, { client, micro })
