'use strict'
// The third-party platform end to end, as one product: the emulator plays
// WeChat and pushes the verify ticket and the authorizations, encrypted, to
// a node `http` server running createComponentEventHandler; a client set up
// with nothing but the platform's credentials and the same store
// (`init({ componentAppid, componentAppsecret, store })`: no ticket
// callback, no refresh token) then creates environments for two
// authorizers, each in its own account. Revoking one makes its calls fail
// with the documented code and leaves the other alone.
//
// Run with the memory store (handler and client in one process, one store
// object) and with the Redis store (a real redis-server; the handler and the
// client each have their own connection and their own process-local cache,
// as two processes would). Last, the emulator command (cli.js and the
// wx-cloud-emulator binary) pushes to an event URL given by flags.

const { startPlatformSite } = require('./helpers/platform-site')
const Redis = require('ioredis')
const sdk = require('../index.js')
const { keys, forgetCached } = require('../lib/store.js')
const { startRedis } = require('./helpers/redis.js')

const COMPONENT_APPID = 'wx0emulatorcomp001'
const COMPONENT_SECRET = 'emulator-component-secret'
const MSG_TOKEN = 'platform-message-token'
const AES_KEY = 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG'
const SHOP_A = 'wxplatformshop01'
const SHOP_B = 'wxplatformshop02'

let redis
const connections = []

beforeAll(async () => {
  redis = await startRedis()
})

afterAll(async () => {
  for (const c of connections) c.disconnect()
  if (redis) await redis.stop()
})

let prefixes = 0
/** A new connection to the test Redis: each user of the store has its own, as separate processes would. */
function redisStore(prefix) {
  const client = new Redis({ port: redis.port, host: '127.0.0.1', lazyConnect: false, maxRetriesPerRequest: 1 })
  connections.push(client)
  return sdk.redisStore(client, { prefix })
}

const STORES = [
  [
    'memoryStore (one store object for the handler and the client)',
    () => {
      const store = sdk.memoryStore()
      return { handlerStore: store, clientStore: store }
    },
  ],
  [
    'redisStore (a real redis-server; the handler and the client each with their own connection)',
    () => {
      const prefix = `tp-e2e-${process.pid}-${++prefixes}:`
      return { handlerStore: redisStore(prefix), clientStore: redisStore(prefix) }
    },
  ],
]

