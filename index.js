'use strict'
// wx-cloud-openapi: a drop-in for wx-server-sdk's `cloud.openapi`.
//
// This file only routes: it keeps the `cloud` object's shape (init,
// openapi proxy, DYNAMIC_CURRENT_ENV, CloudSDKError), hands each call to the
// Rust core through the generated binding, and turns the core's outcome
// into a resolved value or a rejected Error.

const util = require('util')
const path = require('path')
const fs = require('fs')

// package.json read as a file, not `require`d: the module loader's resolving
// and realpath cost ~0.1 ms of a ~4 ms cold start (bench/NOTES.md).
const { version, engines } = JSON.parse(fs.readFileSync(path.join(__dirname, 'package.json'), 'utf8'))

// The Node.js versions the package supports (package.json `engines`), checked
// before anything else is loaded, in syntax every Node parses (here, not in a
// module of its own, which would cost ~0.3 ms of a ~4 ms cold start,
// bench/NOTES.md): a runtime older than that (a cloud function left on
// Nodejs10.15) gets an Error that says what to change, never a crash further
// in. cli.js checks through this.
;(function requireSupportedNode() {
  var min = /(\d+)\.(\d+)/.exec(engines.node)
  var have = process.versions.node.split('.')
  var major = Number(have[0])
  if (major > Number(min[1]) || (major === Number(min[1]) && Number(have[1]) >= Number(min[2]))) return
  var err = new Error(
    'wx-cloud-openapi needs Node.js ' +
      min[1] +
      '.' +
      min[2] +
      ' or later; this process runs Node.js ' +
      process.version +
      '. ' +
      "In a WeChat cloud function, change its runtime (运行环境) to Nodejs12.16 or Nodejs16.13 in the function's configuration " +
      '(WeChat DevTools or the CloudBase console) and deploy it again; see docs/cloud-function.md.',
  )
  err.code = 'WX_CLOUD_OPENAPI_NODE_TOO_OLD'
  throw err
})()

// A function uploaded with node_modules installed on another platform (a Mac,
// Windows) has no addon for this one: say so at require, with the fixes, not
// at the first call. Cheap: file names only, the addon is loaded on first use.
// Its value: on glibc Linux, the `-gnu` addon beside this file (what the
// published package holds and a cloud function runs, the generated loader's
// first candidate there), found with one stat; else null.
const addonBesideThis = (function requireAddonForThisPlatform() {
  // The loader's documented override names the file itself (docs/building.md).
  if (process.env.NAPI_RS_NATIVE_LIBRARY_PATH) return null
  const prefix = `${process.platform}-${process.arch}`
  if (process.platform === 'linux') {
    const gnu = path.join(__dirname, `wx-cloud-openapi.${prefix}-gnu.node`)
    if (fs.existsSync(gnu) && glibcLdd()) return gnu
  }
  const parent = path.dirname(__dirname)
  const installed = path.basename(parent) === 'node_modules'
  // The platforms of the addons beside this file (wx-cloud-openapi.<platform>.node)
  // and, installed, of the platform packages beside this one (wx-cloud-openapi-<platform>).
  const addon = /^wx-cloud-openapi(?:\.(.+)\.node|-((?:linux|darwin|win32|freebsd|android)-.+))$/
  const names = fs.readdirSync(__dirname).concat(installed ? fs.readdirSync(parent) : [])
  const found = new Set()
  for (const m of names.map((n) => addon.exec(n))) if (m) found.add(m[1] || m[2])
  if ([...found].some((p) => p.startsWith(prefix))) return null
  // A checkout: a platform package installed in its node_modules.
  for (const suffix of installed ? [] : ['-gnu', '-musl', '-msvc', '']) {
    try {
      require.resolve(`wx-cloud-openapi-${prefix}${suffix}/package.json`)
      return null
    } catch (_) {
      // not this one
    }
  }
  throw require('./lib/load.js').wrongPlatformError(__dirname, [...found], installed)
})()

/**
 * Whether /usr/bin/ldd is glibc's: the generated loader's test for a `-gnu`
 * addon, and the first step of lib/load.js's libc() (without ldd, they
 * decide).
 */
function glibcLdd() {
  try {
    return !fs.readFileSync('/usr/bin/ldd', 'utf8').includes('musl')
  } catch (_) {
    return false
  }
}

