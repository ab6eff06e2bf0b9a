'use strict'
// The account of each call (openapi({ appid }) in every mode), the token
// stores (memory; Redis through ioredis and node-redis, against a real
// redis-server on loopback) and the one deadline per call.
//
// The multi-process acceptance tests are in token-store-cluster.test.js.

const Redis = require('ioredis')
const { createClient } = require('redis')

const sdk = require('../index.js')
const { keys } = require('../lib/store.js')
const { startRedis } = require('./helpers/redis.js')

const COMPONENT = { componentAppid: 'wx0emulatorcomp001', componentAppsecret: 'emulator-component-secret' }
const APP_A = { appid: 'wx0emulatorapp0001', secret: 'emulator-app-secret' }
const APP_B = { appid: 'wx0emulatorapp0002', secret: 'emulator-app-secret-2' }
const AUTH_A = { authorizerAppid: 'wx0emulatorauth001', refreshToken: 'emulator-refresh-token' }
const AUTH_B = { authorizerAppid: 'wx0emulatorauth002', refreshToken: 'emulator-refresh-token-2' }
const TICKET = 'ticket@@@store-test'
const ok = (alias) => ({ type: 'CreatePostpayPackage', alias })

const started = []
async function emulator(options = {}) {
  const emu = await sdk.startEmulator({
    appCredentials: [APP_A, APP_B],
    authorizers: [AUTH_A, AUTH_B],
    ...options,
  })
  started.push(emu)
  return emu
}

let redis
const clients = []
beforeAll(async () => {
  redis = await startRedis()
})
afterAll(async () => {
  for (const c of clients) {
    try {
      if (typeof c.disconnect === 'function') c.disconnect()
      else await c.quit()
    } catch (_) {}
  }
  for (const e of started) await e.close()
  if (redis) await redis.stop()
})

async function ioredis(port = redis.port, extra = {}) {
  const c = new Redis({ port, host: '127.0.0.1', lazyConnect: true, ...extra })
  clients.push(c)
  await c.connect()
  return c
}

async function nodeRedis(port = redis.port) {
  const c = createClient({ url: `redis://127.0.0.1:${port}` })
  c.on('error', () => {}) // reconnection errors are reported through the calls
  clients.push(c)
  await c.connect()
  return c
}

let prefixes = 0
/** A fresh prefix per test: the tests share one redis-server. */
const freshPrefix = () => `wxtest${process.pid}-${++prefixes}:`

const STORES = [
  ['memory', async () => sdk.memoryStore()],
  ['redis (ioredis)', async () => sdk.redisStore(await ioredis(), { prefix: freshPrefix() })],
  ['redis (node-redis)', async () => sdk.redisStore(await nodeRedis(), { prefix: freshPrefix() })],
]

const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

describe.each(STORES)('the %s store keeps the contract', (_name, make) => {
  test('get / set with and without expiry', async () => {
    const s = await make()
    expect(await s.get('a')).toBeNull()
    await s.set('a', 'one')
    await s.set('b', 'two', 150)
    expect(await s.get('a')).toBe('one')
    expect(await s.get('b')).toBe('two')
    await sleep(300)
    expect(await s.get('b')).toBeNull()
    expect(await s.get('a')).toBe('one')
  })

  test('compareAndDelete deletes only the expected value', async () => {
    const s = await make()
    await s.set('k', 'new')
    expect(await s.compareAndDelete('k', 'old')).toBe(false)
    expect(await s.get('k')).toBe('new')
    expect(await s.compareAndDelete('k', 'new')).toBe(true)
    expect(await s.get('k')).toBeNull()
    expect(await s.compareAndDelete('k', 'new')).toBe(false)
  })

  test('a lock has one holder until released or expired', async () => {
    const s = await make()
    const first = await s.lock('l', 10000)
    expect(first).not.toBeNull()
    expect(await s.lock('l', 10000)).toBeNull()
    await first.release()
    const second = await s.lock('l', 150)
    expect(second).not.toBeNull()
    // the first holder's late release does not free the second's lock
    await first.release()
    expect(await s.lock('l', 10000)).toBeNull()
    await sleep(300) // expired
    const third = await s.lock('l', 10000)
    expect(third).not.toBeNull()
    await third.release()
  })
})

