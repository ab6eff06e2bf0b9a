'use strict'
// The emulator's default credentials, and the init() options of each calling
// mode pointed at a running emulator — shared by the suites that drive all
// three modes.

const sdk = require('../../index.js')

/** The emulator's default app (HTTPS mode with a managed token). */
const APP = { appid: 'wx0emulatorapp0001', secret: 'emulator-app-secret' }
/** The emulator's default component and authorizer (third-party mode). */
const COMPONENT = {
  componentAppid: 'wx0emulatorcomp001',
  componentAppsecret: 'emulator-component-secret',
  authorizerAppid: 'wx0emulatorauth001',
  authorizerRefreshToken: 'emulator-refresh-token',
}
const MODES = ['cloud', 'https', 'thirdparty']

/**
 * init() options of `mode` against `emu`: the cloud call with the emulator's
 * cloud env, HTTPS with managed app tokens, or third-party with managed
 * component tokens (`ticket` is the verify ticket, `onRotated` receives
 * rotated refresh tokens).
 */
function modeOptions(mode, emu, { ticket = 'ticket@@@test-ticket', onRotated = async () => {} } = {}) {
  const https = { apiBaseUrl: emu.httpsBaseUrl, processEnv: {} }
  switch (mode) {
    case 'cloud':
      return { processEnv: emu.cloudEnv() }
    case 'https':
      return { ...https, ...APP }
    case 'thirdparty':
      return {
        ...https,
        ...COMPONENT,
        getComponentVerifyTicket: async () => ticket,
        onAuthorizerRefreshToken: onRotated,
      }
    default:
      throw new Error(`unknown mode ${mode}`)
  }
}

/** A new SDK instance in `mode` against `emu`, with `common` options first. */
function modeClient(mode, emu, common = {}, callbacks) {
  const cloud = new sdk.Cloud()
  cloud.init({ ...common, ...modeOptions(mode, emu, callbacks) })
  return cloud
}

module.exports = { APP, COMPONENT, MODES, modeOptions, modeClient }