/** A module (or the addon) loaded on first use: `require` stays cheap. `loaded()`: was it? */
function lazy(load) {
  let value = null
  const get = () => {
    if (value === null) value = load()
    return value
  }
  get.loaded = () => value !== null
  return get
}

// getWXContext() and signature() are loaded on first use: most programs
// never call them.
const wxContext = lazy(() => require('./lib/wx-context.js'))
const getWXContext = () => wxContext().getWXContext()
const midas = lazy(() => require('./lib/midas-signature.js'))
const signature = (options) => midas().signature(options)

/** The marker for "the function's own environment" (same symbol as wx-server-sdk's). */
const DYNAMIC_CURRENT_ENV = Symbol.for('SYMBOL_CURRENT_ENV')

const NOT_INITED_MSG =
  "Cloud API isn't enabled, please call init first\n" + '请先调用 init 完成初始化后再调用其他云 API。init 方法可传入一个对象用于设置默认配置，详见文档。'

// The addon beside this file is the generated loader's first candidate on
// its platform, and is loaded directly: compiling and running that loader
// (and lib/load.js) took ~1.3 ms of a ~5 ms cold start (bench/NOTES.md).
// Anything else, or that file failing to load, goes through them: they try
// every candidate and report each one's error.
const loadBinding = lazy(() => {
  if (addonBesideThis !== null) {
    try {
      return require(addonBesideThis)
    } catch (_) {
      // lib/load.js tries it again and says why it failed.
    }
  }
  return require('./lib/load.js').loadBinding()
})

const errors = require('./lib/errors.js')
const { CloudSDKError, toError, settle, errorText, describeType } = errors
/** `openapi.{api}:fail {msg}`, INVALID_PARAM. */
const invalidParam = (api, msg) => errors.invalidParam(`openapi.${api}`, msg)

const isPlainObject = (v) => Object.prototype.toString.call(v) === '[object Object]'

// Values JSON cannot carry (undefined, functions and symbols; BigInts; media
// values) are replaced by markers carried out of band: a marker is a NUL and
// random hex digits, given to the core with the call, and the params' JSON
// text is used only if the marker occurs in it exactly as often as it was
// inserted, so no user string or key containing it can ever be taken for one
// (otherwise another marker is drawn). With marker M: `M` + `u` for
// undefined (kept so that it takes part in case conversion, where it can
// overwrite a colliding key, as in wx-server-sdk, and is dropped after it),
// `M` + `n` + digits for a BigInt (written as a number), `M` + `m` + index for
// media[index].
const randomHex = () => Math.random().toString(16).slice(2, 10).padEnd(8, '0')
const newMarker = () => `\u0000${randomHex()}${randomHex()}`
let marker = newMarker()

/**
 * The top level of `params`, each value read once into a copy that is
 * serialised instead: `[copy, flat]`, `flat` when every value is a string,
 * a number, a boolean or null (nothing for marshalParams' replacer to mark).
 * `undefined` for params that are not an ordinary object (a class instance,
 * whose prototype's `toJSON` JSON.stringify would call), or that have a
 * `__proto__` or `toJSON` key: those are serialised as they are.
 */
function readTopLevel(params) {
  if (Object.getPrototypeOf(params) !== Object.prototype) return undefined
  const keys = Object.keys(params)
  if (keys.includes('__proto__') || keys.includes('toJSON')) return undefined
  const copy = {}
  let flat = true
  for (const key of keys) {
    const value = params[key]
    copy[key] = value
    const type = typeof value
    if (type !== 'string' && type !== 'number' && type !== 'boolean' && value !== null) flat = false
  }
  return [copy, flat]
}

/**
 * Params → [JSON text, media list, marker (undefined: none inserted)]. The
 * JSON text keeps JavaScript's key order; case conversion and serialisation
 * happen in the core. Each value is read once (a getter may change between
 * reads): the top level into a copy (readTopLevel) or by JSON.stringify,
 * and the replacer reads each property of a top-level media value
 * (`{ contentType | content_type, value: Buffer, fileName? }`).
 */
