'use strict'
// Client CPU per cloud call of two builds of this checkout's addon (e.g. two
// release profiles), with this checkout's JavaScript, in alternating pairs
// (a, b, b, a, …) against one emulator in its own process (server-proc.js).
//
//   node bench/lib/addon-ab.js ADDON_A ADDON_B [PAIRS] [CONCURRENCY]
//
// Build each addon into its own folder, e.g.
//   CARGO_TARGET_DIR=/tmp/t3 npx napi build --platform --release --no-default-features -o /tmp/a3
// Each run: 2,000 warm-up calls, then 20,000 calls with small params at
// CONCURRENCY (default 64). Prints each pair's ratio a/b, their median and
// how many are above 1 (bench/NOTES.md, "Against issue 20's starting point").

const path = require('path')
const { ROOT, median, runChild, report, timeCalls, startEmulatorProcess, runScript } = require('./common')

const WARMUP = 2000
const CALLS = 20000

async function client(concurrencyText) {
  const concurrency = Number(concurrencyText)
  const cloud = require(ROOT)
  cloud.init({ env: cloud.DYNAMIC_CURRENT_ENV })
  const call = () => cloud.openapi.tcb.createenvandresource({ type: 'CreatePostpayPackage', alias: 'ab' })
  const { cpuUs } = await timeCalls(call, { warmup: WARMUP, calls: CALLS, concurrency })
  report({ cpuUs })
  process.exit(0)
}

async function main() {
  const [a, b] = [process.argv[2], process.argv[3]].map((p) => p && path.resolve(p))
  if (!a || !b) throw new Error('usage: node bench/lib/addon-ab.js ADDON_A ADDON_B [PAIRS] [CONCURRENCY]')
  const pairs = Number(process.argv[4] || 10)
  const concurrency = Number(process.argv[5] || 64)
  const emu = await startEmulatorProcess()
  const env = { ...emu.info.cloudEnv, WX_API_BASE_URL: emu.info.url }
  const ratios = []
  try {
    for (let i = 0; i < pairs; i++) {
      const got = {}
      // a first in even pairs, b first in odd ones (no order bias).
      for (const which of i % 2 === 0 ? 'ab' : 'ba') {
        const addon = which === 'a' ? a : b
        got[which] = await runChild(__filename, ['client', String(concurrency)], { env: { ...env, NAPI_RS_NATIVE_LIBRARY_PATH: addon } })
      }
      ratios.push(got.a.cpuUs / got.b.cpuUs)
      console.log(`pair ${i + 1}: a ${got.a.cpuUs.toFixed(1)} µs, b ${got.b.cpuUs.toFixed(1)} µs CPU per call, a/b ${ratios[i].toFixed(3)}`)
    }
  } finally {
    emu.stop()
  }
  const sorted = [...ratios].sort((x, y) => x - y).map((r) => r.toFixed(2))
  const above = ratios.filter((r) => r > 1).length
  console.log(`c=${concurrency}: a/b CPU per call, median ${median(ratios).toFixed(3)} of ${pairs} pairs (${sorted.join(' ')}); ${above} above 1`)
}

runScript(main, { client })
