'use strict'

// Hostile input at the JavaScript boundary: params and init options a
// program (or an attacker who controls a request body) could hand over.
// Each case gets a clear error naming the problem, or the reference's
// documented behaviour (README, "Deliberate differences"); never a crash, a
// hang, an unhandled rejection or a raw TypeError without an errCode.

const sdk = require('../index.js')
const { MODES, modeClient } = require('./helpers/emu-modes')
const leaks = require('./helpers/leak-collector')

jest.setTimeout(60000)

const API = 'openapi.tcb.createenvandresource'

const unhandled = []
const onUnhandled = (e) => unhandled.push(e)
let emu
const clients = {}
beforeAll(async () => {
  leaks.captureConsole()
  hostProcess.on('unhandledRejection', onUnhandled)
  hostProcess.on('uncaughtException', onUnhandled)
  emu = await sdk.startEmulator()
  for (const mode of MODES) {
    clients[mode] = modeClient(
      mode,
      emu,
      { debug: true, timeout: 10000 },
      {
        ticket: 'ticket@@@reliability-ticket',
        onRotated: async (t) => leaks.secret(t),
      },
    )
  }
})
afterAll(async () => {
  hostProcess.off('unhandledRejection', onUnhandled)
  hostProcess.off('uncaughtException', onUnhandled)
  leaks.releaseConsole()
  // Close first: a listening emulator keeps the process alive.
  await emu.close()
  leaks.flush('hostile-input')
})

/** Call with `params` (a thunk, so that odd values are made fresh per mode); settle to {value} or {err}. */
async function attempt(mode, make) {
  const cloud = clients[mode]
  let promise
  try {
    promise = cloud.openapi.tcb.createenvandresource(make())
  } catch (err) {
    leaks.error(err)
    return { thrown: err }
  }
  expect(typeof promise?.then).toBe('function') // a promise (maybe of the main realm)
  let timer
  const limit = new Promise((resolve) => {
    timer = setTimeout(() => resolve({ hung: true }), 20000)
  })
  const r = await Promise.race([
    promise.then(
      (value) => ({ value }),
      (err) => {
        leaks.error(err)
        return { err }
      },
    ),
    limit,
  ])
  clearTimeout(timer)
  return r
}

function expectError(r, errCode, msg) {
  expect(r.hung).toBeUndefined()
  expect(r.thrown).toBeUndefined()
  if (!r.err) throw new Error(`expected a rejection, resolved ${JSON.stringify(r.value)}`)
  expect(r.err).toBeInstanceOf(Error)
  expect({ errCode: r.err.errCode, message: r.err.message }).toEqual({ errCode, message: expect.stringMatching(msg) })
  expect(r.err.errMsg.startsWith(`${API}:fail `)).toBe(true)
}

function expectCreated(r, alias) {
  expect(r.hung).toBeUndefined()
  if (r.err) throw new Error(`expected success, got ${r.err.message}`)
  expect(r.value.errCode).toBe(0)
  expect(r.value.envid).toMatch(new RegExp(`^${alias}-[a-z0-9]{6}$`))
}

const NOT_OBJECT = (what) => new RegExp(`errCode: -501007 invalid parameters \\| errMsg: ${API}:fail params must be an object, got ${what}$`)
const valid = (alias) => ({ type: 'CreatePostpayPackage', alias })
class Params {
  constructor() {
    this.type = 'CreatePostpayPackage'
    this.alias = 'klass'
  }
  get computed() {
    return 1
  }
}