function marshalParams(api, data, convertCase) {
  if (data === undefined || data === null) return [undefined, [], undefined]
  let top
  try {
    if (!isPlainObject(data)) throw invalidParam(api, `params must be an object, got ${describeType(data)}`)
    // cloud.signature() values (none exist before the module is loaded) are
    // signed from a copy of the top level (read once).
    top = midas.loaded() ? Object.fromEntries(Object.entries(data)) : data
  } catch (e) {
    if (e instanceof CloudSDKError) throw e
    // A getter, a Proxy trap or a revoked Proxy threw while the params were read.
    throw invalidParam(api, `params could not be read: ${errorText(e)}`)
  }
  if (top !== data) top = midas().signParams(api, top, convertCase)
  // The usual params, one level of strings, numbers, booleans and nulls,
  // have nothing for the replacer below to mark: their copy is serialised
  // without one (about half the work on the JavaScript thread). Any other
  // copy goes on to the replacer, so that each value is still read once.
  let read
  try {
    read = readTopLevel(top)
  } catch (e) {
    throw invalidParam(api, `params could not be read: ${errorText(e)}`)
  }
  if (read !== undefined) {
    if (read[1]) return [JSON.stringify(read[0]), [], undefined]
    top = read[0]
  }
  // A user string holding a random 64-bit marker is an attack or a miracle:
  // a few draws are plenty (each draw reads the params again).
  for (let attempt = 0; attempt < 4; attempt++) {
    const m = marker
    const media = []
    let inserted = 0
    let json
    try {
      json = JSON.stringify(top, function (key, value) {
        switch (typeof value) {
          case 'undefined':
          case 'function':
          case 'symbol':
            inserted++
            return `${m}u`
          case 'bigint':
            inserted++
            return `${m}n${value}`
        }
        if (this !== top || !isPlainObject(value)) return value
        const contentType = value.contentType || value.content_type
        const buffer = contentType && value.value
        if (!buffer || !Buffer.isBuffer(buffer)) return value
        if (!util.types.isUint8Array(buffer)) {
          throw invalidParam(api, `media parameter \`${key}\`: value must be a Buffer, got a Proxy or another object posing as one`)
        }
        const fileName = value.fileName
        media.push({ contentType: String(contentType), fileName: typeof fileName === 'string' ? fileName : undefined, value: buffer })
        inserted++
        return `${m}m${media.length - 1}`
      })
    } catch (e) {
      if (e instanceof CloudSDKError) throw e
      // JSON.stringify ran out of stack: thousands of levels of nesting.
      if (e instanceof RangeError) throw invalidParam(api, 'params are nested deeper than 128 levels (too deep to serialise)')
      throw invalidParam(api, `params could not be serialised: ${errorText(e)}`)
    }
    if (inserted === 0) return [json, media, undefined]
    if (json.split(`\\u0000${m.slice(1)}`).length - 1 === inserted) return [json, media, m]
    marker = newMarker()
  }
  throw invalidParam(api, 'params could not be serialised: the params contain strings that collide with every marker drawn')
}

let envNames = null

/**
 * The variables of `process.env` a call reads (the core's list, plus the
 * names listed in TCB_CONTEXT_KEYS / WX_CONTEXT_KEYS), as a flat list
 * `[name, value, …]` in reading order. Read here, unless `process.env` is
 * Node's own object (nodesOwnEnv), so that the `process.env` JavaScript
 * sees is the one that counts, as in wx-server-sdk: jest, for one, gives
 * each test file its own copy, which the process's real environment does
 * not reflect.
 */
function processEnvList() {
  if (envNames === null) envNames = loadBinding().envVarNames()
  const env = process.env
  const out = []
  // One read per name: each goes through node's environment interceptor (a
  // lock and a getenv), ~0.2 µs, and a call makes 28 or more of them.
  for (const name of envNames) {
    const value = env[name]
    if (typeof value === 'string') out.push(name, value)
  }
  for (const list of [valueIn(out, 'TCB_CONTEXT_KEYS'), valueIn(out, 'WX_CONTEXT_KEYS')]) {
    if (!list) continue
    for (const listed of list.split(',')) {
      const name = listed.trim()
      if (!name || valueIn(out, name) !== undefined) continue
      const value = env[name]
      if (typeof value === 'string') out.push(name, value)
    }
  }
  return out
}