describe('choosing and checking a store', () => {
  test('redisStore tells the two clients apart by shape, and rejects anything else', async () => {
    expect(sdk.redisStore(await ioredis()).kind).toBe('redis (ioredis)')
    expect(sdk.redisStore(await nodeRedis()).kind).toBe('redis (node-redis)')
    expect(() => sdk.redisStore({ get() {}, set() {} })).toThrow(/ioredis client .* node-redis v4\+ client/)
    expect(() => sdk.redisStore(null)).toThrow(/client must be/)
    expect(() => sdk.redisStore(new Redis({ lazyConnect: true }), { prefix: 5 })).toThrow(/prefix must be a string/)
  })

  test('the prefix keeps the documented key layout', async () => {
    const c = await ioredis()
    const s = sdk.redisStore(c, { prefix: 'mine:' })
    await s.set(keys.refreshToken('wxc', 'wxa'), 'r')
    expect(await c.get('mine:refresh_token:wxc:wxa')).toBe('r')
    expect(await c.pttl('mine:refresh_token:wxc:wxa')).toBe(-1) // no expiry
    expect(sdk.redisStore(c).prefix).toBe('wxcloud:')
    await c.del('mine:refresh_token:wxc:wxa')
  })

  test('init() names option `store` when it is not a store, or when the mode does not use one', () => {
    const cloud = new sdk.Cloud()
    expect(() => cloud.init({ ...COMPONENT, store: {} })).toThrow(/option `store` must be a token store: it has no get, set, compareAndDelete, lock methods/)
    expect(() => cloud.init({ ...COMPONENT, store: 'redis://x' })).toThrow(/option `store` must be a token store/)
    expect(() => cloud.init({ ...APP_A, store: sdk.memoryStore() })).toThrow(/option `store` keeps the tokens of the SDK-managed third-party mode/)
  })
})

async function create(cloud, alias, appid) {
  const api = appid === undefined ? cloud.openapi : cloud.openapi({ appid })
  try {
    return { value: await api.tcb.createenvandresource(ok(alias)) }
  } catch (err) {
    return { err }
  }
}

/** The account of the environment created with `envid`. */
const accountOf = (emu, envid) => {
  const e = emu.environments().find((x) => x.env === envid)
  if (!e) throw new Error(`no environment ${envid}`)
  return e.account
}