// [name, params thunk, check(result)]
const PARAMS = [
  ['null: an empty request, as the reference (WeChat says 40101)', () => null, (r) => expectError(r, 40101, /missing parameter/)],
  ['undefined: an empty request (40101)', () => undefined, (r) => expectError(r, 40101, /missing parameter/)],
  ['a string', () => 'type=CreatePostpayPackage', (r) => expectError(r, -501007, NOT_OBJECT('a string'))],
  ['an empty string', () => '', (r) => expectError(r, -501007, NOT_OBJECT('a string'))],
  ['a number', () => 42, (r) => expectError(r, -501007, NOT_OBJECT('a number'))],
  ['NaN', () => NaN, (r) => expectError(r, -501007, NOT_OBJECT('a number'))],
  ['a boolean', () => true, (r) => expectError(r, -501007, NOT_OBJECT('a boolean'))],
  ['a BigInt', () => 10n, (r) => expectError(r, -501007, NOT_OBJECT('a bigint'))],
  ['an array', () => [valid('arr')], (r) => expectError(r, -501007, NOT_OBJECT('an array'))],
  ['a function', () => () => valid('fn'), (r) => expectError(r, -501007, NOT_OBJECT('a function'))],
  ['a Symbol', () => Symbol('params'), (r) => expectError(r, -501007, NOT_OBJECT('a symbol'))],
  ['a Promise (forgotten await)', () => Promise.resolve(valid('p')), (r) => expectError(r, -501007, NOT_OBJECT('a Promise \\(did you forget `await`\\?\\)'))],
  ['a Date', () => new Date(0), (r) => expectError(r, -501007, NOT_OBJECT('Date'))],
  ['a Map', () => new Map([['type', 'CreatePostpayPackage']]), (r) => expectError(r, -501007, NOT_OBJECT('Map'))],
  ['a Set', () => new Set([1]), (r) => expectError(r, -501007, NOT_OBJECT('Set'))],
  ['a RegExp', () => /x/, (r) => expectError(r, -501007, NOT_OBJECT('RegExp'))],
  ['an Error', () => new Error('x'), (r) => expectError(r, -501007, NOT_OBJECT('Error'))],
  ['a Buffer', () => Buffer.from('{"type":"CreatePostpayPackage"}'), (r) => expectError(r, -501007, NOT_OBJECT('Uint8Array'))],
  ['a Uint8Array', () => new Uint8Array(4), (r) => expectError(r, -501007, NOT_OBJECT('Uint8Array'))],
  ['a Float64Array', () => new Float64Array(2), (r) => expectError(r, -501007, NOT_OBJECT('Float64Array'))],
  ['an ArrayBuffer', () => new ArrayBuffer(8), (r) => expectError(r, -501007, NOT_OBJECT('ArrayBuffer'))],
  ['a boxed String', () => new String('x'), (r) => expectError(r, -501007, NOT_OBJECT('String'))],
  ['a class instance: its own fields are the params (the reference iterates its keys)', () => new Params(), (r) => expectCreated(r, 'klass')],
  ['an object without a prototype', () => Object.assign(Object.create(null), valid('noproto')), (r) => expectCreated(r, 'noproto')],
  ['missing fields: WeChat says 40101', () => ({}), (r) => expectError(r, 40101, /missing parameter/)],
  ['type is a number: 40097', () => ({ type: 5, alias: 'x' }), (r) => expectError(r, 40097, /invalid args/)],
  ['alias is an object: 40097', () => ({ type: 'CreatePostpayPackage', alias: { a: 1 } }), (r) => expectError(r, 40097, /invalid args/)],
  ['alias is null: 40097', () => ({ type: 'CreatePostpayPackage', alias: null }), (r) => expectError(r, 40097, /invalid args/)],
  ['alias is undefined: dropped, 40101', () => ({ type: 'CreatePostpayPackage', alias: undefined }), (r) => expectError(r, 40101, /missing parameter/)],
  [
    'a circular object',
    () => {
      const o = valid('circ')
      o.self = o
      return o
    },
    (r) => expectError(r, -501007, /params could not be serialised: Converting circular structure to JSON/),
  ],
  ['a BigInt field is sent as an exact integer', () => ({ ...valid('big'), n: 123456789012345678901234567890n }), (r) => expectCreated(r, 'big')],
  ['a BigInt alias: 40097 (a number, not a string)', () => ({ type: 'CreatePostpayPackage', alias: 12n }), (r) => expectError(r, 40097, /invalid args/)],
  [
    'a getter that throws',
    () =>
      Object.defineProperty(valid('g'), 'boom', {
        enumerable: true,
        get() {
          throw new Error('getter exploded')
        },
      }),
    (r) => expectError(r, -501007, /params could not be (read|serialised): getter exploded/),
  ],
  [
    'a toJSON that throws',
    () => ({
      ...valid('tj'),
      toJSON() {
        throw new Error('toJSON exploded')
      },
    }),
    (r) => expectError(r, -501007, /params could not be serialised: toJSON exploded/),
  ],
  ['a toJSON that returns a string', () => ({ toJSON: () => 'surprise' }), (r) => expectError(r, -501007, /params must (be|serialise to) (an )?object/)],
  ['a Proxy of a plain object', () => new Proxy(valid('proxied'), {}), (r) => expectCreated(r, 'proxied')],
  [
    'a Proxy whose ownKeys trap throws',
    () =>
      new Proxy(valid('pk'), {
        ownKeys() {
          throw new Error('ownKeys trap exploded')
        },
      }),
    (r) => expectError(r, -501007, /params could not be (read|serialised): ownKeys trap exploded/),
  ],
  [
    'a Proxy whose get trap throws',
    () =>
      new Proxy(valid('pg'), {
        get() {
          throw new Error('get trap exploded')
        },
      }),
    (r) => expectError(r, -501007, /params could not be (read|serialised): get trap exploded/),
  ],
  [
    'a revoked Proxy',
    () => {
      const { proxy, revoke } = Proxy.revocable(valid('rv'), {})
      revoke()
      return proxy
    },
    (r) => expectError(r, -501007, /params could not be (read|serialised): .*revoked/),
  ],
  [
    'a `__proto__` own key is sent as data; nothing is polluted',
    () => JSON.parse('{"type":"CreatePostpayPackage","alias":"protokey","__proto__":{"polluted":true}}'),
    (r) => expectCreated(r, 'protokey'),
  ],
  ['a `constructor` key is sent as data', () => ({ ...valid('ctorkey'), constructor: { prototype: { polluted: true } } }), (r) => expectCreated(r, 'ctorkey')],
  ['a 1 MB string in an extra field', () => ({ ...valid('mega'), note: 'x'.repeat(1 << 20) }), (r) => expectCreated(r, 'mega')],
  ['a 1 MB alias: 40097', () => ({ type: 'CreatePostpayPackage', alias: 'y'.repeat(1 << 20) }), (r) => expectError(r, 40097, /invalid args/)],
  [
    'a lone surrogate becomes U+FFFD (as Buffer.from does in the reference): 40097',
    () => ({ type: 'CreatePostpayPackage', alias: 'a\ud800b' }),
    (r) => expectError(r, 40097, /invalid args/),
  ],
  ['a lone surrogate in an extra field', () => ({ ...valid('surr'), note: '\udfff\ud800' }), (r) => expectCreated(r, 'surr')],
  [
    '10,000 levels of nesting: rejected (deeper than 128)',
    () => {
      let o = {}
      for (let i = 0; i < 10000; i++) o = { o }
      return { ...valid('deep'), o }
    },
    (r) => expectError(r, -501007, /nested deeper than 128 levels/),
  ],
  [
    'nesting at the limit is sent',
    () => {
      let o = 1
      for (let i = 0; i < 120; i++) o = { o }
      return { ...valid('limit'), o }
    },
    (r) => expectCreated(r, 'limit'),
  ],
  ['a Date field is sent as its ISO text', () => ({ ...valid('datefield'), at: new Date(0) }), (r) => expectCreated(r, 'datefield')],
  ['a Map field is sent as {}', () => ({ ...valid('mapfield'), m: new Map([[1, 2]]) }), (r) => expectCreated(r, 'mapfield')],
  ['NaN and Infinity fields are sent as null', () => ({ ...valid('nan'), a: NaN, b: -Infinity }), (r) => expectCreated(r, 'nan')],
  ['function and Symbol fields are dropped', () => ({ ...valid('dropped'), f() {}, s: Symbol('s'), [Symbol('k')]: 1 }), (r) => expectCreated(r, 'dropped')],
  ['a Buffer field that is not media is sent as JSON', () => ({ ...valid('buf'), b: Buffer.from('hi') }), (r) => expectCreated(r, 'buf')],
  ['a key with a NUL character', () => ({ ...valid('nul'), 'a\u0000b': 1 }), (r) => expectCreated(r, 'nul')],
  [
    '100,000 keys',
    () => {
      const o = valid('manykeys')
      for (let i = 0; i < 100000; i++) o[`k${i}`] = i
      return o
    },
    (r) => expectCreated(r, 'manykeys'),
  ],
]

