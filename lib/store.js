'use strict'
// Token stores: where the third-party mode keeps the component_verify_ticket,
// the component_access_token and each authorizer's access and refresh tokens.
//
// The interface (every method returns a Promise; values are strings):
//   get(key)                       -> string | null
//   set(key, value, ttlMs?)        // ttlMs omitted: no expiry
//   compareAndDelete(key, expected) -> boolean  // delete only if the value is `expected`
//   lock(key, ttlMs)               -> { release(): Promise<void> } | null  // null: held by another
//
// Keys are given without the prefix (`ticket:{componentAppid}`, see `keys`);
// a store adds its own (`wxcloud:` by default for Redis).
//
// `memoryStore()` (the core's store, src/binding/store.rs) serves one
// process; `redisStore(client)` (the core's too) shares tokens between
// processes and machines through the user's own Redis client (ioredis or
// node-redis v4+, told apart by shape: no dependency of ours).

const loadBinding = () => require('./load.js').loadBinding()

/** The key layout (without the store's prefix): the core's (crates/core/src/token/store.rs `keys`). */
const keys = {}
for (const kind of ['ticket', 'componentToken', 'refreshToken', 'authorizerToken', 'revoked', 'lock']) {
  keys[kind] = (...ids) => loadBinding().storeKey(kind, ...ids)
}

/**
 * `command(key, args)` for the user's client: ioredis, one server or
 * `Redis.Cluster` (`client.call(name, ...args)` routes by key itself),
 * node-redis v4+ (`client.sendCommand([name, ...args])`), or node-redis's
 * cluster client (`createCluster()`: `sendCommand(key, isReadonly, args)`).
 * Every command of a store touches one key (`key`): a cluster needs no hash
 * tags.
 */
function commandFor(client) {
  if (client === null || typeof client !== 'object') {
    throw new TypeError(`redisStore(client): client must be an ioredis or node-redis client, got ${client === null ? 'null' : typeof client}`)
  }
  // ioredis (and its Cluster): `call` (any command) and `defineCommand`.
  if (typeof client.call === 'function' && typeof client.defineCommand === 'function') {
    const kind = typeof client.nodes === 'function' && Array.isArray(client.startupNodes) ? 'ioredis cluster' : 'ioredis'
    return { kind, command: (_key, args) => client.call(...args) }
  }
  if (typeof client.sendCommand === 'function' && typeof client.isOpen === 'boolean') {
    // node-redis's cluster client has the slot map (`masters`) and routes by the key it is given.
    if ('masters' in client && 'slots' in client) {
      return { kind: 'node-redis cluster', command: (key, args) => client.sendCommand(key, false, args) }
    }
    return { kind: 'node-redis', command: (_key, args) => client.sendCommand(args) }
  }
  throw new TypeError(
    'redisStore(client): client must be an ioredis client (new Redis(), new Redis.Cluster()) or a connected node-redis v4+ client ' +
      '(createClient(), createCluster()); it has neither call() and defineCommand() nor sendCommand() and isOpen',
  )
}

/**
 * A store in Redis, through the user's own client. Tokens are shared by
 * every process using the same Redis and prefix.
 *
 * ```js
 * const Redis = require('ioredis')
 * cloud.init({ componentAppid, componentAppsecret, store: cloud.redisStore(new Redis()) })
 * ```
 */
function redisStore(client, options) {
  const { kind, command } = commandFor(client)
  let prefix = 'wxcloud:'
  if (options !== undefined && options !== null) {
    if (typeof options !== 'object') throw new TypeError('redisStore(client, options): options must be an object like { prefix }')
    if (options.prefix !== undefined) {
      if (typeof options.prefix !== 'string') throw new TypeError('redisStore(client, { prefix }): prefix must be a string')
      prefix = options.prefix
    }
  }
  // The store and its commands are the core's (crates/core/src/token/command_store.rs):
  // each goes out through the client, its reply back as text or null.
  const send = (request) =>
    answer(() => {
      const [key, words] = JSON.parse(request)
      return Promise.resolve(command(key, words)).then((v) => (v === null || v === undefined ? null : String(v)))
    })
  return coreStore(loadBinding().createRedisStore(send, `redis (${kind})`, prefix), { prefix })
}

const METHODS = ['get', 'set', 'compareAndDelete', 'lock']

/** Check that `store` has the interface; returns a message or null. */
function storeProblem(store) {
  if (store === null || typeof store !== 'object')
    return `must be a token store (cloud.memoryStore(), cloud.redisStore(client) or an object with ${METHODS.join(', ')}), got ${store === null ? 'null' : typeof store}`
  const missing = METHODS.filter((m) => typeof store[m] !== 'function')
  if (missing.length) return `must be a token store: it has no ${missing.join(', ')} method${missing.length > 1 ? 's' : ''}`
  return null
}

