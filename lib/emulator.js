'use strict'
// The local emulator of the cloud-base gateway and of the WeChat HTTPS API,
// as a JS API over the native binding: everything, the options' checks
// included, happens in Rust (crates/emulator/).

const FAULT_KEYS = new Set(['api', 'kind', 'door', 'errcode', 'errmsg', 'delayMs', 'status', 'times', 'probability', 'seed'])

let binding = null
function loadBinding() {
  if (binding === null) binding = require('./load.js').loadEmulatorBinding()
  return binding
}

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

function normaliseFault(spec) {
  if (spec === null || typeof spec !== 'object' || Array.isArray(spec)) {
    throw new TypeError('injectFault(spec): spec must be an object')
  }
  const out = {}
  for (const [k, v] of Object.entries(spec)) {
    const key = k === 'delay_ms' ? 'delayMs' : k
    if (!FAULT_KEYS.has(key)) throw new TypeError(`injectFault(spec): unknown field ${k}`)
    if (v !== undefined && v !== null) out[key] = v
  }
  if (typeof out.kind !== 'string') throw new TypeError('injectFault(spec): kind is required')
  return out
}

// The native listener runs on the addon's own threads, which do not keep
// Node's event loop alive. A listening emulator does, as a node `http` server
// does: it holds a timer that does nothing until close(); unref() lets the
// process exit while it listens, ref() undoes that.
const KEEP_ALIVE_MS = 2 ** 31 - 1

/** A running emulator (see `startEmulator`). */
class Emulator {
  constructor(handle) {
    this._handle = handle
    this._keepAlive = setInterval(() => {}, KEEP_ALIVE_MS)
  }

  /** Let the process exit while the emulator listens (as `server.unref()`). Returns the emulator. */
  unref() {
    if (this._keepAlive) this._keepAlive.unref()
    return this
  }

  /** Keep the process alive while the emulator listens again (the default). Returns the emulator. */
  ref() {
    if (this._keepAlive) this._keepAlive.ref()
    return this
  }

  /** `http://127.0.0.1:PORT`; the gateway is `{url}/admin`. */
  get url() {
    return this._handle.url
  }

  /** Base URL replacing `https://api.weixin.qq.com` in HTTPS mode. */
  get httpsBaseUrl() {
    return this._handle.httpsBaseUrl
  }

  /** Environment variables of a cloud function pointed at this emulator. */
  cloudEnv() {
    const env = this._handle.cloudEnv()
    const sorted = {}
    for (const k of Object.keys(env).sort()) sorted[k] = env[k]
    return sorted
  }

  /** Environments created so far. */
  environments() {
    return this._handle.environments()
  }

  /** Counters: calls per endpoint, tokens issued, faults fired. */
  stats() {
    return this._handle.stats()
  }

  /** Inject a fault, e.g. `{ api: 'tcb.createenvandresource', kind: 'drop_after', times: 1 }`. */
  injectFault(spec) {
    this._handle.injectFault(normaliseFault(spec))
  }

  /**
   * An account authorizes the third-party platform (again): it gets a new
   * refresh token and an authorization code that `api_query_auth`
   * exchanges once; with `componentEventUrl`, `authorized` (or
   * `updateauthorized`) is pushed before this resolves.
   */
  authorize(appid) {
    if (typeof appid !== 'string' || appid === '') throw new TypeError('authorize(appid): appid must be a non-empty string')
    return this._handle.authorize(appid)
  }

  /** An account takes its authorization back (`unauthorized` is pushed). Resolves false if it had not authorized. */
  revoke(appid) {
    if (typeof appid !== 'string' || appid === '') throw new TypeError('revoke(appid): appid must be a non-empty string')
    return this._handle.revoke(appid)
  }

  /** Push a new component_verify_ticket now; resolves to it once the platform answered `success`. */
  pushTicket() {
    return this._handle.pushTicket()
  }

  /** The accounts that have authorized the platform, sorted. */
  authorizers() {
    return this._handle.authorizers()
  }

  /** Remove every fault. */
  clearFaults() {
    this._handle.clearFaults()
  }

  /** Stop listening (requests in flight finish, at most 5 s); the process may then exit. Idempotent. */
  close() {
    clearInterval(this._keepAlive)
    this._keepAlive = null
    return this._handle.close()
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
  const handle = await loadBinding().startEmulator(optionsJson(options))
  return new Emulator(handle)
}

module.exports = { startEmulator, Emulator }
