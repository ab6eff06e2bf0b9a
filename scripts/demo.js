'use strict'
// The main job: a cloud function's openapi call, run offline against the
// embedded emulator. `npm start` builds the addon first when needed.
const fs = require('fs')
const http = require('http')
const path = require('path')

// The release addon `npm start` built (scripts/build-if-needed.js), apart
// from the debug one `npm test` builds in the package root.
if (!process.env.NAPI_RS_NATIVE_LIBRARY_PATH) {
  const dir = path.join(__dirname, '..', 'target', 'demo-addon')
  const addon = fs.existsSync(dir) && fs.readdirSync(dir).find((f) => /^wx-cloud-openapi\..+\.node$/.test(f))
  if (addon) process.env.NAPI_RS_NATIVE_LIBRARY_PATH = path.join(dir, addon)
}
const cloud = require('..')

// The third-party platform's event URL: the emulator (as WeChat) pushes
// encrypted tickets and authorizations here; the handler fills the store.
const EVENTS = { token: 'demo-message-token', encodingAesKey: 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG' }

async function eventServer(handle) {
  const server = http.createServer((req, res) => {
    const chunks = []
    req.on('data', (c) => chunks.push(c))
    req.on('end', () =>
      handle({ query: req.url, body: Buffer.concat(chunks) }).then(
        () => res.end('success'),
        (e) => {
          res.statusCode = 400
          res.end(String(e.errCode))
        },
      ),
    )
  })
  await new Promise((r) => server.listen(0, '127.0.0.1', r))
  return { url: `http://127.0.0.1:${server.address().port}/wechat/component`, close: () => new Promise((r) => server.close(r)) }
}

function show(label, value) {
  console.log(`${label.padEnd(34)} ${typeof value === 'string' ? value : JSON.stringify(value)}`)
}

async function main() {
  let handle = null
  const site = await eventServer((req) => handle(req))
  const emulator = await cloud.startEmulator({
    componentEventUrl: site.url,
    componentToken: EVENTS.token,
    componentEncodingAesKey: EVENTS.encodingAesKey,
    ticketIntervalMs: 0, // the demo pushes the ticket itself
  })
  try {
    const env = emulator.cloudEnv()
    show('emulator listening on', emulator.url)
    show('cloud function environment', `TCB_ENV=${env.TCB_ENV}, TENCENTCLOUD_SECRETID=${env.TENCENTCLOUD_SECRETID.slice(0, 8)}…`)

    // Inside a real cloud function these variables come from the runtime;
    // here the emulator provides them. The call itself is unchanged.
    cloud.init({ env: cloud.DYNAMIC_CURRENT_ENV, processEnv: env })

    const created = await cloud.openapi.tcb.createenvandresource({ type: 'CreatePostpayPackage', alias: 'test-env' })
    show('createenvandresource →', created)

    const listed = await cloud.openapi.tcb.describeenvs({})
    show('describeenvs →', listed.infoList.map((e) => `${e.env} (${e.alias}, ${e.status})`).join(', '))

    try {
      await cloud.openapi.tcb.createenvandresource({ type: 'CreatePostpayPackage' })
    } catch (e) {
      show('without alias →', `${e.constructor.name} errCode=${e.errCode} errMsg="${e.errMsg}"`)
    }

    emulator.injectFault({ api: 'tcb.createenvandresource', kind: 'errcode', errcode: -1, times: 1 })
    try {
      await cloud.openapi.tcb.createenvandresource({ type: 'CreatePostpayPackage', alias: 'busy' })
    } catch (e) {
      show('with an injected busy fault →', `errCode=${e.errCode} (not retried: it may have created an environment)`)
    }

    // The same call over HTTPS: the SDK gets and caches the access_token.
    const https = new cloud.Cloud()
    https.init({ appid: 'wx0emulatorapp0001', secret: 'emulator-app-secret', apiBaseUrl: emulator.httpsBaseUrl, processEnv: {} })
    show('HTTPS (appid + secret) →', await https.openapi.tcb.createenvandresource({ type: 'CreatePostpayPackage', alias: 'https-env' }))

    // A third-party platform: its event URL and its clients share one token
    // store (here in memory; cloud.redisStore(client) across processes).
    const store = cloud.memoryStore()
    const platform = { componentAppid: 'wx0emulatorcomp001', componentAppsecret: 'emulator-component-secret' }
    handle = cloud.createComponentEventHandler({ ...platform, ...EVENTS, store, apiBaseUrl: emulator.httpsBaseUrl })
    await emulator.pushTicket()
    await emulator.authorize('wxdemoshop000001')
    await emulator.authorize('wxdemoshop000002')
    show('pushed to the event URL', 'a verify ticket, 2 authorizations (refresh tokens now in the store)')

    // No ticket callback, no refresh token: everything comes from the store.
    const third = new cloud.Cloud()
    third.init({ ...platform, store, apiBaseUrl: emulator.httpsBaseUrl, processEnv: {} })
    for (const appid of ['wxdemoshop000001', 'wxdemoshop000002']) {
      const r = await third.openapi({ appid }).tcb.createenvandresource({ type: 'CreatePostpayPackage', alias: appid.slice(-4) })
      show(`third-party for ${appid} →`, `${r.envid} in account ${emulator.environments().find((e) => e.env === r.envid).account}`)
    }
    await emulator.revoke('wxdemoshop000002')
    try {
      await third.openapi({ appid: 'wxdemoshop000002' }).tcb.createenvandresource({ type: 'CreatePostpayPackage', alias: 'gone' })
    } catch (e) {
      show('after wxdemoshop000002 revoked →', `errCode=${e.errCode} (its tokens were deleted by the unauthorized event)`)
    }

    const stats = emulator.stats()
    show('environments in the emulator', emulator.environments().length)
    show('calls per endpoint', stats.calls)
    show('tokens issued', stats.tokensIssued)
  } finally {
    await emulator.close()
    await site.close()
  }
}

main().catch((e) => {
  console.error('demo failed:', e && e.message)
  process.exitCode = 1
})
