'use strict'
// One throughput run in a fresh process: `node client.js '<json spec>'`.
//
// spec: {mode, concurrency, warmupMs, durationMs, maxCalls, request?, https?}
//   mode 'ours'       our SDK, cloud call, configured from process.env
//   mode 'ref'        wx-server-sdk 4.0.2, cloud call, configured from process.env
//   mode 'raw'        node `http` keep-alive POST of a recorded request
//                     (spec.request: file with {url, headers, bodyBase64})
//   mode 'https-ours' our SDK in HTTPS mode (spec.https: {baseUrl, appid, secret})
//   mode 'https-raw'  node `http` keep-alive POST of the same JSON body to
//                     `{baseUrl}/tcb/createenvandresource?access_token=…`
//   mode 'thirdparty-redis' our SDK, managed third-party mode, tokens in a
//                     Redis store through ioredis (spec.thirdParty: {baseUrl,
//                     redisPort, prefix}); the token is cached after the first call
// spec.root: the checkout whose SDK 'ours', 'https-ours' and 'thirdparty-redis'
// load (default: this one; bench/run.js --baseline passes the baseline's).
//
// `concurrency` workers each loop: await one call, repeat. Calls completed
// during [warmup end, warmup end + duration] are counted; no new call starts
// after that window, and at most `maxCalls` start in all (bounded).
// Every answer is checked (errCode 0 / HTTP 200); failures are counted.

const http = require('http')
const fs = require('fs')
const { ROOT, REFERENCE, report } = require('./common')

const PARAMS = { type: 'CreatePostpayPackage', alias: 'bench' }

function keepAliveAgent(concurrency) {
  return new http.Agent({ keepAlive: true, maxSockets: concurrency, maxFreeSockets: concurrency })
}

/** POST `body` with `headers` to `url` over `agent`; resolves {status, body}. */
function post(agent, url, headers, body) {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', agent, headers }, (res) => {
      const chunks = []
      res.on('data', (c) => chunks.push(c))
      res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks) }))
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end(body)
  })
}

async function makeCall(spec) {
  // The SDK measured as ours (a baseline checkout's with --baseline).
  const sdk = spec.root || ROOT
  switch (spec.mode) {
    case 'ours':
    case 'ref': {
      const cloud = require(spec.mode === 'ours' ? sdk : REFERENCE)
      cloud.init({ env: cloud.DYNAMIC_CURRENT_ENV })
      return async () => {
        const r = await cloud.openapi.tcb.createenvandresource(PARAMS)
        if (r.errCode !== 0) throw new Error(`errCode ${r.errCode}`)
      }
    }
    case 'raw': {
      const rec = JSON.parse(fs.readFileSync(spec.request, 'utf8'))
      const body = Buffer.from(rec.bodyBase64, 'base64')
      const agent = keepAliveAgent(spec.concurrency)
      return async () => {
        const r = await post(agent, rec.url, rec.headers, body)
        // a gateway error is HTTP 200 with a JSON body; the answer we expect is protobuf
        if (r.status !== 200 || r.body.length === 0 || r.body[0] === 0x7b) throw new Error(`HTTP ${r.status} ${r.body.slice(0, 200)}`)
      }
    }
    case 'https-ours': {
      const cloud = require(sdk)
      cloud.init({ mode: 'https', appid: spec.https.appid, secret: spec.https.secret, apiBaseUrl: spec.https.baseUrl })
      return async () => {
        const r = await cloud.openapi.tcb.createenvandresource(PARAMS)
        if (r.errCode !== 0) throw new Error(`errCode ${r.errCode}`)
      }
    }
    case 'https-raw': {
      const agent = keepAliveAgent(spec.concurrency)
      const { baseUrl, appid, secret } = spec.https
      const tokenUrl = `${baseUrl}/cgi-bin/stable_token`
      const tokenBody = JSON.stringify({ grant_type: 'client_credential', appid, secret })
      const t = await post(agent, tokenUrl, { 'content-type': 'application/json' }, tokenBody)
      const token = JSON.parse(t.body).access_token
      if (!token) throw new Error(`no token: ${t.body}`)
      const url = `${baseUrl}/tcb/createenvandresource?access_token=${encodeURIComponent(token)}`
      const body = Buffer.from(JSON.stringify(PARAMS))
      const headers = { 'content-type': 'application/json', 'content-length': body.length }
      return async () => {
        const r = await post(agent, url, headers, body)
        const j = JSON.parse(r.body)
        if (r.status !== 200 || j.errcode !== 0) throw new Error(`HTTP ${r.status} ${r.body.slice(0, 200)}`)
      }
    }
    case 'thirdparty-redis': {
      const cloud = require(sdk)
      const Redis = require('ioredis')
      const { baseUrl, redisPort, prefix } = spec.thirdParty
      const client = new Redis({ port: redisPort, host: '127.0.0.1' })
      cloud.init({
        componentAppid: 'wx0emulatorcomp001',
        componentAppsecret: 'emulator-component-secret',
        authorizerAppid: 'wx0emulatorauth001',
        authorizerRefreshToken: 'emulator-refresh-token',
        getComponentVerifyTicket: () => 'ticket@@@bench',
        store: cloud.redisStore(client, { prefix }),
        apiBaseUrl: baseUrl,
      })
      return async () => {
        const r = await cloud.openapi({ appid: 'wx0emulatorauth001' }).tcb.createenvandresource(PARAMS)
        if (r.errCode !== 0) throw new Error(`errCode ${r.errCode}`)
      }
    }
    default:
      throw new Error(`unknown mode ${spec.mode}`)
  }
}

async function main() {
  const spec = JSON.parse(process.argv[2])
  const call = await makeCall(spec)
  const maxCalls = spec.maxCalls || 5e6
  let started = 0
  let counted = 0
  let failures = 0
  let firstFailure = null
  let windowStart = Infinity
  let windowEnd = Infinity
  let stop = false
  const now = () => performance.now()

  async function worker() {
    while (!stop && started < maxCalls) {
      started++
      try {
        await call()
        const t = now()
        if (t >= windowStart && t <= windowEnd) counted++
      } catch (e) {
        failures++
        if (firstFailure === null) firstFailure = String((e && (e.errMsg || e.message)) || e)
      }
      if (now() > windowEnd) stop = true
    }
  }

  const t0 = now()
  windowStart = t0 + spec.warmupMs
  windowEnd = windowStart + spec.durationMs
  let cpuAtStart = null
  const cpuTimer = setTimeout(() => (cpuAtStart = process.cpuUsage()), spec.warmupMs)
  await Promise.all(Array.from({ length: spec.concurrency }, worker))
  clearTimeout(cpuTimer)
  const cpu = process.cpuUsage(cpuAtStart || undefined)
  const elapsed = Math.min(now(), windowEnd) - windowStart
  report({
    mode: spec.mode,
    concurrency: spec.concurrency,
    callsPerSec: (counted / elapsed) * 1000,
    counted,
    started,
    failures,
    firstFailure,
    clientCpuUsPerCall: counted ? (cpu.user + cpu.system) / counted : NaN,
    rssMB: process.memoryUsage.rss() / 2 ** 20,
  })
  process.exit(0)
}

main().catch((e) => {
  report({ error: String(e?.stack || e) })
  process.exit(1)
})
