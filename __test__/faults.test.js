'use strict'

// The fault matrix. Every fault — from the emulator's `injectFault` and from
// a hostile raw TCP server — is met by at least 100 calls in every calling
// mode where it applies (cloud call, HTTPS, third-party). For each batch:
// every call settles, once, within timeout + 1 s, with a documented errCode
// and a message that says what happened; nothing that may have reached the
// server is sent twice (the server counts); the next normal call succeeds;
// no unhandled rejection or uncaught exception reaches the process.

const { monitorEventLoopDelay } = require('perf_hooks')
const sdk = require('../index.js')
const { COMPONENT, MODES, modeClient } = require('./helpers/emu-modes')
const leaks = require('./helpers/leak-collector')
const { startHostile, startFullBacklog } = require('./helpers/hostile-server')
const { encodeCommOpenApiResp } = require('./helpers/protobuf')

jest.setTimeout(120000)

const N = 100
const TIMEOUT = 500
const API = 'openapi.tcb.createenvandresource'
const TICKET = 'ticket@@@reliability-ticket'
const HOSTILE_CREDS = {
  secretId: 'AKIDhostile0000000000000000000000',
  secretKey: 'hostile-secret-key-9f3b2c',
  sessionToken: 'hostile-session-token-77ad',
}
const ACCESS_TOKEN = 'hostile-access-token-5c1e'
const AUTHORIZER_TOKEN = 'hostile-authorizer-token-0b42'

// Figures for docs/reliability.md, printed at the end.
const figures = { faults: new Set(), calls: 0, failedAsExpected: 0, unhandled: 0 }

const unhandled = []
const onUnhandled = (e) => unhandled.push(e)
beforeAll(() => {
  leaks.captureConsole()
  hostProcess.on('unhandledRejection', onUnhandled)
  hostProcess.on('uncaughtException', onUnhandled)
})
afterAll(() => {
  hostProcess.off('unhandledRejection', onUnhandled)
  hostProcess.off('uncaughtException', onUnhandled)
  leaks.releaseConsole()
  leaks.flush('faults')
  // eslint-disable-next-line no-console
  console.log(
    `fault matrix: ${figures.faults.size} faults, ${figures.calls} calls, ${figures.failedAsExpected} failed as documented, ` + `${unhandled.length} unhandled`,
  )
})

const ok = (alias) => ({ type: 'CreatePostpayPackage', alias })

/** An SDK instance against the emulator, with managed tokens where the mode has them. */
function emuClient(mode, emu, extra = {}) {
  return modeClient(
    mode,
    emu,
    { debug: true, timeout: TIMEOUT, ...extra },
    {
      ticket: TICKET,
      onRotated: async (token) => leaks.secret(token),
    },
  )
}

/** An SDK instance against `base` (the hostile server) with supplied credentials. */
function hostileClient(mode, base, extra = {}) {
  const cloud = new sdk.Cloud()
  const common = { debug: true, timeout: TIMEOUT, processEnv: {}, ...extra }
  if (mode === 'cloud') cloud.init({ ...common, ...HOSTILE_CREDS, env: 'hostile-env', serviceUrl: `${base}/admin` })
  else if (mode === 'https') cloud.init({ ...common, accessToken: ACCESS_TOKEN, apiBaseUrl: base })
  else cloud.init({ ...common, authorizerAccessToken: AUTHORIZER_TOKEN, apiBaseUrl: base })
  return cloud
}

/**
 * `n` calls, `concurrency` at a time. Each result: { err, value, ms, settles }.
 * `settles` counts how often the promise's handlers ran (must be 1).
 */
async function calls(cloud, n, concurrency = n, params = (i) => ok(`f${i % 1000}`)) {
  const results = new Array(n)
  // How long this process was held up (the event loop's worst delay while
  // the calls ran): time bounds add it, since a machine that does not run
  // us for a while cannot settle anything meanwhile (see settleBound).
  const lag = monitorEventLoopDelay({ resolution: 10 })
  lag.enable()
  let next = 0
  async function worker() {
    while (next < n) {
      const i = next++
      const r = { settles: 0 }
      const t0 = Date.now()
      await cloud.openapi.tcb.createenvandresource(params(i)).then(
        (value) => {
          r.settles++
          r.value = value
        },
        (err) => {
          r.settles++
          r.err = err
          leaks.error(err)
        },
      )
      r.ms = Date.now() - t0
      results[i] = r
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, n) }, worker))
  lag.disable()
  results.lagMs = lag.max / 1e6
  figures.calls += n
  return results
}

/**
 * The most a call may take: its timeout (`ms`), 1 s for the work around
 * it, and however long the process was held up while the calls ran (load
 * from other jobs, a GC pause), measured rather than guessed.
 */
const settleBound = (results, ms = TIMEOUT) => ms + 1000 + (results.lagMs || 0)

/**
 * Every call failed with `errCode` (a number or a list), a message matching
 * `msg`, and settled once within `bound` ms.
 */