describe.each(MODES)('params (%s)', (mode) => {
  test.each(PARAMS)('%s', async (_name, make, check) => {
    const r = await attempt(mode, make)
    check(r)
  })
})

test('no prototype was polluted by `__proto__` / `constructor` keys in params or answers', () => {
  expect({}.polluted).toBeUndefined()
  expect(Object.prototype.polluted).toBeUndefined()
})

test.each(['cloud', 'https'])('a 50 MB string (%s): refused by the server (12 MB limit), a clear error, no crash', async (mode) => {
  const before = emu.environments().length
  const r = await attempt(mode, () => ({ ...valid('huge'), note: 'z'.repeat(50 * 1024 * 1024) }))
  // The emulator answers 413 as soon as it sees Content-Length and closes;
  // the client, still writing, sees the connection go (or reads the 413).
  expectError(r, -501001, /-501001 resource system error\. (413 Payload Too Large|connection failed: .*(Broken pipe|reset|closed))/)
  expect(emu.environments().length).toBe(before)
})

test('openapi called before init throws synchronously, as the reference does', () => {
  const cloud = new sdk.Cloud()
  expect(() => cloud.openapi.tcb.createenvandresource(valid('x'))).toThrow(/please call init first/)
})

test('openapi proxies are not thenables: returning or awaiting them neither calls an API `then` nor kills the process', () => {
  // In a child with no handlers: an unhandled rejection would end it with status 1.
  const { spawnSync } = require('child_process')
  const script = `
    const c = require(${JSON.stringify(require.resolve('../index.js'))})
    c.init({ processEnv: {} })
    ;(async () => {
      const a = await (async () => c.openapi)()
      const b = await (async () => c.openapi.tcb)()
      const f = await c.openapi.tcb.createenvandresource
      console.log(typeof a, typeof b, typeof f, typeof c.openapi.then, typeof c.openapi.tcb.then)
    })()
  `
  const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 20000 })
  expect(r.stderr).toBe('')
  expect(r.status).toBe(0)
  expect(r.stdout.trim()).toBe('function function function undefined undefined')
})

