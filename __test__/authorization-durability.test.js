'use strict'
// Issue 19, "beyond the list": the durability model of an authorization
// (docs/third-party.md), each step's failure in one suite, against a real
// redis-server on loopback, with the emulator as WeChat pushing to a real
// event URL (helpers/platform-site.js). Nothing may be lost in any of them:
// after each failure the authorizer still creates an environment.
//
// A process killed with `kill -9` in the middle of refresh-token rotation is
// in token-store-cluster.test.js (real child processes).

const Redis = require('ioredis')
const sdk = require('../index.js')
const { keys } = require('../lib/store.js')
const { startRedis } = require('./helpers/redis.js')
const { startPlatformSite } = require('./helpers/platform-site')

const COMPONENT = { componentAppid: 'wx0emulatorcomp001', componentAppsecret: 'emulator-component-secret' }
const TOKEN = 'durability-message-token'
const AES_KEY = 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG'

let redis
let admin
let site
let emu
let handle

beforeAll(async () => {
  redis = await startRedis()
  admin = new Redis({ port: redis.port, host: '127.0.0.1' })
  site = await startPlatformSite((req) => handle(req))
  emu = await sdk.startEmulator({
    componentEventUrl: site.url,
    componentToken: TOKEN,
    componentEncodingAesKey: AES_KEY,
    ticketIntervalMs: 0,
    authorizers: [],
    rotateRefreshTokens: true,
    // Some pushes fail on purpose (the platform refuses): reported to the test, not on stderr.
    logPushFailures: false,
  })
})

afterAll(async () => {
  if (emu) await emu.close()
  if (site) await site.close()
  if (admin) admin.disconnect()
  if (redis) await redis.stop()
})

let prefixes = 0
/** A store of its own (a fresh prefix), the handler on it, and a ticket pushed into it. */
async function platform(handlerOptions = {}) {
  const client = new Redis({ port: redis.port, host: '127.0.0.1', maxRetriesPerRequest: 1 })
  const store = sdk.redisStore(client, { prefix: `durable${++prefixes}:` })
  handle = sdk.createComponentEventHandler({ ...COMPONENT, token: TOKEN, encodingAesKey: AES_KEY, store, apiBaseUrl: emu.httpsBaseUrl, ...handlerOptions })
  await emu.pushTicket()
  const cloud = new sdk.Cloud()
  cloud.init({ ...COMPONENT, store, apiBaseUrl: emu.httpsBaseUrl, processEnv: {} })
  const create = (appid, alias) => cloud.openapi({ appid }).tcb.createenvandresource({ type: 'CreatePostpayPackage', alias })
  return { client, store, create, close: () => client.disconnect() }
}

const refreshKey = (appid) => keys.refreshToken(COMPONENT.componentAppid, appid)

test('a store that refuses writes while the authorization arrives (a master without its replicas)', async () => {
  const p = await platform()
  try {
    // Redis itself refuses every write (NOREPLICAS) until a replica is
    // connected: the state of a master that lost its replicas.
    await admin.call('CONFIG', 'SET', 'min-replicas-to-write', '1')
    const refusing = emu.authorize('wxdurable0000001')
    // Lifted while the handler retries (it retries until its deadline).
    setTimeout(() => admin.call('CONFIG', 'SET', 'min-replicas-to-write', '0'), 300)
    expect(await refusing).toMatchObject({ infoType: 'authorized', pushed: true })
    expect(await p.store.get(refreshKey('wxdurable0000001'))).toMatch(/^refreshtoken@@@/)
    expect((await p.create('wxdurable0000001', 'refused')).errCode).toBe(0)
  } finally {
    await admin.call('CONFIG', 'SET', 'min-replicas-to-write', '0')
    p.close()
  }
})

test('a store that forgets everything (FLUSHALL, a restart without persistence) after the authorization', async () => {
  const p = await platform()
  try {
    expect((await emu.authorize('wxdurable0000002')).pushed).toBe(true)
    expect((await p.create('wxdurable0000002', 'before')).errCode).toBe(0)
    await admin.flushall()
    // WeChat pushes the ticket again within 10 minutes; the refresh token
    // only this process still has. Its access token is due (here: dropped
    // from the process's cache), so the next call renews.
    await emu.pushTicket()
    require('../lib/store.js').forgetCached(p.store, keys.authorizerToken(COMPONENT.componentAppid, 'wxdurable0000002'))
    expect((await p.create('wxdurable0000002', 'after')).errCode).toBe(0)
    // Written back for the other processes.
    expect(await p.store.get(refreshKey('wxdurable0000002'))).toMatch(/^refreshtoken@@@/)
  } finally {
    p.close()
  }
})

test('a slow WeChat: the exchange outlives the handler and its answer is stored', async () => {
  const p = await platform({ timeout: 1000 })
  try {
    emu.injectFault({ api: 'cgi-bin.component.api_query_auth', kind: 'delay', delayMs: 600, times: 1 })
    // The component token (this store has none yet) takes 600 ms of the
    // handler's 1000; the exchange gets a full timeout of its own.
    emu.injectFault({ api: 'cgi-bin.component.api_component_token', kind: 'delay', delayMs: 600, times: 1 })
    await emu.authorize('wxdurable0000003')
    // Bounded by the suite's timeout: the saves finish a timeout after the handler's.
    while ((await p.store.get(refreshKey('wxdurable0000003'))) === null) await new Promise((r) => setTimeout(r, 50))
    expect((await p.create('wxdurable0000003', 'slow')).errCode).toBe(0)
  } finally {
    p.close()
  }
})

test('a replayed or late push: an older unauthorized or authorized changes nothing', async () => {
  const p = await platform()
  try {
    const appid = 'wxdurable0000004'
    expect((await emu.authorize(appid)).pushed).toBe(true)
    const authorized = site.requests[site.requests.length - 1]
    expect(await emu.revoke(appid)).toBe(true)
    const unauthorized = site.requests[site.requests.length - 1]
    // Pushes carry CreateTime in seconds: the next authorization is a second later.
    await new Promise((r) => setTimeout(r, 1100))
    expect((await emu.authorize(appid)).pushed).toBe(true)
    const refresh = await p.store.get(refreshKey(appid))
    // The revocation replayed (or arriving late): ignored, and says why.
    const replayed = await handle({ query: unauthorized.url, body: unauthorized.body })
    expect(replayed.ignored).toMatch(/applied already/)
    // The first authorization replayed: ignored before its (spent) code is used.
    expect((await handle({ query: authorized.url, body: authorized.body })).ignored).toMatch(/applied already/)
    expect(await p.store.get(refreshKey(appid))).toBe(refresh)
    expect((await p.create(appid, 'replayed')).errCode).toBe(0)
  } finally {
    p.close()
  }
})
