'use strict'
// Client CPU per call at concurrency 1 (one call after the other, as a cloud
// function makes them), this checkout against a baseline checkout, in
// alternating pairs (old, new, new, old, …), each run in a fresh process
// against one emulator (this checkout's) in the parent process.
//
//   node bench/lib/serial-cpu.js BASELINE_DIR [cloud|https|thirdparty-redis] [PAIRS]
//
// Each checkout needs its release addon at its root (`npm run build:release`).
// Each run: 300 warm-up calls, then 3,000 calls. At concurrency 1 every call
// pays the thread wake-ups, so one run's figure moves ±10-15% with the
// machine; the ratio new/old of each pair (neighbouring runs) and how many
// pairs are above 1 are what to read (bench/NOTES.md, "Concurrency 1").

const path = require('path')
const { ROOT, median, runChild, report, timeCalls, runScript } = require('./common')
const { APP, COMPONENT } = require('../../__test__/helpers/emu-modes.js')

const WARMUP = 300
const CALLS = 3000
const PARAMS = { type: 'CreatePostpayPackage', alias: 'serial' }
const TICKET = () => 'ticket@@@bench'

/** One run in this process: the checkout's SDK in `mode`, CPU and wall time per call. */
async function client(checkout, mode, httpsBaseUrl, redisPortText) {
  const redisPort = Number(redisPortText)
  const cloud = require(checkout)
  let call
  if (mode === 'cloud') {
    cloud.init({ env: cloud.DYNAMIC_CURRENT_ENV })
    call = () => cloud.openapi.tcb.createenvandresource(PARAMS)
  } else if (mode === 'https') {
    cloud.init({ mode: 'https', ...APP, apiBaseUrl: httpsBaseUrl })
    call = () => cloud.openapi.tcb.createenvandresource(PARAMS)
  } else if (mode === 'thirdparty-redis') {
    const Redis = require(require.resolve('ioredis', { paths: [ROOT] }))
    const redis = new Redis({ port: redisPort, host: '127.0.0.1' })
    cloud.init({
      ...COMPONENT,
      getComponentVerifyTicket: TICKET,
      apiBaseUrl: httpsBaseUrl,
      store: cloud.redisStore(redis, { prefix: `serial${process.pid}:` }),
    })
    call = () => cloud.openapi({ appid: COMPONENT.authorizerAppid }).tcb.createenvandresource(PARAMS)
  } else {
    throw new Error(`unknown mode ${mode}`)
  }
  // Concurrency 1: one call after the other.
  report(await timeCalls(call, { warmup: WARMUP, calls: CALLS, concurrency: 1 }))
  process.exit(0)
}

async function main() {
  const baseline = path.resolve(process.argv[2] || path.join(ROOT, '..', 'baseline'))
  const mode = process.argv[3] || 'https'
  const pairs = Number(process.argv[4] || 10)
  const cloud = require(ROOT)
  const emu = await cloud.startEmulator({ logPushFailures: false })
  const redis = mode === 'thirdparty-redis' ? await require('../../__test__/helpers/redis.js').startRedis() : null
  const env = { ...emu.cloudEnv(), WX_API_BASE_URL: emu.url }
  const args = [emu.httpsBaseUrl, String(redis ? redis.port : 0)]
  const ratios = []
  try {
    for (let i = 0; i < pairs; i++) {
      // Old first in even pairs, new first in odd ones (no order bias).
      const order = i % 2 === 0 ? ['old', 'new'] : ['new', 'old']
      const got = {}
      for (const which of order) {
        got[which] = await runChild(__filename, ['client', which === 'old' ? baseline : ROOT, mode, ...args], { env })
      }
      ratios.push(got.new.cpuUs / got.old.cpuUs)
      const show = (r) => `${r.cpuUs.toFixed(1)} µs CPU (user ${r.userUs.toFixed(1)}, system ${r.systemUs.toFixed(1)}; ${r.wallUs.toFixed(1)} µs wall)`
      console.log(`pair ${i + 1} ${mode}: old ${show(got.old)}, new ${show(got.new)}, new/old ${ratios[i].toFixed(3)}`)
    }
  } finally {
    await emu.close()
    if (redis) await redis.stop()
  }
  const above = ratios.filter((r) => r > 1).length
  const sorted = [...ratios].sort((a, b) => a - b).map((r) => r.toFixed(2))
  console.log(`${mode} c=1: new/old CPU per call, median ${median(ratios).toFixed(3)} of ${pairs} pairs (${sorted.join(' ')}); ${above} above 1`)
}

runScript(main, { client })
