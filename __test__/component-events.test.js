'use strict'
// The third-party platform's event endpoint against the emulator as WeChat:
// the emulator pushes encrypted tickets and authorization events to a real
// node `http` server on loopback whose handler is createComponentEventHandler;
// the platform then creates environments in each authorizer's account with the
// refresh tokens the handler stored. Tampered requests store nothing.
//
// The store here is a minimal in-test object with the interface of the token
// store (get, set with ttl, compareAndDelete, lock), recording every write;
// the package's memoryStore()/redisStore() follow the same interface. The
// whole product (the handler and a client sharing memoryStore() or Redis)
// is third-party-platform.test.js.

const { startPlatformSite } = require('./helpers/platform-site')
const crypto = require('crypto')
const sdk = require('../index.js')
const { storeKeys } = require('../lib/component-events.js')

const COMPONENT_APPID = 'wx0emulatorcomp001'
const COMPONENT_SECRET = 'emulator-component-secret'
const TOKEN = 'platform-message-token'
const AES_KEY = 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG'

function testStore() {
  const data = new Map()
  const writes = []
  return {
    data,
    writes,
    async get(key) {
      const e = data.get(key)
      if (!e) return null
      if (e.expiresAt !== undefined && e.expiresAt <= Date.now()) {
        data.delete(key)
        return null
      }
      return e.value
    },
    async set(key, value, ttlMs) {
      writes.push(['set', key, value, ttlMs])
      data.set(key, { value, expiresAt: ttlMs === undefined ? undefined : Date.now() + ttlMs })
    },
    async compareAndDelete(key, expected) {
      const e = data.get(key)
      if (!e || e.value !== expected) return false
      writes.push(['delete', key])
      data.delete(key)
      return true
    },
    async lock() {
      return { release: async () => {} }
    },
  }
}

let emu, site, store, handle

function handlerOptions(extra) {
  return {
    componentAppid: COMPONENT_APPID,
    componentAppsecret: COMPONENT_SECRET,
    token: TOKEN,
    encodingAesKey: AES_KEY,
    store,
    apiBaseUrl: emu.httpsBaseUrl,
    timeout: 10000,
    ...extra,
  }
}

beforeAll(async () => {
  store = testStore()
  let h = null
  site = await startPlatformSite((req) => h(req))
  emu = await sdk.startEmulator({
    componentEventUrl: site.url,
    componentToken: TOKEN,
    componentEncodingAesKey: AES_KEY,
    ticketIntervalMs: 0, // pushed on demand here; the schedule has its own test
    authorizers: [],
  })
  handle = sdk.createComponentEventHandler(handlerOptions())
  h = handle
})

afterAll(async () => {
  await emu.close()
  await site.close()
})

/** A third-party client for `appid`, reading its refresh token and the ticket from the store. */
async function platformClient(appid) {
  const refresh = await store.get(storeKeys.refreshToken(COMPONENT_APPID, appid))
  const cloud = new sdk.Cloud()
  cloud.init({
    componentAppid: COMPONENT_APPID,
    componentAppsecret: COMPONENT_SECRET,
    authorizerAppid: appid,
    authorizerRefreshToken: refresh,
    getComponentVerifyTicket: () => store.get(storeKeys.ticket(COMPONENT_APPID)),
    onAuthorizerRefreshToken: (t) => store.set(storeKeys.refreshToken(COMPONENT_APPID, appid), t),
    apiBaseUrl: emu.httpsBaseUrl,
    processEnv: {},
  })
  return cloud
}

const create = (cloud, alias) => cloud.openapi.tcb.createenvandresource({ type: 'CreatePostpayPackage', alias })