describe('openapi({ appid }) picks the account in every mode, or rejects naming it', () => {
  test('cloud call: the environment is created in the named account', async () => {
    const emu = await emulator()
    const cloud = new sdk.Cloud()
    cloud.init({ processEnv: emu.cloudEnv() })
    const own = await create(cloud, 'own')
    const other = await create(cloud, 'other', APP_B.appid)
    expect(accountOf(emu, own.value.envid)).toBe('')
    expect(accountOf(emu, other.value.envid)).toBe(APP_B.appid)
  })

  test('HTTPS with appid + secret: the same appid works, another rejects -501007 naming `appid`', async () => {
    const emu = await emulator()
    const cloud = new sdk.Cloud()
    cloud.init({ ...APP_A, apiBaseUrl: emu.httpsBaseUrl, processEnv: {} })
    const same = await create(cloud, 'same', APP_A.appid)
    expect(accountOf(emu, same.value.envid)).toBe(APP_A.appid)
    const other = await create(cloud, 'other', APP_B.appid)
    expect(other.err).toBeInstanceOf(sdk.CloudSDKError)
    expect(other.err.errCode).toBe(-501007)
    expect(other.err.errMsg).toMatch(
      /option `appid` of openapi\(\{ appid \}\) is "wx0emulatorapp0002", but init\(\) has the secret of "wx0emulatorapp0001" only/,
    )
    expect(emu.environments()).toHaveLength(1)
  })

  test('HTTPS with a token function: it is asked for the named account ({ appid, forceRefresh })', async () => {
    const emu = await emulator()
    const secrets = { [APP_A.appid]: APP_A.secret, [APP_B.appid]: APP_B.secret }
    const asked = []
    const cloud = new sdk.Cloud()
    cloud.init({
      apiBaseUrl: emu.httpsBaseUrl,
      processEnv: {},
      appid: APP_A.appid,
      accessToken: async (arg) => {
        asked.push(arg)
        const r = await fetch(`${emu.httpsBaseUrl}/cgi-bin/stable_token`, {
          method: 'POST',
          body: JSON.stringify({ grant_type: 'client_credential', appid: arg.appid, secret: secrets[arg.appid] }),
        })
        return (await r.json()).access_token
      },
    })
    const b = await create(cloud, 'b', APP_B.appid)
    const a = await create(cloud, 'a')
    expect(asked).toEqual([
      { appid: APP_B.appid, forceRefresh: false },
      { appid: APP_A.appid, forceRefresh: false },
    ])
    expect(accountOf(emu, b.value.envid)).toBe(APP_B.appid)
    expect(accountOf(emu, a.value.envid)).toBe(APP_A.appid)
  })

  test('a fixed access token string cannot serve another account: rejects naming `appid`', async () => {
    const emu = await emulator()
    for (const opts of [{ accessToken: 'T' }, { authorizerAccessToken: 'T' }]) {
      const cloud = new sdk.Cloud()
      cloud.init({ ...opts, apiBaseUrl: emu.httpsBaseUrl, processEnv: {} })
      const r = await create(cloud, 'x', APP_B.appid)
      expect(r.err.errCode).toBe(-501007)
      expect(r.err.errMsg).toMatch(/option `appid` .* a fixed string of one account/)
    }
    expect(emu.stats().calls['https:tcb.createenvandresource'] || 0).toBe(0)
  })

  test('third-party, managed: one client serves any number of authorizers', async () => {
    const emu = await emulator()
    const store = sdk.memoryStore()
    await store.set(keys.refreshToken(COMPONENT.componentAppid, AUTH_B.authorizerAppid), AUTH_B.refreshToken)
    const cloud = new sdk.Cloud()
    cloud.init({
      ...COMPONENT,
      store,
      authorizerAppid: AUTH_A.authorizerAppid,
      authorizerRefreshToken: AUTH_A.refreshToken,
      getComponentVerifyTicket: async () => TICKET,
      apiBaseUrl: emu.httpsBaseUrl,
      processEnv: {},
    })
    const a = await create(cloud, 'a')
    const b = await create(cloud, 'b', AUTH_B.authorizerAppid)
    expect(accountOf(emu, a.value.envid)).toBe(AUTH_A.authorizerAppid)
    expect(accountOf(emu, b.value.envid)).toBe(AUTH_B.authorizerAppid)
    // an authorizer whose refresh token nobody has: rejected naming the option, nothing created
    const c = await create(cloud, 'c', 'wx0unknownauth99')
    expect(c.err.errCode).toBe(-501007)
    expect(c.err.errMsg).toMatch(
      /option `appid`: no refresh token for authorizer "wx0unknownauth99": the token store has none under refresh_token:wx0emulatorcomp001:wx0unknownauth99, getAuthorizerRefreshToken is not set and init\(\)'s authorizerRefreshToken is for "wx0emulatorauth001"/,
    )
    expect(emu.environments()).toHaveLength(2)
    // one component token for both authorizers
    expect(emu.stats().tokensIssued.component).toBe(1)
  })

  test('third-party, managed: getAuthorizerRefreshToken(appid) supplies what the store lacks; no default authorizer needs openapi({ appid })', async () => {
    const emu = await emulator()
    const asked = []
    const cloud = new sdk.Cloud()
    cloud.init({
      ...COMPONENT,
      getComponentVerifyTicket: async () => TICKET,
      getAuthorizerRefreshToken: async (appid) => {
        asked.push(appid)
        return appid === AUTH_B.authorizerAppid ? AUTH_B.refreshToken : null
      },
      apiBaseUrl: emu.httpsBaseUrl,
      processEnv: {},
    })
    const b = await create(cloud, 'b', AUTH_B.authorizerAppid)
    expect(accountOf(emu, b.value.envid)).toBe(AUTH_B.authorizerAppid)
    expect(asked).toEqual([AUTH_B.authorizerAppid])
    const none = await create(cloud, 'none')
    expect(none.err.errCode).toBe(-501007)
    expect(none.err.errMsg).toMatch(/option `appid` is required: pass openapi\(\{ appid: authorizerAppid \}\), or authorizerAppid to init\(\)/)
  })

  test('third-party with an authorizerAccessToken function: it is asked for the named authorizer', async () => {
    const emu = await emulator()
    const asked = []
    // the platform's own token service: WeChat's two token requests, made here
    const post = async (path, body) => {
      const r = await fetch(`${emu.httpsBaseUrl}${path}`, { method: 'POST', body: JSON.stringify(body) })
      return r.json()
    }
    const tokenFor = async (appid) => {
      const c = await post('/cgi-bin/component/api_component_token', {
        component_appid: COMPONENT.componentAppid,
        component_appsecret: COMPONENT.componentAppsecret,
        component_verify_ticket: TICKET,
      })
      const refresh = appid === AUTH_A.authorizerAppid ? AUTH_A.refreshToken : AUTH_B.refreshToken
      const a = await post(`/cgi-bin/component/api_authorizer_token?component_access_token=${c.component_access_token}`, {
        component_appid: COMPONENT.componentAppid,
        authorizer_appid: appid,
        authorizer_refresh_token: refresh,
      })
      return a.authorizer_access_token
    }
    const cloud = new sdk.Cloud()
    cloud.init({
      authorizerAccessToken: async (arg) => {
        asked.push(arg)
        return tokenFor(arg.appid)
      },
      apiBaseUrl: emu.httpsBaseUrl,
      processEnv: {},
    })
    const b = await create(cloud, 'b', AUTH_B.authorizerAppid)
    expect(asked).toEqual([{ appid: AUTH_B.authorizerAppid, forceRefresh: false }])
    expect(accountOf(emu, b.value.envid)).toBe(AUTH_B.authorizerAppid)
  })
})