const { errorText, describeType } = require('./errors.js')

/**
 * `run()`'s value (or its promise's) as the addon's bridges answer: JSON
 * text `{ ok: true, value }` or `{ ok: false, error }`. Never throws, never
 * rejects: nothing a user's store or callback does reaches the addon as an
 * exception (src/binding/store.rs).
 */
function answer(run) {
  return new Promise((resolve) => resolve(run())).then(
    (value) => JSON.stringify({ ok: true, value: value === undefined ? null : value }),
    (e) => JSON.stringify({ ok: false, error: errorText(e) }),
  )
}

/** `store` as one function of a request (`["get", key]`, …), for the addon. */
function bridge(store) {
  // A lock's holder is its object (with release()); the addon gets a name for it.
  const held = new Map()
  let taken = 0
  const ops = {
    get: (key) => Promise.resolve(store.get(key)).then((v) => (v === null || v === undefined ? null : String(v))),
    set: (key, value, ttlMs) => Promise.resolve(store.set(key, value, ttlMs === null ? undefined : ttlMs)).then(() => null),
    compareAndDelete: (key, expected) => Promise.resolve(store.compareAndDelete(key, expected)).then(Boolean),
    lock: (key, ttlMs) =>
      Promise.resolve(store.lock(key, ttlMs)).then((lock) => {
        if (!lock) return null
        const owner = `lock-${++taken}`
        held.set(owner, lock)
        return owner
      }),
    unlock: (_key, owner) => {
      const lock = held.get(owner)
      held.delete(owner)
      return lock ? Promise.resolve(lock.release()).then(() => null) : null
    },
  }
  return (request) =>
    answer(() => {
      const [op, ...args] = JSON.parse(request)
      return ops[op](...args)
    })
}

/** A token function's answer for the core: the token, or `{ got }`, what it returned instead. */
const suppliedToken = (fn, appid, forceRefresh) =>
  Promise.resolve(fn({ appid: appid === null ? undefined : appid, forceRefresh })).then((t) =>
    typeof t === 'string' && t !== '' ? t : { got: describeType(t) },
  )

// The callbacks the core calls, and what it hands them: those of the
// managed third-party mode, and the token functions (the core asks one
// before each call, and again when WeChat rejects its token).
const COMPONENT_HOOKS = {
  getComponentVerifyTicket: (fn) => Promise.resolve(fn()).then((t) => (typeof t === 'string' ? t : null)),
  getAuthorizerRefreshToken: (fn, appid) => Promise.resolve(fn(appid)).then((t) => (typeof t === 'string' ? t : null)),
  onAuthorizerRefreshToken: (fn, token, appid) => Promise.resolve(fn(token, { appid })).then(() => null),
  accessToken: suppliedToken,
  authorizerAccessToken: suppliedToken,
}

/**
 * The callbacks `options` has (init()'s, or the event handler's) as one
 * bridge for the core, and their names: `[bridge, names]`.
 */
function componentHooks(options) {
  const names = Object.keys(COMPONENT_HOOKS).filter((n) => typeof options[n] === 'function')
  if (names.length === 0) return [undefined, names]
  const fns = {}
  for (const n of names) fns[n] = options[n]
  const run = (request) =>
    answer(() => {
      const [name, ...args] = JSON.parse(request)
      return COMPONENT_HOOKS[name](fns[name], ...args)
    })
  return [run, names]
}

// The core's stores (cloud.memoryStore(), cloud.redisStore()): each a plain
// object with the interface (its own properties, so that `{ ...store }`
// wraps it as it wraps any store), the core's handle behind it.
const cores = new WeakMap()
function coreStore(handle, extra) {
  const store = Object.assign({ kind: handle.kind }, extra)
  for (const m of METHODS) store[m] = async (...args) => handle[m](...args)
  cores.set(store, { handle, methods: METHODS.map((m) => store[m]) })
  return store
}

// The addon's handle of each store (its bridge, and the process-local cache
// in front of it), made once per store object: every client and event
// handler of that store in this process share it. A store of the core's
// serves the core directly, unless the application replaced a method.
const handles = new WeakMap()
function storeHandle(store) {
  const core = cores.get(store)
  if (core && METHODS.every((m, i) => store[m] === core.methods[i])) return core.handle
  let handle = handles.get(store)
  if (handle === undefined) {
    handle = loadBinding().createTokenStore(bridge(store), typeof store.kind === 'string' ? store.kind : 'custom')
    handles.set(store, handle)
  }
  return handle
}

/**
 * Drop this process's cached copy of `key` of `store` (the next use reads
 * the store): for a store changed behind the SDK's back.
 */
function forgetCached(store, key) {
  storeHandle(store).forget(key)
}

module.exports = { redisStore, coreStore, keys, storeProblem, storeHandle, forgetCached, answer, componentHooks }