function expectAllFailed(results, { errCode, msg, bound = settleBound(results), ctor, prefix }) {
  const codes = Array.isArray(errCode) ? errCode : [errCode]
  const wrong = []
  for (const r of results) {
    const bad =
      r.settles !== 1 ||
      !r.err ||
      !codes.includes(r.err.errCode) ||
      typeof r.err.errMsg !== 'string' ||
      !msg.test(r.err.message) ||
      (prefix !== false && !r.err.errMsg.startsWith(`${API}:fail `)) ||
      r.ms > bound ||
      (ctor && r.err.constructor.name !== ctor)
    if (bad) {
      wrong.push({ settles: r.settles, ms: r.ms, errCode: r.err?.errCode, message: r.err ? r.err.message : `resolved ${JSON.stringify(r.value)}` })
    }
  }
  expect(wrong.slice(0, 3)).toEqual([])
  figures.failedAsExpected += results.length
}

async function expectNormalCall(cloud, alias = 'after') {
  const [r] = await calls(cloud, 1, 1, () => ok(alias))
  if (r.err) throw new Error(`the next normal call failed: ${r.err.message}`)
  expect(r.value.errCode).toBe(0)
  expect(r.settles).toBe(1)
  return r.value
}

// ---------------------------------------------------------------------------
// Emulator faults, in every mode, with managed tokens
// ---------------------------------------------------------------------------

describe('emulator faults (injectFault), 100 calls per mode', () => {
  let emu
  beforeAll(async () => {
    emu = await sdk.startEmulator()
  })
  afterAll(() => emu.close())
  afterEach(() => emu.clearFaults())

  const apiCalls = (mode) => emu.stats().calls[`${mode === 'cloud' ? 'gateway' : 'https'}:tcb.createenvandresource`] || 0

  // [name, spec, expectation, environments created by the faulty calls?]
  const FAULTS = [
    [
      'errcode -1',
      { kind: 'errcode', errcode: -1 },
      { errCode: -1, msg: /errCode: -1 unknown error \| errMsg: openapi\.tcb\.createenvandresource:fail system error/, ctor: 'CloudSDKError' },
      false,
    ],
    [
      'errcode -1000',
      { kind: 'errcode', errcode: -1000 },
      { errCode: -1000, msg: /errCode: -1000 {2}\| errMsg: .*:fail system error/, ctor: 'CloudSDKError' },
      false,
    ],
    // The client gives up and closes the connection; the emulator (hyper)
    // then drops the request's handler mid-delay, so nothing is created.
    [
      'delay past the timeout',
      { kind: 'delay', delayMs: TIMEOUT + 400 },
      { errCode: -501002, msg: /-501002 resource server timeout\. no answer within (500|4\d\d) ms/ },
      false,
    ],
    ['drop_before', { kind: 'drop_before' }, { errCode: -501001, msg: /-501001 resource system error\. connection failed/, ctor: 'Error' }, false],
    ['drop_after', { kind: 'drop_after' }, { errCode: -501001, msg: /-501001 resource system error\. connection failed/, ctor: 'Error' }, true],
    [
      'status 500',
      { kind: 'status', status: 500 },
      { errCode: -501001, msg: /-501001 resource system error\. 500 Internal Server Error/, ctor: 'Error' },
      false,
    ],
    ['status 502', { kind: 'status', status: 502 }, { errCode: -501001, msg: /502 Bad Gateway/, ctor: 'Error' }, false],
    ['status 503', { kind: 'status', status: 503 }, { errCode: -501001, msg: /503 Service Unavailable/, ctor: 'Error' }, false],
    ['status 504', { kind: 'status', status: 504 }, { errCode: -501001, msg: /504 Gateway Timeout/, ctor: 'Error' }, false],
    [
      'malformed',
      { kind: 'malformed' },
      {
        errCode: -601001,
        msg: /errCode: -601001 system error \| errMsg: .*:fail (unknown wx response received: invalid protobuf|wechat server internal error, response body is invalid json)/,
      },
      true,
    ],
    ['truncated', { kind: 'truncated' }, { errCode: -501001, msg: /-501001 resource system error\. connection failed/ }, true],
  ]

  describe.each(MODES)('%s', (mode) => {
    test.each(FAULTS)('%s', async (name, spec, expectation, creates) => {
      figures.faults.add(`emulator ${name}`)
      const cloud = emuClient(mode, emu)
      await expectNormalCall(cloud, 'warm') // token cached, connection pooled
      const envsBefore = emu.environments().length
      const callsBefore = apiCalls(mode)
      emu.injectFault({ api: 'tcb.createenvandresource', ...spec, times: N })
      const results = await calls(cloud, N, 50)
      expectAllFailed(results, expectation)
      // each call reached the API exactly once: nothing retried
      expect(apiCalls(mode) - callsBefore).toBe(N)
      if (name.startsWith('delay')) await new Promise((r) => setTimeout(r, 600)) // let the delays run out
      expect(emu.environments().length - envsBefore).toBe(creates ? N : 0)
      emu.clearFaults()
      await expectNormalCall(cloud)
    })
  })

  test.each(MODES)('%s: a short delay within the timeout succeeds', async (mode) => {
    figures.faults.add('emulator short delay')
    const cloud = emuClient(mode, emu)
    emu.injectFault({ api: 'tcb.createenvandresource', kind: 'delay', delayMs: 50, times: N })
    const results = await calls(cloud, N, 50)
    expect(results.filter((r) => r.err || r.settles !== 1).map((r) => r.err?.message)).toEqual([])
  })

  test.each(MODES)('%s: faults with a seeded probability mixed with successes', async (mode) => {
    figures.faults.add('emulator mixed probability')
    const cloud = emuClient(mode, emu)
    await expectNormalCall(cloud, 'warm')
    emu.injectFault({ api: 'tcb.createenvandresource', kind: 'errcode', errcode: -1, probability: 0.3, seed: 7 })
    emu.injectFault({ api: 'tcb.createenvandresource', kind: 'drop_before', probability: 0.2, seed: 8 })
    const callsBefore = apiCalls(mode)
    const results = await calls(cloud, N, 50)
    expect(results.every((r) => r.settles === 1 && r.ms <= settleBound(results))).toBe(true)
    const codes = new Set(results.map((r) => (r.err ? r.err.errCode : 0)))
    expect([...codes].every((c) => [0, -1, -501001].includes(c))).toBe(true)
    expect(codes.size).toBe(3)
    expect(apiCalls(mode) - callsBefore).toBe(N)
  })
})