/** A managed third-party client of `emu` with `store`. */
function managed(emu, store, extra = {}) {
  const cloud = new sdk.Cloud()
  cloud.init({
    ...COMPONENT,
    authorizerAppid: AUTH_A.authorizerAppid,
    authorizerRefreshToken: AUTH_A.refreshToken,
    getComponentVerifyTicket: async () => TICKET,
    apiBaseUrl: emu.httpsBaseUrl,
    processEnv: {},
    store,
    ...extra,
  })
  return cloud
}

describe('tokens shared through Redis', () => {
  test.each([['ioredis'], ['node-redis']])(
    '%s: two clients (as two processes) share tokens: one token request each, and a rotated refresh token reaches the other',
    async (kind) => {
      const emu = await emulator({ rotateRefreshTokens: true })
      const prefix = freshPrefix()
      const connect = kind === 'ioredis' ? ioredis : nodeRedis
      // two store objects: two process-local caches, one Redis
      const one = managed(emu, sdk.redisStore(await connect(), { prefix }))
      const two = managed(emu, sdk.redisStore(await connect(), { prefix }))
      const r1 = await create(one, 'one')
      expect(r1.err).toBeUndefined()
      // `two` was configured with the refresh token `one` has rotated away: it reads the store
      const r2 = await create(two, 'two')
      expect(r2.err).toBeUndefined()
      expect(emu.stats().tokensIssued).toMatchObject({ component: 1, authorizer: 1 })
      const raw = sdk.redisStore(await connect(), { prefix })
      expect(await raw.get(keys.refreshToken(COMPONENT.componentAppid, AUTH_A.authorizerAppid))).toMatch(/^refreshtoken@@@/)
    },
  )

  test('onAuthorizerRefreshToken(token, { appid }) is told a rotated token once it is in the store', async () => {
    const emu = await emulator({ rotateRefreshTokens: true })
    const store = sdk.redisStore(await ioredis(), { prefix: freshPrefix() })
    const told = []
    const cloud = managed(emu, store, {
      onAuthorizerRefreshToken: async (token, info) => {
        told.push([token, info, await store.get(keys.refreshToken(COMPONENT.componentAppid, info.appid))])
      },
    })
    await Promise.all([create(cloud, 'a1'), create(cloud, 'a2')])
    expect(told).toHaveLength(1)
    const [token, info, stored] = told[0]
    expect(token).toMatch(/^refreshtoken@@@/)
    expect(info).toEqual({ appid: AUTH_A.authorizerAppid })
    expect(stored).toBe(token)
  })

  test('a cached token makes no store round trip', async () => {
    const emu = await emulator()
    const inner = sdk.redisStore(await ioredis(), { prefix: freshPrefix() })
    let reads = 0
    const counting = {
      ...inner,
      get: (k) => {
        reads++
        return inner.get(k)
      },
    }
    const cloud = managed(emu, counting)
    expect((await create(cloud, 'first')).err).toBeUndefined()
    const before = reads
    for (let i = 0; i < 5; i++) expect((await create(cloud, `again${i}`)).err).toBeUndefined()
    expect(reads).toBe(before)
  })

  test('a rejected token is dropped only while it is still the stored one (compare-and-delete)', async () => {
    const emu = await emulator()
    const store = sdk.redisStore(await ioredis(), { prefix: freshPrefix() })
    const cloud = managed(emu, store)
    expect((await create(cloud, 'first')).err).toBeUndefined()
    const key = keys.authorizerToken(COMPONENT.componentAppid, AUTH_A.authorizerAppid)
    const cached = await store.get(key)
    // WeChat rejects the token once: the SDK drops it, renews, and retries the call once
    emu.injectFault({ api: 'tcb.createenvandresource', kind: 'errcode', errcode: 40001, times: 1 })
    const r = await create(cloud, 'retried')
    expect(r.err).toBeUndefined()
    const renewed = await store.get(key)
    expect(renewed).not.toBe(cached)
    // a late rejection of the old token leaves the new one in place
    expect(await store.compareAndDelete(key, cached)).toBe(false)
    expect(await store.get(key)).toBe(renewed)
  })

  test('a refresh token the store cannot take is kept, the call fails clearly, and the next call saves it', async () => {
    const emu = await emulator({ rotateRefreshTokens: true })
    const inner = sdk.redisStore(await ioredis(), { prefix: freshPrefix() })
    let failing = true
    const flaky = {
      ...inner,
      set: (k, v, ttl) => (failing && k.startsWith('refresh_token:') ? Promise.reject(new Error(`disk full while writing ${v}`)) : inner.set(k, v, ttl)),
    }
    const cloud = managed(emu, flaky, { timeout: 800 })
    const first = await create(cloud, 'first')
    expect(first.err.errCode).toBe(-501001)
    expect(first.err.errMsg).toMatch(
      /the token store \(redis \(ioredis\)\) failed while saving the new authorizer refresh token: disk full while writing \*\*\*; WeChat issued a new authorizer refresh token: it is kept in this process and saved by the next call/,
    )
    expect(emu.environments()).toHaveLength(0)
    failing = false
    const second = await create(cloud, 'second')
    expect(second.err).toBeUndefined()
    const saved = await inner.get(keys.refreshToken(COMPONENT.componentAppid, AUTH_A.authorizerAppid))
    expect(saved).toMatch(/^refreshtoken@@@/)
    // the saved one works: a fresh client of the same store needs no other source
    const fresh = managed(emu, sdk.redisStore(await ioredis(), { prefix: inner.prefix }), { authorizerRefreshToken: 'stale' })
    expect((await create(fresh, 'fresh')).err).toBeUndefined()
  })

  test('a refresh token write still out at the deadline after refusals is reported as refused, and saved later', async () => {
    // The call hears about the write by its own deadline: here the store
    // refuses twice, then leaves the third try unanswered. The error is the
    // refusal (not the call's timer), whatever the machine's load: the
    // write stops at the token engine's deadline, which comes before the
    // call's. The write goes on in the background and the token reaches
    // the store once it answers again.
    const emu = await emulator({ rotateRefreshTokens: true })
    const inner = sdk.redisStore(await ioredis(), { prefix: freshPrefix() })
    let tries = 0
    const flaky = {
      ...inner,
      set: (k, v, ttl) => {
        if (!k.startsWith('refresh_token:')) return inner.set(k, v, ttl)
        tries++
        if (tries < 3) return Promise.reject(new Error(`disk full while writing ${v}`))
        if (tries === 3) return new Promise(() => {})
        return inner.set(k, v, ttl)
      },
    }
    const r = await create(managed(emu, flaky, { timeout: 800 }), 'late')
    expect(tries).toBe(3)
    expect(r.err.errCode).toBe(-501001)
    expect(r.err.errMsg).toMatch(
      /the token store \(redis \(ioredis\)\) failed while saving the new authorizer refresh token: disk full while writing \*\*\*; WeChat issued a new authorizer refresh token: it is kept in this process and saved by the next call/,
    )
    // The background write: polled until the store has it (bounded by the
    // engine's own extra timeout, 800 ms, plus the retry pauses).
    const key = keys.refreshToken(COMPONENT.componentAppid, AUTH_A.authorizerAppid)
    for (let i = 0; i < 40 && !(await inner.get(key)); i++) await new Promise((res) => setTimeout(res, 50))
    expect(await inner.get(key)).toMatch(/^refreshtoken@@@/)
  })
})