describe.each(STORES)('%s', (_name, makeStores) => {
  let emu, site, stores, cloud

  beforeAll(async () => {
    stores = makeStores()
    let handle = null
    site = await startPlatformSite((req) => handle(req))
    emu = await sdk.startEmulator({
      componentEventUrl: site.url,
      componentToken: MSG_TOKEN,
      componentEncodingAesKey: AES_KEY,
      ticketIntervalMs: 0, // pushed on demand: the test says when
      authorizers: [], // nobody has authorized the platform yet
    })
    handle = sdk.createComponentEventHandler({
      componentAppid: COMPONENT_APPID,
      componentAppsecret: COMPONENT_SECRET,
      token: MSG_TOKEN,
      encodingAesKey: AES_KEY,
      store: stores.handlerStore,
      apiBaseUrl: emu.httpsBaseUrl,
    })
    cloud = new sdk.Cloud()
    cloud.init({
      componentAppid: COMPONENT_APPID,
      componentAppsecret: COMPONENT_SECRET,
      store: stores.clientStore,
      apiBaseUrl: emu.httpsBaseUrl,
      processEnv: {},
    })
  })

  afterAll(async () => {
    if (emu) await emu.close()
    if (site) await site.close()
  })

  const create = (appid, alias) => cloud.openapi({ appid }).tcb.createenvandresource({ type: 'CreatePostpayPackage', alias })

  test('the pushed ticket and the authorizations reach the store; each authorizer creates environments in its own account', async () => {
    const ticket = await emu.pushTicket()
    expect(await stores.clientStore.get(keys.ticket(COMPONENT_APPID))).toBe(ticket)

    const a = await emu.authorize(SHOP_A)
    const b = await emu.authorize(SHOP_B)
    expect([a.pushed, b.pushed]).toEqual([true, true])
    expect(site.errors).toEqual([])
    // The handler's exchange stored each refresh token where the client reads it.
    for (const shop of [SHOP_A, SHOP_B]) {
      expect(await stores.clientStore.get(keys.refreshToken(COMPONENT_APPID, shop))).toMatch(/^refreshtoken@@@/)
    }

    const [ea, eb] = await Promise.all([create(SHOP_A, 'shopa'), create(SHOP_B, 'shopb')])
    expect([ea.errCode, eb.errCode]).toEqual([0, 0])
    const envs = emu.environments()
    expect(envs.find((e) => e.env === ea.envid).account).toBe(SHOP_A)
    expect(envs.find((e) => e.env === eb.envid).account).toBe(SHOP_B)

    // The handler's api_query_auth and the client's calls share one
    // component_access_token through the store: one request in all.
    expect(emu.stats().tokensIssued.component).toBe(1)
    // The access tokens api_query_auth gave are in the store: the client
    // used them without an api_authorizer_token request.
    expect(emu.stats().calls['https:cgi-bin.component.api_authorizer_token']).toBeUndefined()
  })

  test('after revoke, calls for that authorizer fail with -501007 naming appid; the other authorizer is untouched', async () => {
    expect(await emu.revoke(SHOP_B)).toBe(true)
    expect(site.events[site.events.length - 1]).toMatchObject({ InfoType: 'unauthorized', AuthorizerAppid: SHOP_B })
    expect(await stores.clientStore.get(keys.refreshToken(COMPONENT_APPID, SHOP_B))).toBeNull()
    expect(await stores.clientStore.get(keys.authorizerToken(COMPONENT_APPID, SHOP_B))).toBeNull()

    const err = await create(SHOP_B, 'afterrevoke').catch((e) => e)
    expect(err).toBeInstanceOf(Error)
    expect(err.errCode).toBe(-501007)
    expect(err.errMsg).toContain('option `appid`')
    expect(err.errMsg).toContain(`no refresh token for authorizer "${SHOP_B}"`)
    // It says why: the unauthorized event's time, recorded by the handler.
    const revokedAt = await stores.clientStore.get(keys.revoked(COMPONENT_APPID, SHOP_B))
    expect(new Date(revokedAt).toISOString()).toBe(revokedAt)
    expect(err.errMsg).toContain(`it revoked its authorization at ${revokedAt} (unauthorized event)`)
    expect(
      emu
        .environments()
        .filter((e) => e.account === SHOP_B)
        .map((e) => e.alias),
    ).toEqual(['shopb'])

    // Shop A: its refresh token is still stored and its calls still work,
    // with the same component token.
    expect(await stores.clientStore.get(keys.refreshToken(COMPONENT_APPID, SHOP_A))).toMatch(/^refreshtoken@@@/)
    const again = await create(SHOP_A, 'shopa2')
    expect(emu.environments().find((e) => e.env === again.envid).account).toBe(SHOP_A)
    expect(emu.stats().tokensIssued.component).toBe(1)
  })

  test('authorizing again after the revocation brings the authorizer back', async () => {
    const back = await emu.authorize(SHOP_B)
    expect(back.pushed).toBe(true)
    const e = await create(SHOP_B, 'shopb2')
    expect(emu.environments().find((x) => x.env === e.envid).account).toBe(SHOP_B)
    expect(await stores.clientStore.get(keys.revoked(COMPONENT_APPID, SHOP_B))).toBeNull()
  })

  test('a component token WeChat rejects is dropped from the store and renewed once; the authorization still lands', async () => {
    const key = keys.componentToken(COMPONENT_APPID)
    // A record as the clients write it: fresh for two hours.
    const now = Date.now()
    const forgotten = { raw: JSON.stringify({ token: 'component-token-wechat-forgot', renewAt: now + 6900000, usableUntil: now + 7170000 }) }
    await stores.handlerStore.set(key, forgotten.raw, 7200000)
    forgetCached(stores.handlerStore, key)
    const issued = emu.stats().tokensIssued.component
    const c = await emu.authorize('wxplatformshop03')
    expect(c.pushed).toBe(true)
    expect(site.errors).toEqual([])
    expect(emu.stats().tokensIssued.component).toBe(issued + 1)
    const stored = await stores.clientStore.get(key)
    expect(stored).not.toBe(forgotten.raw)
    expect(JSON.parse(stored).token).not.toBe('component-token-wechat-forgot')
    const e = await create('wxplatformshop03', 'shopc')
    expect(emu.environments().find((x) => x.env === e.envid).account).toBe('wxplatformshop03')
  })
})

test('npm start (scripts/demo.js) shows the platform flow: an environment per account, then the revoked one failing', () => {
  const { spawnSync } = require('child_process')
  const path = require('path')
  // The addon the tests built (the package root's), not the release one
  // `npm start` keeps in target/demo-addon/, which may predate this code.
  const root = path.join(__dirname, '..')
  const addon = require('fs')
    .readdirSync(root)
    .find((f) => /^wx-cloud-openapi\..+\.node$/.test(f))
  const env = { ...process.env, NAPI_RS_NATIVE_LIBRARY_PATH: path.join(root, addon) }
  const r = spawnSync(process.execPath, [path.join(root, 'scripts', 'demo.js')], { encoding: 'utf8', env })
  expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' })
  expect(r.stdout).toMatch(/third-party for wxdemoshop000001 → +\S+ in account wxdemoshop000001\n/)
  expect(r.stdout).toMatch(/third-party for wxdemoshop000002 → +\S+ in account wxdemoshop000002\n/)
  expect(r.stdout).toMatch(/after wxdemoshop000002 revoked → +errCode=-501007 /)
})