test.each([
  ['an object', { id: 'wxA' }],
  ['an array', ['wxA', 'wxB']],
  ['a number', 5],
  ['a string with a lone surrogate', 'wx\uD800'],
])('openapi({ appid }) with %s rejects -501007 naming `appid`, nothing sent (issue 12 item 13)', async (_name, appid) => {
  for (const mode of MODES) {
    const before = emu.stats().calls
    let err
    try {
      await clients[mode].openapi({ appid }).tcb.createenvandresource(valid('appid'))
    } catch (e) {
      err = e
      leaks.error(e)
    }
    expect(err?.errCode).toBe(-501007)
    expect(err.message).toMatch(/`appid`/)
    expect(err.message).not.toMatch(/object Object|wxA,wxB/)
    expect(emu.stats().calls).toEqual(before)
  }
})

test.each([
  [
    'a trailing newline in TENCENTCLOUD_SECRETID',
    (env) => ({ processEnv: { ...env, TENCENTCLOUD_SECRETID: `${env.TENCENTCLOUD_SECRETID}\n` } }),
    'TENCENTCLOUD_SECRETID',
  ],
  [
    'a trailing CRLF in TENCENTCLOUD_SECRETKEY',
    (env) => ({ processEnv: { ...env, TENCENTCLOUD_SECRETKEY: `${env.TENCENTCLOUD_SECRETKEY}\r\n` } }),
    'TENCENTCLOUD_SECRETKEY',
  ],
  ['a trailing newline in TENCENTCLOUD_REGION', (env) => ({ processEnv: { ...env, TENCENTCLOUD_REGION: 'ap-shanghai\n' } }), 'TENCENTCLOUD_REGION'],
  ['a 70 KB accessToken', () => ({ processEnv: {}, apiBaseUrl: emu.httpsBaseUrl, accessToken: 'T'.repeat(70 * 1024) }), 'accessToken'],
  [
    'a 70 KB token from the accessToken function',
    () => ({ processEnv: {}, apiBaseUrl: emu.httpsBaseUrl, accessToken: async () => 'T'.repeat(70 * 1024) }),
    'accessToken',
  ],
])('%s: never sent, so -501007 naming it, not "connection failed" (issue 12 item 7)', async (_name, options, named) => {
  const cloud = new sdk.Cloud()
  cloud.init({ timeout: 5000, ...options(emu.cloudEnv()) })
  const before = emu.stats().calls
  let err
  try {
    await cloud.openapi.tcb.createenvandresource(valid('unsent'))
  } catch (e) {
    err = e
    leaks.error(e)
  }
  expect(err?.errCode).toBe(-501007)
  expect(err.errMsg).toContain(named)
  expect(err.errMsg).not.toMatch(/connection failed|TTTTTTTT/)
  expect(emu.stats().calls).toEqual(before)
})