test('a pushed verify ticket is decrypted, returned and stored for 12 hours', async () => {
  const ticket = await emu.pushTicket()
  expect(ticket).toMatch(/^ticket@@@/)
  const event = site.events[site.events.length - 1]
  expect(event).toMatchObject({ AppId: COMPONENT_APPID, InfoType: 'component_verify_ticket', ComponentVerifyTicket: ticket })
  expect(typeof event.CreateTime).toBe('number')
  expect(await store.get(storeKeys.ticket(COMPONENT_APPID))).toBe(ticket)
  const write = store.writes.find((w) => w[2] === ticket)
  expect(write[3]).toBe(12 * 3600 * 1000)
  expect(emu.stats().calls['push:component_verify_ticket']).toBeGreaterThanOrEqual(1)
})

test('authorizing exchanges the code, stores the refresh token, and each authorizer creates environments in its own account', async () => {
  await emu.pushTicket()
  const a = await emu.authorize('wxmerchant000001')
  const b = await emu.authorize('wxmerchant000002')
  expect(a).toMatchObject({ infoType: 'authorized', pushed: true })
  expect(b.pushed).toBe(true)
  const ev = site.events.find((e) => e.AuthorizerAppid === 'wxmerchant000001')
  expect(ev).toMatchObject({ InfoType: 'authorized', AuthorizationCode: a.authorizationCode })
  expect(ev.authorization).toMatchObject({ authorizerAppid: 'wxmerchant000001' })
  expect(JSON.stringify(ev)).not.toMatch(/refreshtoken@@@/) // the token is in the store, not in the event
  const refreshA = await store.get(storeKeys.refreshToken(COMPONENT_APPID, 'wxmerchant000001'))
  expect(refreshA).toMatch(/^refreshtoken@@@/)

  const [ea, eb] = await Promise.all([create(await platformClient('wxmerchant000001'), 'shopa'), create(await platformClient('wxmerchant000002'), 'shopb')])
  const envs = emu.environments()
  expect(envs.find((e) => e.env === ea.envid).account).toBe('wxmerchant000001')
  expect(envs.find((e) => e.env === eb.envid).account).toBe('wxmerchant000002')
  expect(emu.authorizers()).toEqual(['wxmerchant000001', 'wxmerchant000002'])
})

test('authorizing again sends updateauthorized and replaces the stored refresh token', async () => {
  const key = storeKeys.refreshToken(COMPONENT_APPID, 'wxmerchant000001')
  const before = await store.get(key)
  const again = await emu.authorize('wxmerchant000001')
  expect(again.infoType).toBe('updateauthorized')
  const after = await store.get(key)
  expect(after).toMatch(/^refreshtoken@@@/)
  expect(after).not.toBe(before)
  await expect(create(await platformClient('wxmerchant000001'), 'again')).resolves.toMatchObject({ errCode: 0 })
})

test('revoking drops the authorizer tokens from the store and its calls fail with 61003', async () => {
  const client = await platformClient('wxmerchant000002')
  await create(client, 'beforerevoke')
  await store.set(storeKeys.authorizerToken(COMPONENT_APPID, 'wxmerchant000002'), 'cached-access-token')
  expect(await emu.revoke('wxmerchant000002')).toBe(true)
  const ev = site.events[site.events.length - 1]
  expect(ev).toMatchObject({ InfoType: 'unauthorized', AuthorizerAppid: 'wxmerchant000002' })
  expect(await store.get(storeKeys.refreshToken(COMPONENT_APPID, 'wxmerchant000002'))).toBeNull()
  expect(await store.get(storeKeys.authorizerToken(COMPONENT_APPID, 'wxmerchant000002'))).toBeNull()
  const err = await create(client, 'afterrevoke').catch((e) => e)
  expect(err.errCode).toBe(61003)
  expect(await emu.revoke('wxmerchant000002')).toBe(false)
  // The other authorizer is untouched.
  expect(await store.get(storeKeys.refreshToken(COMPONENT_APPID, 'wxmerchant000001'))).toMatch(/^refreshtoken@@@/)
})