// ---------------------------------------------------------------------------
// Faults on the token endpoints (HTTPS and third-party with managed tokens)
// ---------------------------------------------------------------------------

describe('faults on the token endpoints, 100 concurrent calls on an empty token cache', () => {
  // Token caches are per process and per base URL: a fresh emulator per case.
  const TOKEN_APIS = [
    ['https', 'cgi-bin.stable_token', 'access_token'],
    ['thirdparty', 'cgi-bin.component.api_component_token', 'component_access_token'],
    ['thirdparty', 'cgi-bin.component.api_authorizer_token', 'authorizer_access_token'],
  ]
  const KINDS = [
    ['errcode -1', { kind: 'errcode', errcode: -1 }, -1, /cannot get \w+ from \/cgi-bin\/[\w/]+: system error$/],
    ['errcode 40013', { kind: 'errcode', errcode: 40013, errmsg: 'invalid appid' }, 40013, /cannot get \w+ from \/cgi-bin\/[\w/]+: invalid appid$/],
    ['status 503', { kind: 'status', status: 503 }, -501001, /cannot get \w+: HTTP 503/],
    ['drop_before', { kind: 'drop_before' }, -501001, /cannot get \w+: connection failed/],
    // (An authorizer-token request is given its whole timeout, not what is left of the
    // call's: its answer may carry a rotated refresh token. The calls end at their
    // deadline saying which token they were waiting for.)
    [
      'delay past the timeout',
      { kind: 'delay', delayMs: TIMEOUT + 400 },
      -501002,
      /cannot get \w+: no answer within (500|4\d\d) ms|no authorizer_access_token within the call's timeout of 500 ms$/,
    ],
    // After processing: for the authorizer token the refresh token has then
    // rotated on the server; see the next test.
    ['malformed', { kind: 'malformed' }, -601001, /cannot get \w+: the answer of \/cgi-bin\/[\w/]+ is not a JSON object/],
    ['truncated', { kind: 'truncated' }, -501001, /cannot get \w+: connection failed/],
  ]
  const cases = []
  for (const [mode, api, what] of TOKEN_APIS) {
    for (const [name, spec, errCode, msg] of KINDS) {
      if (api.endsWith('api_authorizer_token') && ['malformed', 'truncated'].includes(name)) continue
      cases.push([`${api} ${name}`, mode, api, what, spec, errCode, msg])
    }
  }

  test.each(cases)('%s', async (_name, mode, api, what, spec, errCode, msg) => {
    figures.faults.add(`token endpoint ${spec.kind}`)
    const emu = await sdk.startEmulator()
    try {
      const cloud = emuClient(mode, emu)
      emu.injectFault({ api, ...spec })
      const results = await calls(cloud, N, N)
      expectAllFailed(results, { errCode, msg })
      for (const r of results) expect(r.err.errMsg).toContain(what)
      // Calls waiting together share one token request (a later call may
      // start another once that one failed): never more than one per call,
      // and no API request is sent without a token.
      const tokenRequests = emu.stats().calls[`https:${api}`]
      expect(tokenRequests).toBeGreaterThanOrEqual(1)
      expect(tokenRequests).toBeLessThanOrEqual(N)
      expect(emu.stats().calls['https:tcb.createenvandresource'] || 0).toBe(0)
      emu.clearFaults()
      if (spec.kind === 'delay') await new Promise((r) => setTimeout(r, 500))
      await expectNormalCall(cloud)
    } finally {
      await emu.close()
    }
  })

  test('an authorizer-token answer lost after WeChat rotated the refresh token: later calls say so (61023), nothing crashes', async () => {
    // With rotateRefreshTokens, every authorizer-token request rotates the
    // refresh token and refuses the old one. If the answer carrying the new
    // one is lost, no client can recover without a new authorization: the
    // calls must keep failing clearly, never hang or crash.
    const emu = await sdk.startEmulator({ rotateRefreshTokens: true })
    try {
      const cloud = emuClient('thirdparty', emu)
      emu.injectFault({ api: 'cgi-bin.component.api_authorizer_token', kind: 'truncated', times: 1 })
      expectAllFailed(await calls(cloud, 1, 1), { errCode: -501001, msg: /cannot get authorizer_access_token: connection failed/ })
      const later = await calls(cloud, N, N)
      expectAllFailed(later, {
        errCode: 61023,
        msg: /cannot get authorizer_access_token from \/cgi-bin\/component\/api_authorizer_token: refresh_token is invalid rid: [0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{8} \(every refresh token known for this authorizer was refused/,
      })
    } finally {
      await emu.close()
    }
  })
})

describe('user callbacks that never settle: the call still ends within its timeout', () => {
  const never = () => new Promise(() => {})
  const CASES = [
    ['accessToken', () => ({ accessToken: never }), /the accessToken function failed: it did not return within 500 ms$/],
    ['authorizerAccessToken', () => ({ authorizerAccessToken: never }), /the authorizerAccessToken function failed: it did not return within 500 ms$/],
    [
      'getComponentVerifyTicket',
      () => ({ ...COMPONENT, getComponentVerifyTicket: never, onAuthorizerRefreshToken: async () => {} }),
      /getComponentVerifyTicket failed: it did not return within 500 ms$/,
    ],
    [
      'onAuthorizerRefreshToken',
      () => ({ ...COMPONENT, getComponentVerifyTicket: async () => TICKET, onAuthorizerRefreshToken: never }),
      /onAuthorizerRefreshToken failed: it did not finish within 500 ms; /,
    ],
  ]
  test.each(CASES)('%s', async (name, options, msg) => {
    figures.faults.add(`callback ${name} never settles`)
    // fresh token caches; refresh tokens rotate, so onAuthorizerRefreshToken is called
    const emu = await sdk.startEmulator({ rotateRefreshTokens: true })
    try {
      const cloud = new sdk.Cloud()
      cloud.init({ debug: true, timeout: TIMEOUT, apiBaseUrl: emu.httpsBaseUrl, processEnv: {}, ...options(emu) })
      const results = await calls(cloud, N, N)
      expectAllFailed(results, { errCode: -501006, msg, ctor: 'CloudSDKError' })
      // nothing was sent to the API without a token
      expect(emu.stats().calls['https:tcb.createenvandresource'] || 0).toBe(0)
    } finally {
      await emu.close()
    }
  })
})

// V8 may collect a promise that never settles, and napi then drops the
// addon's end of it: before the fix the call failed at once with
// "getComponentVerifyTicket failed: oneshot canceled" (CI, with a busy
// worker's GC); it must still end at its timeout, as a callback that never
// answers does. A child process with --expose-gc forces the collection.
test('a never-settling callback collected by the GC still ends the call at its timeout', () => {
  const script = `
    const sdk = require(${JSON.stringify(require.resolve('../index.js'))})
    const cloud = new sdk.Cloud()
    cloud.init({ ...${JSON.stringify(COMPONENT)}, timeout: ${TIMEOUT}, apiBaseUrl: 'http://127.0.0.1:9', processEnv: {},
      getComponentVerifyTicket: () => new Promise(() => {}), onAuthorizerRefreshToken: async () => {} })
    const collecting = setInterval(() => global.gc(), 5)
    const started = Date.now()
    cloud.openapi.tcb.createenvandresource({ type: 'CreatePostpayPackage', alias: 'gc' }).then(
      () => console.log(JSON.stringify({ ok: true })),
      (e) => console.log(JSON.stringify({ errCode: e.errCode, errMsg: e.errMsg, ms: Date.now() - started })),
    ).finally(() => clearInterval(collecting))`
  const r = require('child_process').spawnSync(process.execPath, ['--expose-gc', '-e', script], { encoding: 'utf8', timeout: 30000 })
  expect(r.stderr).toBe('')
  const out = JSON.parse(r.stdout.trim().split('\n').pop())
  expect(out.errMsg).toMatch(/getComponentVerifyTicket failed: it did not return within 500 ms$/)
  expect(out.errCode).toBe(-501006)
})

// ---------------------------------------------------------------------------
// The hostile server
// ---------------------------------------------------------------------------

/** A CommOpenApiResp carrying WeChat's JSON. */
const pbAnswer = (json) =>
  encodeCommOpenApiResp({ respData: typeof json === 'string' ? json : JSON.stringify(json), contentType: 'application/json; charset=utf-8' })

/** A normal answer in the door's format. */
function good(mode) {
  const wechat = { errcode: 0, errmsg: 'ok', envid: 'after-abc123' }
  return mode === 'cloud'
    ? { kind: 'reply', contentType: 'application/octet-stream', body: pbAnswer(wechat) }
    : { kind: 'reply', contentType: 'application/json', body: JSON.stringify(wechat) }
}

/** WeChat's answer `json` in the door's format. */
const wechatReply = (mode, json) =>
  mode === 'cloud'
    ? { kind: 'reply', contentType: 'application/octet-stream', body: pbAnswer(json) }
    : { kind: 'reply', contentType: 'application/json', body: typeof json === 'string' ? json : JSON.stringify(json) }

const INVALID_ANSWER =
  /errCode: -601001 system error \| errMsg: openapi\.tcb\.createenvandresource:fail (unknown wx response received: invalid protobuf|wechat server internal error, response body is invalid json|empty response from the gateway)/

// [name, modes, behaviour(mode), expectation, what the server sees per call]
// 50 calls at once each reading megabytes of response headers: how long
// that takes depends on the machine and its load, so these calls get a
// timeout far past it; what they test is the header limit (-501001), not
// whether the machine reads 50 MB within 500 ms.
const HEADER_FLOOD_TIMEOUT = 10000

const HOSTILE = [
  // Closed before anything was read: the server never sees a request. When
  // the reset lands while the client is still setting the connection up,
  // the client knows nothing was written and may connect again (at most
  // 2 more times): more connections than calls, still no request.
  [
    'close on accept',
    MODES,
    () => ({ kind: 'close' }),
    { errCode: -501001, msg: /-501001 resource system error\. (connection failed|could not connect)/, ctor: 'Error' },
    { requests: 0, connectRetries: true },
  ],
  [
    'reset before reading the request',
    MODES,
    () => ({ kind: 'reset-before' }),
    { errCode: -501001, msg: /-501001 resource system error\. (connection failed|could not connect)/, ctor: 'Error' },
    { requests: 0, connectRetries: true },
  ],
  [
    'reset after reading the request',
    MODES,
    () => ({ kind: 'reset-after' }),
    { errCode: -501001, msg: /-501001 resource system error\. connection failed/, ctor: 'Error' },
    { requests: 1 },
  ],
  [
    'never answers (read timeout)',
    MODES,
    () => ({ kind: 'silent' }),
    { errCode: -501002, msg: /-501002 resource server timeout\. no answer within (500|4\d\d) ms/ },
    { requests: 1 },
  ],
  [
    'slow trickle body',
    MODES,
    () => ({ kind: 'trickle', everyMs: 40 }),
    { errCode: -501002, msg: /-501002 resource server timeout\. no answer within (500|4\d\d) ms/ },
    { requests: 1 },
  ],
  [
    'HTTP 400',
    MODES,
    () => ({ kind: 'reply', status: 400, contentType: 'text/plain', body: 'bad request' }),
    { errCode: -501001, msg: /-501001 resource system error\. 400 Bad Request/, ctor: 'Error' },
    { requests: 1 },
  ],
  [
    'HTTP 404',
    MODES,
    () => ({ kind: 'reply', status: 404, contentType: 'text/html', body: '<h1>not found</h1>' }),
    { errCode: -501001, msg: /404 Not Found/, ctor: 'Error' },
    { requests: 1 },
  ],
  ['HTTP 429', MODES, () => ({ kind: 'reply', status: 429, body: '' }), { errCode: -501001, msg: /429 Too Many Requests/, ctor: 'Error' }, { requests: 1 }],
  [
    'HTTP 500',
    MODES,
    () => ({ kind: 'reply', status: 500, body: '{"oops":1}' }),
    { errCode: -501001, msg: /500 Internal Server Error/, ctor: 'Error' },
    { requests: 1 },
  ],
  [
    'HTTP 502',
    MODES,
    () => ({ kind: 'reply', status: 502, body: 'bad gateway' }),
    { errCode: -501001, msg: /502 Bad Gateway/, ctor: 'Error' },
    { requests: 1 },
  ],
  [
    'HTTP 503, connection closed',
    MODES,
    () => ({ kind: 'reply', status: 503, body: 'busy', keepAlive: false }),
    { errCode: -501001, msg: /503 Service Unavailable/, ctor: 'Error' },
    { requests: 1 },
  ],
  ['HTTP 504', MODES, () => ({ kind: 'reply', status: 504, body: '' }), { errCode: -501001, msg: /504 Gateway Timeout/, ctor: 'Error' }, { requests: 1 }],
  // Redirects are not followed: a 307/308 would send the POST again (and a
  // redirected token request would carry the app secret along).
  ...[301, 302, 303, 307, 308].map((status) => [
    `HTTP ${status} redirect to this server`,
    MODES,
    () => ({ kind: 'reply', status, body: '', headers: { location: '/elsewhere' } }),
    {
      errCode: -501001,
      msg: new RegExp(`-501001 resource system error\\. ${status} (Moved Permanently|Found|See Other|Temporary Redirect|Permanent Redirect)`),
      ctor: 'Error',
    },
    { requests: 1 },
  ]),
  [
    'not HTTP at all',
    MODES,
    () => ({ kind: 'raw', bytes: 'SSH-2.0-OpenSSH_9.6\r\n' }),
    { errCode: -501001, msg: /-501001 resource system error\. connection failed: .*(invalid|parse|HTTP)/i, ctor: 'Error' },
    { requests: 1 },
  ],
  [
    'a 1 MB response header',
    MODES,
    () => ({ kind: 'raw', bytes: `HTTP/1.1 200 OK\r\nx-flood: ${'a'.repeat(1 << 20)}\r\ncontent-length: 2\r\n\r\n{}` }),
    { errCode: -501001, msg: /-501001 resource system error\. connection failed: .*(too large|header)/i, ctor: 'Error' },
    { requests: 1, timeout: HEADER_FLOOD_TIMEOUT },
  ],
  [
    '10,000 response headers',
    MODES,
    () => ({ kind: 'raw', bytes: `HTTP/1.1 200 OK\r\n${'x-h: 1\r\n'.repeat(10000)}content-length: 2\r\n\r\n{}` }),
    { errCode: -501001, msg: /-501001 resource system error\. connection failed: .*(too large|header)/i, ctor: 'Error' },
    { requests: 1, timeout: HEADER_FLOOD_TIMEOUT },
  ],
  ['empty 200 body', MODES, () => ({ kind: 'reply', body: '' }), { errCode: -601001, msg: INVALID_ANSWER }, { requests: 1 }],
  ['empty chunked 200 body', MODES, () => ({ kind: 'reply', body: '', chunked: true }), { errCode: -601001, msg: INVALID_ANSWER }, { requests: 1 }],
  [
    'truncated protobuf',
    ['cloud'],
    () => ({ kind: 'reply', contentType: 'application/octet-stream', body: pbAnswer({ errcode: 0, errmsg: 'ok', envid: 'x' }).subarray(0, 9) }),
    { errCode: -601001, msg: INVALID_ANSWER },
    { requests: 1 },
  ],
  [
    'garbage protobuf',
    ['cloud'],
    () => ({
      kind: 'reply',
      contentType: 'application/octet-stream',
      body: Buffer.from('ff fe 00 07 0b 0f 13 99 99 99 99 99 99 99 99 99 99 01'.replace(/ /g, ''), 'hex'),
    }),
    { errCode: -601001, msg: INVALID_ANSWER },
    { requests: 1 },
  ],
  [
    'protobuf whose respData is truncated JSON',
    ['cloud'],
    () => wechatReply('cloud', '{"errcode":0,"errmsg":"ok","envid":'),
    { errCode: -601001, msg: INVALID_ANSWER },
    { requests: 1 },
  ],
  [
    'wrong content type (an HTML error page)',
    MODES,
    () => ({ kind: 'reply', contentType: 'text/html; charset=utf-8', body: '<html><body>502 from a proxy</body></html>' }),
    { errCode: -601001, msg: INVALID_ANSWER },
    { requests: 1 },
  ],
  [
    'invalid JSON',
    MODES,
    () => ({ kind: 'reply', contentType: 'application/json', body: '{"errcode":0,"errmsg":"ok",' }),
    { errCode: -601001, msg: INVALID_ANSWER },
    { requests: 1 },
  ],
  [
    'invalid UTF-8 JSON',
    ['https', 'thirdparty'],
    () => ({ kind: 'reply', contentType: 'application/json', body: Buffer.from([0x7b, 0xff, 0xfe, 0x7d]) }),
    { errCode: -601001, msg: INVALID_ANSWER },
    { requests: 1 },
  ],
  [
    'Content-Length above the 32 MB limit',
    MODES,
    () => ({ kind: 'huge', declare: true, size: 40 * 1024 * 1024, send: 1024 }),
    { errCode: -501001, msg: /-501001 resource system error\. answer larger than 33554432 bytes/, ctor: 'Error' },
    { requests: 1 },
  ],
  [
    'headers cut short',
    MODES,
    () => ({ kind: 'huge', declare: true, size: 5000, send: 100 }),
    { errCode: -501001, msg: /-501001 resource system error\. connection failed/, ctor: 'Error' },
    { requests: 1 },
  ],
]

describe('hostile server, 100 calls per fault and mode', () => {
  let srv
  beforeAll(async () => {
    srv = await startHostile()
  })
  afterAll(() => srv.close())

  const cases = []
  for (const [name, modes, behaviour, expectation, perCall] of HOSTILE) for (const mode of modes) cases.push([name, mode, behaviour, expectation, perCall])

  test.each(cases)('%s (%s)', async (name, mode, behaviour, expectation, perCall) => {
    figures.faults.add(`hostile ${name}`)
    const cloud = hostileClient(mode, srv.url, perCall.timeout ? { timeout: perCall.timeout } : undefined)
    await srv.set(good(mode))
    await expectNormalCall(cloud, 'warm')
    await srv.set(behaviour(mode))
    srv.resetStats()
    const results = await calls(cloud, N, 50)
    expectAllFailed(results, { bound: settleBound(results, perCall.timeout), ...expectation })
    const seen = srv.stats()
    // Nothing that may have reached the server was sent again.
    expect(seen.requests).toBe(N * perCall.requests)
    if (perCall.connectRetries) {
      expect(seen.connections).toBeGreaterThanOrEqual(N)
      expect(seen.connections).toBeLessThanOrEqual(3 * N)
    }
    await srv.set(good(mode))
    await expectNormalCall(cloud)
  })

  test.each(MODES)('a body over 10 MB that is not an answer (%s): rejected as unreadable, memory bounded', async (mode) => {
    figures.faults.add('hostile 11 MB garbage body')
    const cloud = hostileClient(mode, srv.url, { timeout: 8000 })
    await srv.set({ kind: 'huge', size: 11 * 1024 * 1024, fill: '{', contentType: mode === 'cloud' ? 'application/octet-stream' : 'application/json' })
    srv.resetStats()
    const results = await calls(cloud, N, 4)
    expectAllFailed(results, { errCode: -601001, msg: INVALID_ANSWER, bound: settleBound(results, 8000) })
    // the quoted excerpt of such a body is cut
    expect(Math.max(...results.map((r) => r.err.message.length))).toBeLessThan(70 * 1024)
    expect(srv.stats().requests).toBe(N)
    await srv.set(good(mode))
    await expectNormalCall(cloud)
  })

  test.each(MODES)('a chunked body over the 32 MB limit (%s) is cut off', async (mode) => {
    figures.faults.add('hostile chunked body over the limit')
    const cloud = hostileClient(mode, srv.url, { timeout: 10000 })
    await srv.set({ kind: 'huge', size: 33 * 1024 * 1024 + 10 })
    srv.resetStats()
    // 33 MB each: fewer calls here (the 100-call rule is met by the
    // Content-Length case above, which takes the same exit)
    const results = await calls(cloud, 6, 2)
    expectAllFailed(results, { errCode: -501001, msg: /answer larger than 33554432 bytes/, bound: settleBound(results, 10000) })
    expect(srv.stats().requests).toBe(6)
    await srv.set(good(mode))
    await expectNormalCall(cloud)
  })

  // Gateway error JSON (cloud call only: over HTTPS such JSON is an answer).
  const GATEWAY_CODES = [
    ['SYS_ERR', -501001],
    ['SERVER_TIMEOUT', -501002],
    ['EXCEED_REQUEST_LIMIT', -501003],
    ['EXCEED_CONCURRENT_REQUEST_LIMIT', -501004],
    ['INVALIID_ENV', -501005],
    ['INVALID_COMMON_PARAM', -501006],
    ['INVALID_PARAM', -501007],
    ['INVALID_REQUEST_SOURCE', -501008],
    ['RESOURCE_NOT_INITIAL', -501009],
    ['SOMETHING_NEW', -501001],
  ]
  test.each(GATEWAY_CODES)('gateway error %s (cloud) → %d', async (code, errCode) => {
    figures.faults.add(`gateway error ${code}`)
    const cloud = hostileClient('cloud', srv.url)
    await srv.set({ kind: 'reply', body: JSON.stringify({ code, message: `the gateway says ${code}`, requestId: 'r-1' }) })
    srv.resetStats()
    const results = await calls(cloud, N, 50)
    expectAllFailed(results, { errCode, msg: new RegExp(`:fail ${errCode} [a-z ]+\\. the gateway says ${code}$`), ctor: 'Error' })
    expect(srv.stats().requests).toBe(N)
    await srv.set(good('cloud'))
    await expectNormalCall(cloud)
  })

  test.each([-604100, -604101, -604102, -604103, -604104])('platform errorCode %d in CommOpenApiResp (cloud)', async (code) => {
    figures.faults.add(`platform error ${code}`)
    const cloud = hostileClient('cloud', srv.url)
    await srv.set({ kind: 'reply', contentType: 'application/octet-stream', body: encodeCommOpenApiResp({ errorCode: code }) })
    const results = await calls(cloud, N, 50)
    // errMsg without the API name: the reference's text for platform errors;
    // -604100's message then names the API (README: deliberate differences)
    const hint = code === -604100 ? ' \\| the platform has no API named openapi\\.[\\w.]+: check its spelling .*' : ''
    expectAllFailed(results, {
      errCode: code,
      msg: new RegExp(`^errCode: ${code} [a-zA-Z ]+ \\| errMsg: system error: error code: ${code}${hint}$`),
      ctor: 'CloudSDKError',
      prefix: false,
    })
  })

  // Every WeChat error code the package documents (README, docs/emulator.md).
  const WECHAT_CODES = [-1, -1000, 40001, 40002, 40013, 40014, 40097, 40101, 40125, 41001, 41002, 41004, 42001, 43001, 43002, 45009, 47001, 61003, 61006, 61023]
  const wx = []
  for (const code of WECHAT_CODES) for (const mode of MODES) wx.push([code, mode])
  test.each(wx)('WeChat errcode %d (%s)', async (code, mode) => {
    figures.faults.add(`wechat errcode ${code}`)
    const cloud = hostileClient(mode, srv.url)
    await srv.set(wechatReply(mode, { errcode: code, errmsg: `emulated ${code}` }))
    srv.resetStats()
    const results = await calls(cloud, N, 50)
    expectAllFailed(results, { errCode: code, msg: new RegExp(`^errCode: ${code} .*\\| errMsg: ${API}:fail emulated ${code}$`), ctor: 'CloudSDKError' })
    // a token error with a token given as a string is not retried (nothing new to try)
    expect(srv.stats().requests).toBe(N)
  })

  test.each(MODES)('an answer with an escaped lone surrogate resolves as JSON.parse reads it (%s), not as invalid JSON', async (mode) => {
    const text = '{"errcode":0,"errmsg":"ok","envid":"half-\\ud83d","pair":"\\ud83d\\ude00"}'
    await srv.set(wechatReply(mode, text))
    const results = await calls(hostileClient(mode, srv.url), N, 50)
    for (const r of results) {
      expect(r.err).toBeUndefined()
      expect({ envid: r.value.envid, pair: r.value.pair }).toEqual({ envid: 'half-\ud83d', pair: '\u{1f600}' })
    }
  })

  test("a WeChat or gateway message that quotes the caller's secrets shows them masked", async () => {
    figures.faults.add('hostile echo of secrets')
    for (const mode of MODES) {
      const cloud = hostileClient(mode, srv.url)
      // the secrets this client holds (a server can only echo what it was sent)
      const own = { cloud: [HOSTILE_CREDS.sessionToken, HOSTILE_CREDS.secretKey], https: [ACCESS_TOKEN], thirdparty: [AUTHORIZER_TOKEN] }[mode]
      const quoted = own.join(' ')
      const replies =
        mode === 'cloud'
          ? [
              { kind: 'reply', body: JSON.stringify({ code: 'INVALID_COMMON_PARAM', message: `bad session token ${quoted}` }) },
              wechatReply('cloud', { errcode: 40001, errmsg: `invalid credential ${quoted}` }),
              wechatReply('cloud', `not json ${quoted}`),
            ]
          : [wechatReply(mode, { errcode: 40001, errmsg: `invalid credential ${quoted}` }), { kind: 'reply', body: `not json ${quoted}` }]
      for (const reply of replies) {
        await srv.set(reply)
        const results = await calls(cloud, N, 50)
        for (const r of results) {
          expect(r.err).toBeDefined()
          for (const s of own) expect(r.err.message).not.toContain(s)
          expect(r.err.message).toMatch(/\*\*\*/)
        }
      }
    }
  })
})

// ---------------------------------------------------------------------------
// Failures below HTTP: refused, DNS, connect timeout
// ---------------------------------------------------------------------------

describe('no server', () => {
  test.each(MODES)('refused connection (a closed port), %s: retried briefly (nothing was sent), then fails', async (mode) => {
    figures.faults.add('refused connection')
    const srv = await startHostile()
    const base = srv.url
    await srv.close()
    const cloud = hostileClient(mode, base, { timeout: 2000 })
    const results = await calls(cloud, N, 50)
    expectAllFailed(results, {
      errCode: -501001,
      msg: /-501001 resource system error\. could not connect: .*(refused|Connection refused)/i,
      bound: 3000,
      ctor: 'Error',
    })
  })

  // A label longer than 63 characters makes the resolver (glibc) fail
  // locally, before any query is sent: no traffic leaves the machine. A bare
  // `x.invalid` would be sent to the configured DNS server.
  const LONG = 'a'.repeat(70)
  const DNS_HOST = `${LONG}.${LONG}.invalid`
  test.each(MODES)('DNS failure (%s)', async (mode) => {
    figures.faults.add('DNS failure')
    const cloud = hostileClient(mode, `http://${DNS_HOST}`, { timeout: 2000 })
    const results = await calls(cloud, N, 50)
    expectAllFailed(results, { errCode: -501001, msg: /-501001 resource system error\. could not connect: .*dns/i, bound: 3000, ctor: 'Error' })
  })

  test('connect timeout (a full accept backlog on loopback), all modes', async () => {
    figures.faults.add('connect timeout')
    const held = await startFullBacklog()
    if (!held.port) {
      // Skipped with a reason: a connect timeout can only be produced on
      // loopback by a listener that never accepts; see `held.reason`.
      console.log(`connect timeout case skipped: ${held.reason}`)
      return
    }
    try {
      for (const mode of MODES) {
        const cloud = hostileClient(mode, `http://127.0.0.1:${held.port}`)
        const results = await calls(cloud, N, N)
        expectAllFailed(results, { errCode: -501002, msg: /-501002 resource server timeout\. no answer within (500|4\d\d) ms/ })
      }
    } finally {
      held.close()
    }
  })
})

test('the process is alive, nothing unhandled, and no secret in anything this suite produced', async () => {
  expect(unhandled).toEqual([])
  const emu = await sdk.startEmulator()
  try {
    await expectNormalCall(emuClient('cloud', emu), 'alive')
  } finally {
    await emu.close()
  }
  expect(leaks.texts.length).toBeGreaterThan(10000)
  expect(leaks.find()).toEqual([])
})