test('openapi({ … }) with a non-object throws a clear error', () => {
  expect(() => clients.cloud.openapi(null)).toThrow('an options object is expected')
  expect(() => clients.cloud.openapi('x')).toThrow('an options object is expected')
})

test.each([
  ['a name with a slash', 'tcb/x'],
  ['a name with dots only', '..'],
  ['a name that climbs up', '..%2f..%2fcgi-bin'],
])('an API name that is not a path (%s) is refused in the HTTPS modes, never sent', async (_name, api) => {
  for (const mode of ['https', 'thirdparty']) {
    const before = emu.stats().calls
    let err
    try {
      await clients[mode].openapi[api](valid('path'))
    } catch (e) {
      err = e
      leaks.error(e)
    }
    expect(err?.errCode).toBe(-501007)
    expect(err.message).toMatch(/the API name must be dot-separated letters, digits/)
    expect(emu.stats().calls).toEqual(before)
  }
})

// ---------------------------------------------------------------------------
// init options
// ---------------------------------------------------------------------------

const circular = () => {
  const o = { timeout: 1000 }
  o.self = o
  return o
}

// [name, options thunk, expected message]
const INIT = [
  ['a string', () => 'env-id', /init:fail options must be an object, got a string/],
  ['a number', () => 5, /init:fail options must be an object, got a number/],
  ['an array', () => [{ env: 'x' }], /init:fail options must be an object, got an array/],
  ['a function', () => () => ({}), /init:fail options must be an object, got a function/],
  ['a negative timeout', () => ({ timeout: -1 }), /`timeout`/],
  ['a zero timeout', () => ({ timeout: 0 }), /`timeout`/],
  ['an enormous timeout', () => ({ timeout: 1e12 }), /`timeout`/],
  ['a timeout as a string', () => ({ timeout: '500' }), /`timeout`/],
  ['a NaN timeout', () => ({ timeout: NaN }), /`timeout`/],
  ['an Infinity timeout', () => ({ timeout: Infinity }), /`timeout`/],
  ['a fractional timeout', () => ({ timeout: 0.5 }), /`timeout`/],
  ['an unknown option', () => ({ timeuot: 500 }), /unknown option `timeuot`/],
  ['a malformed serviceUrl', () => ({ serviceUrl: 'not a url' }), /`serviceUrl`/],
  ['a serviceUrl with another scheme', () => ({ serviceUrl: 'ftp://127.0.0.1/admin' }), /`serviceUrl`/],
  ['a javascript: apiBaseUrl', () => ({ apiBaseUrl: 'javascript:alert(1)' }), /`apiBaseUrl`/],
  ['an apiBaseUrl with a query', () => ({ apiBaseUrl: 'http://127.0.0.1:1/?access_token=x' }), /`apiBaseUrl`/],
  ['a proxy of an unsupported scheme', () => ({ proxy: 'socks5://127.0.0.1:1' }), /`proxy`/],
  ['processEnv as a string', () => ({ processEnv: 'A=1' }), /`processEnv`/],
  ['processEnv with a number value', () => ({ processEnv: { A: 1 } }), /`processEnv.A`/],
  ['processEnv as an array', () => ({ processEnv: ['A=1'] }), /`processEnv`/],
  ['env as a number', () => ({ env: 5 }), /`env`/],
  ['env as a foreign Symbol', () => ({ env: Symbol('x') }), /`env`/],
  ['debug as a string', () => ({ debug: 'yes' }), /`debug`/],
  ['retry as a string', () => ({ retry: 'always' }), /`retry`/],
  ['retry.onBusy negative', () => ({ retry: { onBusy: -1 } }), /`retry.onBusy`/],
  ['mode misspelt', () => ({ mode: 'HTTPS' }), /`mode`/],
  ['tokenKind unknown', () => ({ tokenKind: 'eternal' }), /`tokenKind`/],
  ['circular options', circular, /init:fail options could not be (read|serialised)/],
  ['a BigInt timeout', () => ({ timeout: 500n }), /`timeout`|options could not be (read|serialised)/],
  [
    'an option getter that throws',
    () =>
      Object.defineProperty({}, 'timeout', {
        enumerable: true,
        get() {
          throw new Error('option getter exploded')
        },
      }),
    /init:fail options could not be read: option getter exploded/,
  ],
  [
    'a revoked Proxy as options',
    () => {
      const { proxy, revoke } = Proxy.revocable({}, {})
      revoke()
      return proxy
    },
    /init:fail options could not be read: .*revoked/,
  ],
  // issue 12 item 13: options from JSON.parse with a `__proto__` key, and lone surrogates
  ['a `__proto__` key (from JSON.parse)', () => JSON.parse('{"__proto__":{"timeout":1},"processEnv":{}}'), /unknown option `__proto__`/],
  ['a lone surrogate in region', () => ({ region: 'ap-\uD800' }), /option `region` contains a lone surrogate/],
  ['a lone surrogate in env', () => ({ env: 'e\uDC00' }), /option `env` contains a lone surrogate/],
  ['a lone surrogate in env.default', () => ({ env: { default: '\uD800e' } }), /option `env.default` contains a lone surrogate/],
  ['a lone surrogate in secret', () => ({ appid: 'wx1', secret: 's\uD800' }), /option `secret` contains a lone surrogate/],
  ['a lone surrogate in processEnv', () => ({ processEnv: { TCB_ENV: 'e\uD800' } }), /option `processEnv.TCB_ENV` contains a lone surrogate/],
  // issue 12 item 7: what cannot be sent as it is is named at init
  ['a region ending in CRLF', () => ({ region: 'ap-shanghai\r\n' }), /option `region` contains a line break/],
  ['a secretId ending in a newline', () => ({ secretId: 'AKIDx\n', secretKey: 'k' }), /option `secretId` contains a line break/],
]