test('a store failing on the record of a revocation does not fail an authorization (its code is already spent)', async () => {
  await emu.pushTicket()
  const errors = site.errors.length
  const get = store.get
  store.get = async (key) => {
    if (key.startsWith('revoked:')) throw new Error('the store failed for this key')
    return get.call(store, key)
  }
  try {
    const a = await emu.authorize('wxmerchant000009')
    expect(a).toMatchObject({ infoType: 'authorized', pushed: true })
    expect(site.errors.length).toBe(errors)
    expect(await get.call(store, storeKeys.refreshToken(COMPONENT_APPID, 'wxmerchant000009'))).toMatch(/^refreshtoken@@@/)
  } finally {
    store.get = get
  }
})

test('an authorization before any ticket is stored rejects -501006 saying so (and no client option)', async () => {
  await emu.pushTicket()
  await emu.authorize('wxmerchant000010')
  const pushed = site.requests[site.requests.length - 1]
  // A handler over an empty store: no ticket, so no component token, so the code is never used.
  const fresh = sdk.createComponentEventHandler(handlerOptions({ store: testStore() }))
  const err = await fresh({ query: pushed.url, body: pushed.body }).catch((e) => e)
  expect(err.errCode).toBe(-501006)
  expect(err.errMsg).toBe(
    `componentEvent:fail no component_verify_ticket: the token store has none under ${storeKeys.ticket(COMPONENT_APPID)} ` +
      '(WeChat pushes it to your event URL every 10 minutes): no component_verify_ticket event has reached this handler yet',
  )
})

