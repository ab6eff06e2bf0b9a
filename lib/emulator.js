'use strict'
// The local emulator of the cloud-base gateway and of the WeChat HTTPS API,
// as a JS API over the native binding: everything, the options' checks
// included, happens in Rust (crates/emulator/).

/**
 * startEmulator's options as the JSON text the addon reads: serde checks
 * them there (crates/emulator/src/start_options.rs: unknown options,
 * types, ranges, the settings that go together), with messages naming the
 * option. An option set to `undefined` is sent as null (not given), so
 * that a misspelt one is still refused.
 */
function optionsJson(options) {
  if (options === undefined || options === null) return '{}'
  if (typeof options !== 'object' || Array.isArray(options)) {
    throw new TypeError('startEmulator(options): options must be an object')
  }
  return JSON.stringify(options, (_, v) => (v === undefined ? null : v))
}

// The native listener runs on the addon's own threads, which do not keep
// Node's event loop alive. A listening emulator does, as a node `http` server
// does: it holds a timer that does nothing until close(); unref() lets the
// process exit while it listens, ref() undoes that.
const KEEP_ALIVE_MS = 2 ** 31 - 1

/** An account id for authorize() and revoke(). */
function accountId(method, appid) {
  if (typeof appid !== 'string' || appid === '') throw new TypeError(`${method}(appid): appid must be a non-empty string`)
  return appid
}

/**
 * A running emulator (see `startEmulator`; its methods are documented in
 * lib/emulator.d.ts). Most are the native handle's own
 * (src/binding/emulator.rs), forwarded below.
 */
class Emulator {
  constructor(handle) {
    this._handle = handle
    this._keepAlive = setInterval(() => {}, KEEP_ALIVE_MS)
  }

  unref() {
    if (this._keepAlive) this._keepAlive.unref()
    return this
  }

  ref() {
    if (this._keepAlive) this._keepAlive.ref()
    return this
  }

  get url() {
    return this._handle.url
  }

  get httpsBaseUrl() {
    return this._handle.httpsBaseUrl
  }

  /** A fault spec is checked by serde in the emulator (crates/emulator/src/faults.rs: unknown fields, kinds, ranges). */
  injectFault(spec) {
    if (spec === null || typeof spec !== 'object' || Array.isArray(spec)) {
      throw new TypeError('injectFault(spec): spec must be an object')
    }
    this._handle.injectFault(JSON.stringify(spec, (_, v) => (v === null ? undefined : v)))
  }

  authorize(appid) {
    return this._handle.authorize(accountId('authorize', appid))
  }

  revoke(appid) {
    return this._handle.revoke(accountId('revoke', appid))
  }

  close() {
    clearInterval(this._keepAlive)
    this._keepAlive = null
    return this._handle.close()
  }
}

for (const name of ['cloudEnv', 'environments', 'stats', 'pushTicket', 'authorizers', 'clearFaults']) {
  Emulator.prototype[name] = function () {
    return this._handle[name]()
  }
}

/**
 * Start the emulator.
 *
 *   const { startEmulator } = require('wx-cloud-openapi')
 *   const emu = await startEmulator({ dataFile: './envs.json' })
 *   spawn('node', ['fn.js'], { env: { PATH: process.env.PATH, ...emu.cloudEnv() } })
 */
async function startEmulator(options) {
  const handle = await require('./load.js').loadEmulatorBinding().startEmulator(optionsJson(options))
  return new Emulator(handle)
}

module.exports = { startEmulator, Emulator }