describe('init options', () => {
  test.each(INIT)('%s: a CloudSDKError -501007 naming the problem', (_name, make, msg) => {
    let err
    try {
      new sdk.Cloud().init(make())
    } catch (e) {
      err = e
      leaks.error(e)
    }
    expect(err).toBeInstanceOf(sdk.CloudSDKError)
    expect(err.errCode).toBe(-501007)
    expect(err.message).toMatch(msg)
  })

  test('a failed init leaves the instance usable for a correct init', async () => {
    const cloud = new sdk.Cloud()
    expect(() => cloud.init({ timeout: -5 })).toThrow(/`timeout`/)
    cloud.init({ processEnv: emu.cloudEnv(), timeout: 5000 })
    const v = await cloud.openapi.tcb.createenvandresource(valid('reinit'))
    expect(v.errCode).toBe(0)
  })

  test('a `__proto__` key from JSON.parse changes no prototype, and the JS layer and the core agree on the timeout', () => {
    const options = JSON.parse('{"__proto__":{"timeout":1},"processEnv":{}}')
    const cloud = new sdk.Cloud()
    expect(() => cloud.init(options)).toThrow(/unknown option `__proto__`/)
    expect(Object.getPrototypeOf(options)).toBe(Object.prototype)
    expect({}.timeout).toBeUndefined()
    // Neither half of the SDK took the inherited timeout of 1 ms.
    expect(cloud._timeout).toBeUndefined()
    const x = sdk.explainConfig(options)
    expect(x.ok).toBe(false)
    expect(x.errMsg).toMatch(/unknown option `__proto__`/)
  })

  test('wx-server-sdk options that do not concern openapi are accepted and ignored', () => {
    expect(() => new sdk.Cloud().init({ traceUser: true, throwOnNotFound: false })).not.toThrow()
  })
})

