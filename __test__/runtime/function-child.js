'use strict'
// A cloud function's life on an old runtime, run by the official Node build
// (12.16.3, 16.13.2) on the glibc 2.17 userland, with the package installed
// from its tarball (--omit=dev). ES2019, as the package itself.
//
// Reads its setup from WX_RT (JSON): the installed package, the emulator's
// cloud variables and HTTPS base URL, the Redis port and the ioredis module
// (the user's own client), the event URL's port. Prints one JSON line when its
// event URL listens (`ready`), waits for a line on stdin (the host pushed a
// ticket and an authorization through the emulator), then prints the result.

const t0 = process.hrtime.bigint()
const setup = JSON.parse(process.env.WX_RT)
const cloud = require(setup.pkg)
const http = require('http')
const readline = require('readline')

const ms = (from) => Number(process.hrtime.bigint() - from) / 1e6

function show(e) {
  return { errCode: e.errCode, errMsg: e.errMsg, message: String(e.message), isError: e instanceof Error }
}

async function main() {
  const out = { node: process.version, napi: process.versions.napi }

  // Cold start: require + init + the first (cloud) call, in a fresh process.
  cloud.init({ env: cloud.DYNAMIC_CURRENT_ENV, processEnv: setup.cloudEnv })
  out.cloud = await cloud.openapi.tcb.createenvandresource({ type: 'CreatePostpayPackage', alias: 'rt-cloud' })
  out.coldStartMs = ms(t0)
  out.rssMb = process.memoryUsage().rss / 1048576

  // A failure is a rejected CloudSDKError, as in the reference.
  try {
    await cloud.openapi.tcb.createenvandresource({ type: 'CreatePostpayPackage' })
  } catch (e) {
    out.cloudError = show(e)
  }

  // HTTPS with appid + secret (the SDK gets the access_token).
  const https = new cloud.Cloud()
  https.init({ appid: setup.app.appid, secret: setup.app.secret, apiBaseUrl: setup.httpsBaseUrl, processEnv: {} })
  out.https = await https.openapi.tcb.createenvandresource({ type: 'CreatePostpayPackage', alias: 'rt-https' })

  // Third-party, managed: the event URL fills a Redis store, the client reads it.
  const Redis = require(setup.ioredis)
  const redis = new Redis({ host: '127.0.0.1', port: setup.redisPort, lazyConnect: false, maxRetriesPerRequest: 2 })
  const store = cloud.redisStore(redis)
  const handle = cloud.createComponentEventHandler(Object.assign({}, setup.platform, setup.events, { store, apiBaseUrl: setup.httpsBaseUrl }))
  const events = []
  const server = http.createServer((req, res) => {
    const chunks = []
    req.on('data', (c) => chunks.push(c))
    req.on('end', () => {
      handle({ query: req.url, body: Buffer.concat(chunks) }).then(
        (event) => {
          events.push(event.infoType || event.InfoType || 'event')
          res.end('success')
        },
        (e) => {
          events.push(`error ${e.errCode}`)
          res.statusCode = 400
          res.end(String(e.errCode))
        },
      )
    })
  })
  await new Promise((resolve) => server.listen(setup.eventPort, '127.0.0.1', resolve))
  process.stdout.write(`${JSON.stringify({ ready: true })}\n`)
  await new Promise((resolve) => readline.createInterface({ input: process.stdin }).once('line', resolve))
  out.events = events

  const third = new cloud.Cloud()
  third.init(Object.assign({}, setup.platform, { store, apiBaseUrl: setup.httpsBaseUrl, processEnv: {} }))
  out.thirdParty = await third.openapi({ appid: setup.authorizer }).tcb.createenvandresource({ type: 'CreatePostpayPackage', alias: 'rt-3rd' })
  out.storeKeys = (await redis.keys('*')).sort()

  server.close()
  redis.disconnect()
  return out
}

// Exit once the result is out (a pipe's write is synchronous on Linux): the
// emulator keeps its push connections to the event URL alive.
main().then(
  (out) => {
    process.stdout.write(`${JSON.stringify({ result: out })}\n`)
    process.exit(0)
  },
  (e) => {
    process.stdout.write(`${JSON.stringify({ failed: show(e), stack: String(e.stack) })}\n`)
    process.exit(1)
  },
)