describe.each([
  ['wx-cloud-openapi emulator (cli.js)', () => [process.execPath, [require('path').join(__dirname, '..', 'cli.js'), 'emulator']]],
  ['wx-cloud-emulator (the Rust binary)', () => ['cargo', ['run', '-q', '-p', 'wx-cloud-emulator', '--']]],
])('%s --component-event-url', (_name, program) => {
  // Time to build the binary from scratch on a loaded 2-core machine (a
  // no-op once built); jest's timeout, not an assertion about speed.
  const BUILD_MS = 600_000
  test(
    'pushes a ticket at start to the handler, with the token and key from WX_EMULATOR_* (never printed)',
    async () => {
      const { spawn } = require('child_process')
      const store = sdk.memoryStore()
      // Storing a ticket needs no WeChat API: the handler is ready before the
      // emulator starts (its API base URL is not known yet and not used).
      const handle = sdk.createComponentEventHandler({
        componentAppid: COMPONENT_APPID,
        componentAppsecret: COMPONENT_SECRET,
        token: MSG_TOKEN,
        encodingAesKey: AES_KEY,
        store,
        apiBaseUrl: 'http://127.0.0.1:9',
      })
      const site = await startPlatformSite(handle)
      const [cmd, args] = program()
      const child = spawn(cmd, [...args, '--authorizer', 'wxcliauth0000001:r1', '--component-event-url', site.url, '--ticket-interval-ms', '60000'], {
        cwd: require('path').join(__dirname, '..'),
        env: { ...process.env, WX_EMULATOR_COMPONENT_TOKEN: MSG_TOKEN, WX_EMULATOR_COMPONENT_ENCODING_AES_KEY: AES_KEY },
        stdio: ['ignore', 'pipe', 'pipe'],
      })
      try {
        let out = ''
        const banner = await new Promise((resolve, reject) => {
          child.stdout.on('data', (c) => {
            out += c
            if (/^export /m.test(out)) resolve(out)
          })
          child.once('exit', (code) => reject(new Error(`exited ${code}: ${out}`)))
        })
        expect(banner).toContain(`# component events: pushed to ${site.url}, a new ticket at start and every 60000 ms`)
        expect(banner).not.toContain(MSG_TOKEN)
        expect(banner).not.toContain(AES_KEY)
        // The ticket pushed at start reaches the store (waited for, not timed).
        while (site.events.length === 0 && site.errors.length === 0) await new Promise((r) => setTimeout(r, 20))
        expect(site.errors).toEqual([])
        expect(site.events[0].InfoType).toBe('component_verify_ticket')
        // With the pushed ticket (the only kind the emulator now accepts) a
        // client of the same store creates an environment for the authorizer.
        const client = new sdk.Cloud()
        client.init({
          componentAppid: COMPONENT_APPID,
          componentAppsecret: COMPONENT_SECRET,
          store,
          getAuthorizerRefreshToken: () => 'r1',
          apiBaseUrl: banner.match(/--api-base-url\): (\S+)/)[1],
          processEnv: {},
        })
        const r = await client.openapi({ appid: 'wxcliauth0000001' }).tcb.createenvandresource({ type: 'CreatePostpayPackage', alias: 'cli' })
        expect(r.errCode).toBe(0)
      } finally {
        child.kill('SIGTERM')
        await new Promise((r) => (child.exitCode !== null ? r() : child.once('exit', r)))
        await site.close()
      }
    },
    BUILD_MS + 10_000,
  )

  test(
    'the event settings go together, and the interval needs the URL: usage errors (exit 2) naming them',
    () => {
      const { spawnSync } = require('child_process')
      const [cmd, args] = program()
      const run = (extra, env = {}) =>
        spawnSync(cmd, [...args, ...extra], {
          cwd: require('path').join(__dirname, '..'),
          encoding: 'utf8',
          env: { ...process.env, ...env },
          timeout: BUILD_MS,
        })
      const partial = run(['--component-event-url', 'http://127.0.0.1:9/e'], { WX_EMULATOR_COMPONENT_TOKEN: MSG_TOKEN })
      expect(partial.status).toBe(2)
      expect(partial.stderr).toContain('--component-event-url, a component token (--component-token or WX_EMULATOR_COMPONENT_TOKEN) and an EncodingAESKey')
      expect(partial.stderr).not.toContain(MSG_TOKEN)
      const interval = run(['--ticket-interval-ms', '5'])
      expect(interval.status).toBe(2)
      expect(interval.stderr).toContain('--ticket-interval-ms needs --component-event-url')
      const both = run(['--component-token', 'x'], { WX_EMULATOR_COMPONENT_TOKEN: MSG_TOKEN })
      expect(both.status).toBe(2)
      expect(both.stderr).toContain('--component-token and WX_EMULATOR_COMPONENT_TOKEN are both set: give one')
    },
    BUILD_MS + 10_000,
  )
})