test('nothing unhandled, the process serves a normal call, and no secret in anything this suite produced', async () => {
  await new Promise((r) => setTimeout(r, 50))
  expect(unhandled).toEqual([])
  for (const mode of MODES) expectCreated(await attempt(mode, () => valid('final')), 'final')
  expect(leaks.find()).toEqual([])
})

// What reaches the wire, read back by a scripted gateway (cloud call): user
// data is never reinterpreted, each value is read once, and every failure
// is a rejected promise with an errCode.
describe('params on the wire (scripted gateway)', () => {
  const { startGateway } = require('./helpers/gateway')
  const { cloudEnv, GATEWAY_KEYS } = require('./helpers/reference')
  const { initOurs } = require('./helpers/ours')
  let gw
  let cloud
  beforeAll(async () => {
    gw = await startGateway({ keys: GATEWAY_KEYS })
    cloud = initOurs(cloudEnv(gw.url))
  })
  afterAll(() => gw.close())
  beforeEach(() => gw.reset())

  /** The (key, value text, filename) of each pair the last request carried. */
  const sentPairs = () =>
    gw.last().requestData.openapiData.pairs.map((p) => [p.key, p.filename ? p.value.toString('hex') : p.value.toString('utf8'), p.filename || null])

  test('strings and keys that look like the old in-band markers stay user data; undefined, BigInt and media still work', async () => {
    const png = Buffer.from([0x89, 0x50])
    const r = await cloud.openapi.tcb.createenvandresource({
      a: '\u0000undefined',
      b: '\u0000bigint:12345',
      '\u0000wxmedia': 0,
      list: ['\u0000undefined', undefined, 12345678901234567890n],
      gone: undefined,
      big: -98765432109876543210n,
      img: { contentType: 'image/png', value: png },
    })
    expect(r.errCode).toBe(0)
    expect(sentPairs()).toEqual([
      ['a', '"\\u0000undefined"', null],
      ['b', '"\\u0000bigint:12345"', null],
      ['\u0000wxmedia', '0', null],
      ['list', '["\\u0000undefined",null,12345678901234567890]', null],
      ['big', '-98765432109876543210', null],
      ['img', png.toString('hex'), 'img.png'],
    ])
  })

  test('a user string holding the marker drawn for the call makes the SDK draw another one', async () => {
    // Load a fresh instance whose first marker is known (Math.random pinned
    // for its first two draws), then send that very marker as user data.
    const random = Math.random
    let draws = 0
    Math.random = () => (draws++ < 2 ? 0.5 : random())
    let fresh
    try {
      fresh = initOurs(cloudEnv(gw.url))
    } finally {
      Math.random = random
    }
    expect(draws).toBe(2)
    const known = '\u0000' + '80000000' + '80000000' // (0.5).toString(16) is '0.8', padded to 8 digits
    const r = await fresh.openapi.tcb.createenvandresource({ s: `${known}u`, t: `${known}n1`, u: undefined, v: 1n })
    expect(r.errCode).toBe(0)
    expect(sentPairs()).toEqual([
      ['s', '"\\u00008000000080000000u"', null],
      ['t', '"\\u00008000000080000000n1"', null],
      ['v', '1', null],
    ])
  })

  test('a media value that is a Proxy around a Buffer: a rejected promise with errCode, not a synchronous throw', async () => {
    const proxied = new Proxy(Buffer.from([1, 2, 3]), {})
    let promise
    expect(() => {
      promise = cloud.openapi.tcb.createenvandresource({ img: { contentType: 'image/png', value: proxied } })
    }).not.toThrow()
    const err = await promise.then(
      () => null,
      (e) => e,
    )
    expect(err).toBeInstanceOf(Error)
    expect(err.errCode).toBe(-501007)
    expect(err.errMsg).toMatch(/media parameter `img`: value must be a Buffer/)
    expect(gw.requests).toHaveLength(0)
  })

  test('getters that change between reads are read once: what was read is what is sent', async () => {
    const png = Buffer.from([0x89, 0x50, 0x4e])
    const reads = { param: 0, value: 0, type: 0 }
    const media = {
      get contentType() {
        reads.type++
        return reads.type === 1 ? 'image/png' : undefined
      },
      get value() {
        reads.value++
        return reads.value === 1 ? png : 'not a buffer any more'
      },
    }
    const params = {
      get img() {
        reads.param++
        return reads.param === 1 ? media : 'changed'
      },
    }
    const r = await cloud.openapi.tcb.createenvandresource(params)
    expect(r.errCode).toBe(0)
    expect(reads).toEqual({ param: 1, value: 1, type: 1 })
    expect(sentPairs()).toEqual([['img', png.toString('hex'), 'img.png']])
  })

  test('getters of plain params (strings, numbers) are read once too, whether or not another value needs marking', async () => {
    for (const extra of [{}, { gone: undefined }]) {
      let reads = 0
      const params = {
        get type() {
          reads++
          return reads === 1 ? 'CreatePostpayPackage' : { changed: true }
        },
        alias: 'once',
      }
      Object.assign(params, extra)
      const r = await cloud.openapi.tcb.createenvandresource(params)
      expect(r.errCode).toBe(0)
      expect(reads).toBe(1)
      expect(sentPairs().slice(0, 2)).toEqual([
        ['type', '"CreatePostpayPackage"', null],
        ['alias', '"once"', null],
      ])
    }
  })
})