// A property that Node's own `process.env` refuses to take: see nodesOwnEnv().
const ENV_PROBE = Symbol("wx-cloud-openapi: is this Node's own process.env?")
let probedEnv = { env: undefined, own: false }

/**
 * Whether `process.env` is Node's own object on the main thread, whose
 * every read is a `getenv` of the process's environment: then the core
 * reads that environment itself (`readEnviron` of Client::call), which
 * costs a fraction of 28 reads through node's environment interceptor
 * (~1,500 instructions each, the largest single cost of a call on this
 * thread: bench/NOTES.md). Anything else is read here, as JavaScript sees
 * it: a copy (jest gives each test file one; `process.env = { ...env }`), a
 * Proxy, a worker thread's own variables, Windows (whose names ignore case).
 * Asked once per object that `process.env` holds. (Node guards its own
 * reads with a lock the core cannot take: a worker created with
 * `SHARE_ENV` that writes `process.env` during a call races with the
 * core's read, as with any native `getenv`; pass `processEnv` to `init()`
 * there. bench/NOTES.md, "Reading the environment in the core".)
 */
function nodesOwnEnv() {
  const env = process.env
  if (env !== probedEnv.env) probedEnv = { env, own: probeEnv(env) }
  return probedEnv.own
}

/**
 * Node's environment object (12.16, 16.13, 18.15 and 20 tried) throws when a
 * property is defined on it with a Symbol key (12-16: its setter converts
 * the key to a string; 18 on: it refuses any descriptor that is not a
 * plain writable, enumerable, configurable value), and changes nothing. An
 * ordinary extensible object takes it: the probe is deleted at once.
 */
function probeEnv(env) {
  if (process.platform === 'win32' || env === null || typeof env !== 'object') return false
  if (util.types.isProxy(env) || !Object.isExtensible(env) || !loadBinding().onMainThread()) return false
  try {
    Object.defineProperty(env, ENV_PROBE, { value: true, configurable: true })
  } catch (_) {
    return true
  }
  delete env[ENV_PROBE]
  return false
}

/** The value of `name` in a list of processEnvList(), or undefined. */
function valueIn(list, name) {
  for (let i = 0; i < list.length; i += 2) if (list[i] === name) return list[i + 1]
  return undefined
}

/** processEnvList() as the object the core reads (its JSON text). */
function envObject(list) {
  const out = Object.create(null)
  for (let i = 0; i < list.length; i += 2) out[list[i]] = list[i + 1]
  return out
}