describe('one deadline per call: timeout 1000 settles within 2 s whatever stalls', () => {
  // The bound: every step runs against the call's one deadline (1000 ms);
  // 2000 ms leaves the event loop of a loaded 2-core machine a whole
  // deadline's worth of slack to run the timer that ends the call. Before,
  // each step had its own full timeout (4.5 s for a managed call).
  const TIMEOUT = 1000
  const BOUND = 2 * TIMEOUT

  async function timed(cloud, alias) {
    const t0 = Date.now()
    const r = await create(cloud, alias)
    r.ms = Date.now() - t0
    return r
  }

  test('a ticket callback that never returns', async () => {
    const emu = await emulator()
    const cloud = managed(emu, sdk.memoryStore(), { timeout: TIMEOUT, getComponentVerifyTicket: () => new Promise(() => {}) })
    const r = await timed(cloud, 'x')
    expect(r.err.errCode).toBe(-501006)
    expect(r.err.errMsg).toMatch(/getComponentVerifyTicket failed: it did not return within 1000 ms/)
    expect(r.ms).toBeLessThan(BOUND)
  })

  test.each([['cgi-bin.component.api_component_token'], ['cgi-bin.component.api_authorizer_token'], ['tcb.createenvandresource']])(
    '%s answering after 5 s',
    async (api) => {
      const emu = await emulator()
      emu.injectFault({ api, kind: 'delay', delayMs: 5000 })
      const cloud = managed(emu, sdk.memoryStore(), { timeout: TIMEOUT })
      const r = await timed(cloud, 'x')
      expect(r.err.errCode).toBe(-501002)
      expect(r.ms).toBeLessThan(BOUND)
      if (api.endsWith('api_authorizer_token')) {
        // this request is not cut short (its answer may carry a rotated refresh
        // token): the call ends at its deadline, naming what it waited for
        expect(r.err.errMsg).toMatch(/no authorizer_access_token within the call's timeout of 1000 ms$/)
      } else {
        // the steps before the stall took some of the deadline: the last one got only what was left
        const left = Number(/no answer within (\d+) ms/.exec(r.err.errMsg)[1])
        expect(left).toBeLessThanOrEqual(TIMEOUT)
      }
    },
  )

  test('HTTPS with appid + secret: the token and the request share the deadline', async () => {
    const emu = await emulator()
    emu.injectFault({ api: 'tcb.createenvandresource', kind: 'delay', delayMs: 5000 })
    emu.injectFault({ api: 'cgi-bin.stable_token', kind: 'delay', delayMs: 700 })
    const cloud = new sdk.Cloud()
    cloud.init({ ...APP_A, apiBaseUrl: emu.httpsBaseUrl, processEnv: {}, timeout: TIMEOUT })
    const r = await timed(cloud, 'x')
    expect(r.err.errCode).toBe(-501002)
    // 700 ms went to the token: the request had the rest, so the call ended near 1000 ms, not 1700
    expect(r.ms).toBeLessThan(BOUND)
    expect(Number(/no answer within (\d+) ms/.exec(r.err.errMsg)[1])).toBeLessThan(TIMEOUT)
  })

  test('a Redis that stops answering, then comes back: a clear errCode in time, then calls succeed', async () => {
    const own = await startRedis()
    try {
      const emu = await emulator()
      const client = await ioredis(own.port, { maxRetriesPerRequest: null })
      const cloud = managed(emu, sdk.redisStore(client, { prefix: freshPrefix() }), { timeout: TIMEOUT })
      own.pause()
      const r = await timed(cloud, 'stalled')
      own.resume()
      expect(r.err.errCode).toBe(-501002)
      expect(r.err.errMsg).toMatch(/the token store \(redis \(ioredis\)\) did not answer within the call's timeout of 1000 ms while reading authorizer_token/)
      expect(r.ms).toBeLessThan(BOUND)
      const after = await create(cloud, 'after')
      expect(after.err).toBeUndefined()
    } finally {
      own.resume()
      await own.stop()
    }
  })

  test('a Redis that is down, then restarted: a clear errCode in time, nothing lost, then calls succeed', async () => {
    let own = await startRedis()
    try {
      const emu = await emulator()
      const client = await nodeRedis(own.port)
      const prefix = freshPrefix()
      const cloud = managed(emu, sdk.redisStore(client, { prefix }), { timeout: TIMEOUT })
      expect((await create(cloud, 'before')).err).toBeUndefined()
      await own.stop()
      // the cached token needs no Redis: calls go on
      expect((await create(cloud, 'cached')).err).toBeUndefined()
      // a client that has nothing cached fails clearly, in time
      const other = managed(emu, sdk.redisStore(client, { prefix }), { timeout: TIMEOUT })
      const r = await timed(other, 'down')
      expect([-501001, -501002]).toContain(r.err.errCode)
      expect(r.err.errMsg).toMatch(/the token store \(redis \(node-redis\)\)/)
      expect(r.ms).toBeLessThan(BOUND)
      own = await own.restart()
      // node-redis reconnects on its own; the restarted Redis is empty, and the
      // refresh token comes from init() again (the emulator does not rotate here)
      let after
      for (let i = 0; i < 20; i++) {
        after = await create(other, `after${i}`)
        if (!after.err) break
        await sleep(100)
      }
      expect(after.err).toBeUndefined()
    } finally {
      await own.stop()
    }
  })
})

test('a managed client with no ticket in the store and no ticket callback rejects -501006 naming both sources', async () => {
  const emu = await emulator()
  const cloud = managed(emu, sdk.memoryStore(), { getComponentVerifyTicket: undefined })
  const { err } = await create(cloud, 'noticket')
  expect(err.errCode).toBe(-501006)
  expect(err.errMsg).toBe(
    'openapi.tcb.createenvandresource:fail no component_verify_ticket: the token store has none under ' +
      `ticket:${COMPONENT.componentAppid} (WeChat pushes it to your event URL every 10 minutes) and getComponentVerifyTicket is not set`,
  )
  // Nothing was asked of WeChat (the emulator lists only what it issued).
  expect(emu.stats().tokensIssued.component).toBeUndefined()
  expect(emu.stats().calls['https:cgi-bin.component.api_component_token']).toBeUndefined()
})
