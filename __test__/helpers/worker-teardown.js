'use strict'
// Run as a child process by panic.test.js: worker threads load the addon,
// start calls (to a server that never answers, and with third-party
// callbacks that never settle) and are terminated with all of that in
// flight. The process must outlive them all and exit normally.
const { Worker } = require('worker_threads')
const net = require('net')
const path = require('path')

const INDEX = path.join(__dirname, '..', '..', 'index.js')
const silent = net.createServer((s) => s.on('data', () => {}))

silent.listen(0, '127.0.0.1', async () => {
  const port = silent.address().port
  for (let round = 0; round < 10; round++) {
    const w = new Worker(
      `
      const { parentPort } = require('worker_threads')
      const sdk = require(${JSON.stringify(INDEX)})
      const https = new sdk.Cloud()
      https.init({ timeout: 3000, processEnv: {}, accessToken: 'worker-token', apiBaseUrl: 'http://127.0.0.1:${port}' })
      const cloud = new sdk.Cloud()
      cloud.init({ timeout: 3000, processEnv: {}, secretId: 'AKIDworker', secretKey: 'worker-key', env: 'e', serviceUrl: 'http://127.0.0.1:${port}/admin' })
      for (let i = 0; i < 20; i++) {
        https.openapi.tcb.x({}).catch(() => {})
        cloud.openapi.tcb.x({}).catch(() => {})
      }
      sdk.startEmulator().then((emu) => {
        const C = { componentAppid: 'wx0emulatorcomp001', componentAppsecret: 'emulator-component-secret', authorizerAppid: 'wx0emulatorauth001' }
        const third = new sdk.Cloud()
        third.init({ timeout: 3000, processEnv: {}, apiBaseUrl: emu.httpsBaseUrl, ...C, authorizerRefreshToken: 'emulator-refresh-token',
          getComponentVerifyTicket: () => new Promise(() => {}), onAuthorizerRefreshToken: async () => {} })
        for (let i = 0; i < 10; i++) third.openapi.tcb.createenvandresource({ type: 'CreatePostpayPackage', alias: 'w' }).catch(() => {})
        parentPort.postMessage('busy')
      })
    `,
      { eval: true },
    )
    await new Promise((r) => w.once('message', r))
    await new Promise((r) => setTimeout(r, 10 * round))
    await w.terminate()
  }
  // the core's timers for the abandoned calls and callbacks fire now
  await new Promise((r) => setTimeout(r, 3500))
  silent.close()
  console.log('alive')
})