test('an answer nested deeper than 128 levels (JSON.parse reads any depth): the created environment resolves, not -601001', async () => {
  const { startGateway } = require('./helpers/gateway')
  const { cloudEnv, GATEWAY_KEYS } = require('./helpers/reference')
  const { initOurs } = require('./helpers/ours')
  const gw = await startGateway({ keys: GATEWAY_KEYS })
  try {
    const cloud = initOurs(cloudEnv(gw.url))
    for (const depth of [127, 128, 129, 5000, 100000]) {
      const nested = `${'[{"in_key":'.repeat(depth)}1${'}]'.repeat(depth)}`
      const respData = `{"errcode":0,"errmsg":"ok","envid":"deep-abc123","extra_info":${nested}}`
      gw.queue({ pb: { respData, contentType: 'application/json' } })
      const r = await cloud.openapi.tcb.createenvandresource({ type: 'CreatePostpayPackage', alias: 'deep' })
      expect({ depth, envid: r.envid, errCode: r.errCode }).toEqual({ depth, envid: 'deep-abc123', errCode: 0 })
      // The value JSON.parse gives, keys in camelCase (walked in a loop:
      // JSON.stringify itself recurses and would overflow at this depth).
      let v = r.extraInfo
      let levels = 0
      while (Array.isArray(v) && v.length === 1 && Object.keys(v[0]).join() === 'inKey') {
        v = v[0].inKey
        levels++
      }
      expect({ levels, innermost: v }).toEqual({ levels: depth, innermost: 1 })
    }
  } finally {
    await gw.close()
  }
})
