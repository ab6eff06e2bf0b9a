'use strict'
// The main job: a cloud function's openapi call, run offline against the
// embedded emulator. `npm start` builds the addon first when needed.
const cloud = require('..')

function show(label, value) {
  console.log(`${label.padEnd(34)} ${typeof value === 'string' ? value : JSON.stringify(value)}`)
}

async function main() {
  const emulator = await cloud.startEmulator()
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

    // A third-party platform acting for an authorized account.
    let rotated = 0
    const third = new cloud.Cloud()
    third.init({
      componentAppid: 'wx0emulatorcomp001',
      componentAppsecret: 'emulator-component-secret',
      getComponentVerifyTicket: async () => 'ticket@@@demo',
      authorizerAppid: 'wx0emulatorauth001',
      authorizerRefreshToken: 'emulator-refresh-token',
      onAuthorizerRefreshToken: async () => {
        rotated += 1 // store it: WeChat may have rotated the refresh token
      },
      apiBaseUrl: emulator.httpsBaseUrl,
      processEnv: {},
    })
    show('third-party (authorizer token) →', await third.openapi.tcb.createenvandresource({ type: 'CreatePostpayPackage', alias: 'tp-env' }))
    show('refresh tokens handed back', rotated)

    const stats = emulator.stats()
    show('environments in the emulator', emulator.environments().length)
    show('calls per endpoint', stats.calls)
    show('tokens issued', stats.tokensIssued)
  } finally {
    await emulator.close()
  }
}

main().catch((e) => {
  console.error('demo failed:', e?.message)
  process.exitCode = 1
})