/** Whether two results of processEnvList() are the same variables with the same values, in the same order. */
function sameEnvList(a, b) {
  if (b === undefined || a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

// The token stores and callbacks of the managed third-party mode (lib/store.js).
const stores = lazy(() => require('./lib/store.js'))

const badOption = (msg) => errors.invalidParam('init', msg)

/**
 * init() options → `{ text, functions, store }`: the JSON text of those the
 * core validates, the names of those whose value is a function, and the
 * `store` (checked here, lib/store.js, and handed to the core apart), each
 * option read once. The core decides which options take a function and
 * names an option holding a lone surrogate (JSON.stringify writes one as an
 * escape, which the core reads).
 */
function readOptions(config) {
  if (config === undefined || config === null) return { text: '{}', functions: [] }
  // No prototype: a `__proto__` key (JSON.parse makes one an own key) stays
  // an ordinary key, which the core then names as unknown; assigned to a
  // plain object it would set the prototype, and inherited options (a
  // `timeout` the core never sees) would make the two halves disagree.
  const out = Object.create(null)
  const functions = []
  let store
  try {
    if (typeof config !== 'object' || Array.isArray(config)) {
      throw badOption(`options must be an object, got ${describeType(config)}`)
    }
    for (const key of Object.keys(config)) {
      const value = config[key]
      if (key === 'store' && value !== undefined && value !== null) {
        const problem = stores().storeProblem(value)
        if (problem) throw badOption(`option \`store\` ${problem}`)
        store = value
      } else if (typeof value === 'function') {
        functions.push(key)
      } else if (typeof value === 'number' && !Number.isFinite(value)) {
        // JSON would turn NaN and Infinity into null, which means "not set".
        throw badOption(`option \`${key}\` must be a finite number, got ${value}`)
      } else {
        out[key] = value
      }
    }
  } catch (e) {
    if (e instanceof CloudSDKError) throw e
    // A getter, a Proxy trap or a revoked Proxy threw while the options were read.
    throw badOption(`options could not be read: ${errorText(e)}`)
  }
  try {
    return { text: JSON.stringify(out, optionValue), functions, store }
  } catch (e) {
    if (e instanceof CloudSDKError) throw e
    throw badOption(`options could not be serialised: ${errorText(e)}`)
  }
}

/**
 * The JSON.stringify replacer of the options: a BigInt as `{digits}n`
 * (which the core refuses by name), DYNAMIC_CURRENT_ENV (`env`, or its
 * `default`) as `{ dynamic: true }`; another symbol there names `env`.
 */
function optionValue(key, value) {
  if (typeof value === 'bigint') return `${value}n`
  if (typeof value !== 'symbol' || (key !== 'env' && key !== 'default')) return value
  if (value === DYNAMIC_CURRENT_ENV) return { dynamic: true }
  throw badOption(`option \`env\` must be an environment id, { default: id } or DYNAMIC_CURRENT_ENV, got ${String(value)}`)
}

// Properties of a function that the openapi proxy must not turn into API paths.
const functionIntrinsicProperties = new Set(Object.getOwnPropertyNames(Function.prototype))

// `then` is never an API: a proxy with a `then` would be a thenable, and
// returning `cloud.openapi.tcb` from an async function (or awaiting it)
// would call an API named `…then` with the promise's resolve function,
// reject it unhandled, kill the process and never settle. (A deliberate
// difference from wx-server-sdk, whose proxies do have `then`.)
// `paths` empty: `cloud.openapi` itself, which `openapi({ appid })` calls.
function openapiProxy(cloud, options, paths = []) {
  // biome-ignore lint/complexity/useArrowFunction: an API's target must be an ordinary function (an arrow has no [[Construct]] or `prototype`, which would change what `new` and reflection see through the proxy); `cloud.openapi`'s is an arrow, as before
  const f = paths.length === 0 ? () => {} : function () {}
  return new Proxy(f, {
    get(target, prop) {
      if (prop === 'toJSON') return {}
      if (prop === 'then') return undefined
      if (typeof prop === 'symbol' || (paths.length > 0 && functionIntrinsicProperties.has(prop))) return target[prop]
      return openapiProxy(cloud, options, [...paths, prop])
    },
    apply(_target, _thisArg, args) {
      if (paths.length > 0) return cloud._call(paths.join('.'), args[0], options)
      if (!args[0] || typeof args[0] !== 'object') {
        throw new Error('an options object is expected')
      }
      return openapiProxy(cloud, { appid: args[0].appid, convertCase: args[0].convertCase })
    },
  })
}

/** A cloud SDK instance; the package itself is one. `new Cloud(options)` keeps the options for its `init()`. */
class Cloud {
  constructor(options) {
    this._client = null
    this._options = options
    this.DYNAMIC_CURRENT_ENV = DYNAMIC_CURRENT_ENV
    this.openapi = openapiProxy(this, {})
  }

  /**
   * Configure the SDK. As in wx-server-sdk, only the first call takes
   * effect (use `updateConfig` to change the configuration later).
   * Throws a CloudSDKError naming the option when an option is invalid.
   */
  init(config) {
    if (this._client !== null) return
    this.updateConfig(config === undefined ? this._options : config)
  }

  /** Replace the configuration (wx-server-sdk's `updateConfig`). */
  updateConfig(config) {
    const b = loadBinding()
    const { text, functions, store } = readOptions(config)
    // The core calls the callbacks it needs (those of the managed
    // third-party mode, or a token function), and refuses a store given to
    // a client of another mode. No function option, no callback:
    // lib/store.js is not loaded for them.
    const [hooks, hookNames] = config == null || functions.length === 0 ? [undefined, []] : stores().componentHooks(config)
    const handle = store === undefined ? undefined : stores().storeHandle(store)
    const created = b.createClient(text, functions, handle, hooks, hookNames, process.env.WX_API_BASE_URL)
    if (created.ok === false) throw toError(created)
    this._client = created
    // What this client's last call sent as the environment (see _call).
    this._sent = { env: undefined, readEnviron: false }
    // Without `processEnv`, each call reads `process.env` (see processEnvList).
    this._readsProcessEnv = created.readsProcessEnv
  }

  /** The WeChat context of the running cloud function (wx-server-sdk's `getWXContext`). */
  getWXContext() {
    return getWXContext()
  }

  /** A signature value for openapi params (wx-server-sdk's `signature`; type 'midas'). */
  signature(options) {
    return signature(options)
  }

  /** Route one `openapi.*` call to the core. */
  _call(api, data, options) {
    if (this._client === null) {
      throw new CloudSDKError({ errMsg: NOT_INITED_MSG })
    }
    let json, media, usedMarker
    try {
      ;[json, media, usedMarker] = marshalParams(api, data, options.convertCase !== false)
    } catch (e) {
      return Promise.reject(e)
    }
    let appid
    if (options.appid !== undefined && options.appid !== null) {
      // Never String() it: an object would go out as "[object Object]", an array as "wxA,wxB".
      // (The core refuses one holding a lone surrogate.)
      appid = options.appid
      if (typeof appid !== 'string') {
        return Promise.reject(invalidParam(api, `option \`appid\` of openapi({ appid }) must be a string, got ${describeType(appid)}`))
      }
    }
    const sent = this._sent
    // Node's own process.env: the core reads the process's environment.
    const readEnviron = this._readsProcessEnv && nodesOwnEnv()
    const env = this._readsProcessEnv && !readEnviron ? processEnvList() : undefined
    // The environment goes to the core only when it differs from what this
    // client's previous call sent (the core keeps that one); its JSON text
    // is built only then.
    const envJson = env !== undefined && !sameEnvList(env, sent.env) ? JSON.stringify(envObject(env)) : undefined
    let pending
    try {
      // The options one argument each (the core reads no object: see Client::call).
      pending = this._client.call(api, json, media, usedMarker, appid, options.convertCase === false ? false : undefined, envJson, readEnviron || undefined)
    } catch (e) {
      // The core refused its arguments before starting: still a rejection.
      return Promise.reject(invalidParam(api, `the call could not start: ${errorText(e)}`))
    }
    // After a read of the environment, a call through process.env sends its text again.
    if (this._readsProcessEnv) sent.env = env
    // Which way this call read the environment (__test__/process-env.test.js asks).
    sent.readEnviron = readEnviron
    return pending.then(settle)
  }
}

/**
 * What a call made with these `init()` options would use, without sending
 * anything: the calling mode, why, and the settings (secrets as `***`, ids
 * shortened), by the same decision a call makes. `ok: false` with
 * `errCode`/`errMsg` when a call would fail before sending (bad options,
 * missing credentials). Used by `wx-cloud-openapi env`.
 */
function explainConfig(options, api) {
  let read
  try {
    read = readOptions(options)
  } catch (e) {
    return { ok: false, mode: 'none', reason: 'the options are invalid', settings: [], errCode: e.errCode, errMsg: e.errMsg }
  }
  // The core reads `processEnv` instead of this, when the options have it.
  return loadBinding().explainConfig(read.text, read.functions, api === undefined || api === null ? undefined : String(api), envObject(processEnvList()))
}

const cloud = new Cloud()

module.exports = {
  init: (config) => cloud.init(config),
  updateConfig: (config) => cloud.updateConfig(config),
  get openapi() {
    return cloud.openapi
  },
  DYNAMIC_CURRENT_ENV,
  CloudSDKError,
  Cloud,
  version,
  explainConfig,
  /** The WeChat context of the running cloud function (`{}` outside one). */
  getWXContext: () => getWXContext(),
  /** `signature({ type: 'midas', params, secret })`: a signature value for midas params. */
  signature: (options) => signature(options),
  /** Start the local emulator (see README). */
  startEmulator: (options) => require('./lib/emulator.js').startEmulator(options),
  /** The handler of a third-party platform's event URL (see docs/third-party-events.md). */
  createComponentEventHandler: (options) => require('./lib/component-events.js').createComponentEventHandler(options),
  /** A token store in this process's memory (the default of the managed third-party mode). */
  memoryStore: () => stores().coreStore(loadBinding().createMemoryStore()),
  /** A token store in Redis, through your own ioredis or node-redis (v4+) client: `redisStore(client, { prefix })`. */
  redisStore: (client, options) => stores().redisStore(client, options),
}