describe('requests that are not genuine are refused and store nothing', () => {
  let genuine
  beforeAll(async () => {
    await emu.pushTicket()
    genuine = site.requests[site.requests.length - 1]
  })

  const sign = (ts, nonce, encrypt) => crypto.createHash('sha1').update([TOKEN, ts, nonce, encrypt].sort().join('')).digest('hex')
  const encryptOf = (body) => /<Encrypt><!\[CDATA\[([^\]]+)\]\]><\/Encrypt>/.exec(body.toString())[1]

  async function refused(request, h = handle) {
    const writes = store.writes.length
    const err = await h(request).then(
      () => null,
      (e) => e,
    )
    expect(err).toBeInstanceOf(sdk.CloudSDKError)
    expect(store.writes.length).toBe(writes)
    return err
  }

  test('the genuine request is accepted (replayed, it is the same ticket)', async () => {
    const ev = await handle({ query: genuine.url, body: genuine.body })
    expect(ev.InfoType).toBe('component_verify_ticket')
  })

  test('a changed nonce: -40001', async () => {
    const url = genuine.url.replace(/nonce=\d+/, 'nonce=123')
    const err = await refused({ query: url, body: genuine.body })
    expect(err.errCode).toBe(-40001)
    expect(err.errMsg).toMatch(/^componentEvent:fail msg_signature does not match/)
  })

  test('no msg_signature: -40001', async () => {
    const err = await refused({ query: genuine.url.replace(/msg_signature=[0-9a-f]+/, ''), body: genuine.body })
    expect(err.errCode).toBe(-40001)
  })

  test('a ciphertext whose padding is broken, correctly signed: -40007', async () => {
    const q = new URL(genuine.url, 'http://x').searchParams
    const raw = Buffer.from(encryptOf(genuine.body), 'base64')
    raw[raw.length - 17] ^= 0x80 // CBC: flips the high bit of the last plaintext byte (the pad value)
    const enc = raw.toString('base64')
    const body = `<xml><AppId><![CDATA[${COMPONENT_APPID}]]></AppId><Encrypt><![CDATA[${enc}]]></Encrypt></xml>`
    const ts = q.get('timestamp')
    const nonce = q.get('nonce')
    const err = await refused({ query: { timestamp: ts, nonce, msg_signature: sign(ts, nonce, enc) }, body })
    expect(err.errCode).toBe(-40007)
  })

  test('a message for another platform: -40005', async () => {
    const other = sdk.createComponentEventHandler(handlerOptions({ componentAppid: 'wxotherplatform01' }))
    const err = await refused({ query: genuine.url, body: genuine.body }, other)
    expect(err.errCode).toBe(-40005)
  })

  test('a handler with the wrong EncodingAESKey cannot open it', async () => {
    const wrong = sdk.createComponentEventHandler(handlerOptions({ encodingAesKey: 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdefg' }))
    const err = await refused({ query: genuine.url, body: genuine.body }, wrong)
    expect([-40007, -40008, -40005]).toContain(err.errCode)
  })

  test('a body that is not the XML: -40002; a parsed body: -501007', async () => {
    expect((await refused({ query: genuine.url, body: 'hello' })).errCode).toBe(-40002)
    const err = await refused({ query: genuine.url, body: { xml: {} } })
    expect(err.errCode).toBe(-501007)
    expect(err.errMsg).toContain('express.raw')
  })
})

// wechatpy's `test_decrypt_message` vector (github.com/wechatpy/wechatpy,
// tests/test_crypto.py at 5b8502e, MIT): an implementation written
// independently of ours. WeChat Work's message has no InfoType: the handler
// returns it and stores nothing.
test("wechatpy's independent vector opens through the handler; altered, it is refused", async () => {
  const body = `<xml><ToUserName><![CDATA[wx49f0ab532d5d035a]]></ToUserName>
<Encrypt><![CDATA[RgqEoJj5A4EMYlLvWO1F86ioRjZfaex/gePD0gOXTxpsq5Yj4GNglrBb8I2BAJVODGajiFnXBu7mCPatfjsu6IHCrsTyeDXzF6Bv283dGymzxh6ydJRvZsryDyZbLTE7rhnus50qGPMfp2wASFlzEgMW9z1ef/RD8XzaFYgm7iTdaXpXaG4+BiYyolBug/gYNx410cvkKR2/nPwBiT+P4hIiOAQqGp/TywZBtDh1yCF2KOd0gpiMZ5jSw3e29mTvmUHzkVQiMS6td7vXUaWOMZnYZlF3So2SjHnwh4jYFxdgpkHHqIrH/54SNdshoQgWYEvccTKe7FS709/5t6NMxuGhcUGAPOQipvWTT4dShyqio7mlsl5noTrb++x6En749zCpQVhDpbV6GDnTbcX2e8K9QaNWHp91eBdCRxthuL0=]]></Encrypt>
<AgentID><![CDATA[1]]></AgentID>
</xml>`
  const query = { timestamp: '1411525903', nonce: '461056294', msg_signature: '74d92dfeb87ba7c714f89d98870ae5eb62dff26d' }
  const writes = store.writes.length
  const h = sdk.createComponentEventHandler(
    handlerOptions({ componentAppid: 'wx49f0ab532d5d035a', token: '123456', encodingAesKey: 'kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR' }),
  )
  const ev = await h({ query, body })
  expect(ev).toMatchObject({ MsgType: 'text', Content: 'test', FromUserName: 'messense', ToUserName: 'wx49f0ab532d5d035a' })
  expect(store.writes.length).toBe(writes)
  const altered = body.replace('RgqEoJj5', 'RgqEoJj6')
  await expect(h({ query, body: altered })).rejects.toMatchObject({ errCode: -40001 })
})

test('the request shapes of Express (parsed query, arrays) and Koa (ctx.query, string body) are read', async () => {
  await emu.pushTicket()
  const genuine = site.requests[site.requests.length - 1]
  const q = Object.fromEntries(new URL(genuine.url, 'http://x').searchParams)
  // Express: req.query (a repeated key becomes an array), req.body from express.raw().
  const express = await handle({ query: { ...q, nonce: [q.nonce, 'x'] }, body: genuine.body })
  expect(express.InfoType).toBe('component_verify_ticket')
  // Koa: ctx.query and the raw body read as text.
  const koa = await handle({ query: q, body: genuine.body.toString('utf8') })
  expect(koa.ComponentVerifyTicket).toBe(express.ComponentVerifyTicket)
  // URLSearchParams, and the bare query string.
  await handle({ query: new URL(genuine.url, 'http://x').searchParams, body: new Uint8Array(genuine.body) })
  await handle({ query: genuine.url.split('?')[1], body: genuine.body })
})

test('bad handler options name the option', () => {
  const make = (extra) => () => sdk.createComponentEventHandler(handlerOptions(extra))
  expect(make({ store: undefined })).toThrow('`store`')
  expect(make({ store: { get() {} } })).toThrow('`store`')
  expect(make({ token: '' })).toThrow('`token`')
  expect(make({ encodingAesKey: 'short' })).toThrow('`encodingAesKey`')
  expect(make({ apiBaseUrl: 'ftp://x' })).toThrow('`apiBaseUrl`')
  expect(make({ timeout: 0 })).toThrow('`timeout`')
  try {
    make({ componentAppsecret: 42 })()
  } catch (e) {
    expect(e.errCode).toBe(-501007)
    expect(e.errMsg).toBe('componentEvent:fail option `componentAppsecret` must be a non-empty string')
  }
  expect.assertions(8)
})

test('a store that fails: the handler rejects naming the step, without the ticket (WeChat pushes again)', async () => {
  const failing = { ...testStore(), set: async (_k, v) => Promise.reject(new Error(`redis down while writing ${v}`)) }
  const h = sdk.createComponentEventHandler(handlerOptions({ store: failing }))
  const ticket = await emu.pushTicket()
  const genuine = site.requests[site.requests.length - 1]
  const err = await h({ query: genuine.url, body: genuine.body }).catch((e) => e)
  expect(err.errCode).toBe(-501001)
  expect(err.errMsg).toBe('componentEvent:fail saving the verify ticket failed: redis down while writing ***')
  expect(err.errMsg).not.toContain(ticket)
})

test('a store that never answers: the handler rejects within its timeout', async () => {
  const stalled = { ...testStore(), set: () => new Promise(() => {}) }
  const h = sdk.createComponentEventHandler(handlerOptions({ store: stalled, timeout: 300 }))
  await emu.pushTicket()
  const genuine = site.requests[site.requests.length - 1]
  const err = await h({ query: genuine.url, body: genuine.body }).catch((e) => e)
  expect(err.errCode).toBe(-501002)
  expect(err.errMsg).toMatch(/saving the verify ticket did not finish within the handler's timeout/)
})

test('on a schedule: tickets are pushed at start and every ticketIntervalMs, and only pushed tickets buy a component token', async () => {
  const s2 = testStore()
  let h = null
  const site2 = await startPlatformSite((req) => h(req))
  const emu2 = await sdk.startEmulator({ componentEventUrl: site2.url, componentToken: TOKEN, componentEncodingAesKey: AES_KEY, ticketIntervalMs: 50 })
  h = sdk.createComponentEventHandler(handlerOptions({ store: s2, apiBaseUrl: emu2.httpsBaseUrl }))
  try {
    // Wait (bounded by the test's timeout) until three distinct tickets arrived.
    const tickets = () => new Set(s2.writes.filter((w) => w[1] === storeKeys.ticket(COMPONENT_APPID)).map((w) => w[2]))
    while (tickets().size < 3) await new Promise((r) => setTimeout(r, 20))
    const bogus = new sdk.Cloud()
    bogus.init({
      componentAppid: COMPONENT_APPID,
      componentAppsecret: COMPONENT_SECRET,
      authorizerAppid: 'wx0emulatorauth001',
      authorizerRefreshToken: 'emulator-refresh-token',
      getComponentVerifyTicket: async () => 'ticket@@@not-pushed',
      onAuthorizerRefreshToken: async () => {},
      apiBaseUrl: emu2.httpsBaseUrl,
      processEnv: {},
    })
    const err = await create(bogus, 'nope').catch((e) => e)
    expect(err.errCode).toBe(61006)
    const good = new sdk.Cloud()
    good.init({
      componentAppid: COMPONENT_APPID,
      componentAppsecret: COMPONENT_SECRET,
      authorizerAppid: 'wx0emulatorauth001',
      authorizerRefreshToken: 'emulator-refresh-token',
      getComponentVerifyTicket: () => s2.get(storeKeys.ticket(COMPONENT_APPID)),
      onAuthorizerRefreshToken: async () => {},
      apiBaseUrl: emu2.httpsBaseUrl,
      processEnv: {},
    })
    await expect(create(good, 'yes')).resolves.toMatchObject({ errCode: 0 })
  } finally {
    await emu2.close()
    await site2.close()
  }
  const pushedAfterClose = emu2.stats().calls['push:component_verify_ticket']
  await new Promise((r) => setTimeout(r, 200))
  expect(emu2.stats().calls['push:component_verify_ticket']).toBe(pushedAfterClose) // the schedule stopped with close()
})

test('a failed push is a line on stderr, unless logPushFailures is false', () => {
  // In a child process: the emulator writes the line on the process's own stderr.
  const run = (quiet) =>
    require('child_process').spawnSync(
      process.execPath,
      [
        '-e',
        `require(${JSON.stringify(require.resolve('../index.js'))}).startEmulator({
          componentEventUrl: 'http://127.0.0.1:1/events', componentToken: 't', componentEncodingAesKey: ${JSON.stringify(AES_KEY)},
          ticketIntervalMs: 0, logPushFailures: ${!quiet} })
        .then(async (emu) => { const e = await emu.pushTicket().catch((e) => e); console.log(e instanceof Error); await emu.close() })`,
      ],
      { encoding: 'utf8', timeout: 30000 },
    )
  const loud = run(false)
  const quiet = run(true)
  for (const r of [loud, quiet]) expect(r.stdout.trim()).toBe('true') // pushTicket rejected in both
  expect(loud.stderr).toContain('wx-cloud-emulator: push of component_verify_ticket failed: cannot reach http://127.0.0.1:1/events')
  expect(quiet.stderr).not.toContain('push of')
})

test('emulator options: the event settings go together; pushTicket without a URL rejects', async () => {
  await expect(sdk.startEmulator({ componentEventUrl: 'http://127.0.0.1:1/' })).rejects.toThrow(
    'componentToken, componentEncodingAesKey must be given with componentEventUrl',
  )
  await expect(sdk.startEmulator({ componentEventUrl: 'http://127.0.0.1:1/', componentToken: 't', componentEncodingAesKey: 'short' })).rejects.toThrow(
    'componentEncodingAesKey',
  )
  // A platform that cannot be reached: pushes fail, are counted, and say so.
  const unreachable = await sdk.startEmulator({
    componentEventUrl: 'http://127.0.0.1:1/events',
    componentToken: TOKEN,
    componentEncodingAesKey: AES_KEY,
    ticketIntervalMs: 0,
    // Every push fails here, on purpose: each failure is checked below.
    logPushFailures: false,
  })
  try {
    await expect(unreachable.pushTicket()).rejects.toThrow('cannot reach http://127.0.0.1:1/events')
    const a = await unreachable.authorize('wxlost000000001')
    expect(a.pushed).toBe(false)
    expect(a.pushError).toContain('cannot reach')
    await expect(unreachable.revoke('wxlost000000001')).rejects.toThrow('wxlost000000001 is revoked, but the unauthorized event did not reach the platform')
    expect(unreachable.authorizers()).not.toContain('wxlost000000001')
    const calls = unreachable.stats().calls
    expect(calls['push_failed:component_verify_ticket']).toBe(1)
    expect(calls['push_failed:authorized']).toBe(1)
    expect(calls['push_failed:unauthorized']).toBe(1)
  } finally {
    await unreachable.close()
  }
  const plain = await sdk.startEmulator()
  try {
    await expect(plain.pushTicket()).rejects.toThrow('no componentEventUrl')
    const a = await plain.authorize('wxplain00000001')
    expect(a).toMatchObject({ infoType: 'authorized', pushed: false })
    expect(a.authorizationCode).toMatch(/^queryauthcode@@@/)
  } finally {
    await plain.close()
  }
})
