'use strict'

// The three calling modes against the emulator: the cloud call (signed
// multipart to the gateway), HTTPS (appid + secret, or a supplied token) and
// third-party (component + authorizer tokens managed by the SDK). Same
// results, same errors; managed tokens renewed once however many calls wait;
// rotated refresh tokens delivered before the call resolves; nothing that
// may have reached the server retried unless `retry.onBusy` says so; and no
// secret or token in any error message or debug line.

const sdk = require('../index.js')
const { APP, COMPONENT, modeOptions } = require('./helpers/emu-modes')

jest.setTimeout(60000)

const API = 'openapi.tcb.createenvandresource'
const TICKET = 'ticket@@@modes-test-ticket'

// Everything the suite must never see in a message or a debug line.
const SECRETS = new Set([APP.secret, COMPONENT.componentAppsecret, COMPONENT.authorizerRefreshToken, TICKET])
// Every error message, errMsg and debug line the suite produced.
const TEXTS = []

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

let consoleError
beforeAll(() => {
  consoleError = console.error
  console.error = (...args) => {
    const line = args.map(String).join(' ')
    if (line.startsWith('[wx-cloud-openapi]')) TEXTS.push(line)
    else consoleError(...args)
  }
})
afterAll(() => {
  console.error = consoleError
})

// WeChat's errmsg (and so errMsg) ends with its request id.
const RID = (msg) => new RegExp(`^${msg} rid: [0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{8}$`)

const emulators = []
async function emulator(options = {}) {
  // WeChat's default: refresh tokens stay; tests of rotation ask for it
  const emu = await sdk.startEmulator(options)
  emulators.push(emu)
  return emu
}
afterAll(async () => {
  for (const emu of emulators) await emu.close()
})

/** A raw token from the emulator, as a user's own token service would get it. */
async function fetchToken(emu) {
  const res = await fetch(`${emu.httpsBaseUrl}/cgi-bin/stable_token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ grant_type: 'client_credential', appid: APP.appid, secret: APP.secret }),
  })
  const body = await res.json()
  SECRETS.add(body.access_token)
  return body.access_token
}

/**
 * A configured SDK instance in one mode, pointed at `emu`.
 * Modes: cloud, https (appid+secret), https-fn (accessToken function),
 * thirdparty (component tokens managed by the SDK).
 */
function client(mode, emu, extra = {}) {
  const cloud = new sdk.Cloud()
  const rotated = []
  const common = { debug: true, timeout: 20000, ...extra }
  if (mode === 'https-fn') {
    cloud.init({ ...common, apiBaseUrl: emu.httpsBaseUrl, processEnv: {}, accessToken: () => fetchToken(emu) })
  } else {
    const onRotated = async (token) => {
      SECRETS.add(token)
      rotated.push(token)
    }
    cloud.init({ ...common, ...modeOptions(mode, emu, { ticket: TICKET, onRotated }) })
  }
  return { cloud, rotated }
}

/** Call and capture the outcome (recording every error text). */
async function create(cloud, params) {
  try {
    return { value: await cloud.openapi.tcb.createenvandresource(params) }
  } catch (err) {
    TEXTS.push(String(err.message), String(err.errMsg))
    return { err }
  }
}

const MODES = ['cloud', 'https', 'https-fn', 'thirdparty']
const ok = (alias) => ({ type: 'CreatePostpayPackage', alias })

describe('success looks the same in every mode', () => {
  test('cloud, https, supplied token, third-party', async () => {
    const emu = await emulator()
    const shapes = {}
    for (const mode of MODES) {
      const { value, err } = await create(client(mode, emu).cloud, ok(`ok-${mode.replace('-', '')}`))
      expect(err).toBeUndefined()
      expect(value.envid).toMatch(new RegExp(`^ok-${mode.replace('-', '')}-`))
      shapes[mode] = { ...value, envid: typeof value.envid }
    }
    for (const mode of MODES) {
      expect(shapes[mode]).toEqual({ envid: 'string', errMsg: `${API}:ok`, errCode: 0 })
      expect(Object.keys(shapes[mode])).toEqual(['envid', 'errMsg', 'errCode'])
    }
    expect(emu.environments()).toHaveLength(MODES.length)
  })

  test('each call reports its mode in the debug line', async () => {
    const emu = await emulator()
    const before = TEXTS.length
    for (const mode of MODES) await create(client(mode, emu).cloud, ok('dbg'))
    const lines = TEXTS.slice(before).filter((l) => l.startsWith('[wx-cloud-openapi]'))
    expect(lines.map((l) => / mode=(\w+)/.exec(l)[1])).toEqual(['cloud', 'https', 'https', 'thirdparty'])
  })
})

describe('every documented error of createenvandresource surfaces with its errCode in every mode', () => {
  const DOCUMENTED = [
    [-1, 'system error'],
    [-1000, 'system error'],
    [40014, 'invalid access_token'],
    [41001, 'access_token missing'],
    [42001, 'access_token expired'],
    [43002, 'require POST method'],
  ]
  let emu
  beforeAll(async () => {
    emu = await emulator()
  })
  afterEach(() => emu.clearFaults())

  test.each(DOCUMENTED)('%d %s', async (errcode, errmsg) => {
    const seen = {}
    for (const mode of MODES) {
      const { cloud } = client(mode, emu)
      // twice: a token error is retried once with a renewed token
      emu.injectFault({ api: 'tcb.createenvandresource', kind: 'errcode', errcode, errmsg, times: 2 })
      const { err } = await create(cloud, ok('e'))
      emu.clearFaults()
      expect(err).toBeInstanceOf(sdk.CloudSDKError)
      seen[mode] = { ctor: err.constructor.name, errCode: err.errCode, errMsg: err.errMsg, message: err.message }
    }
    for (const mode of MODES) {
      expect(seen[mode]).toEqual({
        ctor: 'CloudSDKError',
        errCode: errcode,
        errMsg: `${API}:fail ${errmsg}`,
        message: seen.cloud.message,
      })
    }
    expect(emu.environments()).toHaveLength(0)
  })

  test('40101 missing parameter (a real answer, not a fault)', async () => {
    for (const mode of MODES) {
      const { err } = await create(client(mode, emu).cloud, { type: 'CreatePostpayPackage' })
      expect(err).toBeInstanceOf(sdk.CloudSDKError)
      expect({ errCode: err.errCode, errMsg: err.errMsg }).toEqual({ errCode: 40101, errMsg: expect.stringMatching(RID(`${API}:fail missing parameter`)) })
    }
  })

  test('40014 for a token WeChat does not know, supplied as a string (HTTPS and third-party)', async () => {
    for (const init of [{ accessToken: 'not-a-real-token-1' }, { authorizerAccessToken: 'not-a-real-token-2' }]) {
      SECRETS.add(Object.values(init)[0])
      const cloud = new sdk.Cloud()
      cloud.init({ ...init, apiBaseUrl: emu.httpsBaseUrl, processEnv: {}, debug: true })
      const { err } = await create(cloud, ok('bad'))
      expect({ errCode: err.errCode, errMsg: err.errMsg }).toEqual({ errCode: 40014, errMsg: expect.stringMatching(RID(`${API}:fail invalid access_token`)) })
    }
  })

  test('a rejected token from a token function: the function is asked again and the call retried once', async () => {
    const calls = []
    const cloud = new sdk.Cloud()
    cloud.init({
      apiBaseUrl: emu.httpsBaseUrl,
      processEnv: {},
      debug: true,
      accessToken: async (info) => {
        calls.push(info.forceRefresh)
        if (calls.length === 1) {
          SECRETS.add('stale-token-from-a-cache')
          return 'stale-token-from-a-cache'
        }
        return fetchToken(emu)
      },
    })
    const { value, err } = await create(cloud, ok('fn'))
    expect(err).toBeUndefined()
    expect(value.envid).toMatch(/^fn-/)
    expect(calls).toEqual([false, true])
  })
})

describe('managed tokens', () => {
  test.each(['https', 'thirdparty'])('%s: with a 2-second token lifetime, calls keep succeeding across expiry', async (mode) => {
    // Refresh tokens rotate here, so that every renewal also exercises onAuthorizerRefreshToken.
    const emu = await emulator({ tokenLifetimeSecs: 2, rotateRefreshTokens: true })
    const { cloud, rotated } = client(mode, emu)
    const until = Date.now() + 5000
    let n = 0
    while (Date.now() < until) {
      const { err } = await create(cloud, ok(`x${n++}`))
      expect(err).toBeUndefined()
      await sleep(100)
    }
    const issued = emu.stats().tokensIssued
    if (mode === 'https') expect(issued.stable).toBeGreaterThanOrEqual(2)
    else {
      expect(issued.authorizer).toBeGreaterThanOrEqual(2)
      // every rotation reached the callback, exactly once
      expect(rotated).toHaveLength(issued.authorizer)
      expect(new Set(rotated).size).toBe(rotated.length)
    }
    expect(emu.environments()).toHaveLength(n)
  })

  test.each([
    ['https', ['https:cgi-bin.stable_token']],
    ['thirdparty', ['https:cgi-bin.component.api_component_token', 'https:cgi-bin.component.api_authorizer_token']],
  ])('%s: 1,000 concurrent calls started with an expired token cause exactly one token request each', async (mode, endpoints) => {
    // 4 s: long enough that the new token is not yet due for renewal (at
    // 3 s) while 1,000 calls run on a loaded machine
    const emu = await emulator({ tokenLifetimeSecs: 4, rotateRefreshTokens: true })
    const { cloud, rotated } = client(mode, emu)
    expect((await create(cloud, ok('warm'))).err).toBeUndefined()
    await sleep(4300) // the token has expired, in the emulator and in the SDK's cache
    const before = emu.stats().calls
    const results = await Promise.all(Array.from({ length: 1000 }, (_, i) => create(cloud, ok(`c${i}`))))
    const after = emu.stats().calls
    expect(results.filter((r) => r.err).map((r) => r.err.message)).toEqual([])
    for (const ep of endpoints) expect((after[ep] || 0) - (before[ep] || 0)).toBe(1)
    expect(emu.environments()).toHaveLength(1001)
    if (mode === 'thirdparty') expect(rotated).toHaveLength(2)
  })
})

describe('an authorizer refresh token that stays the same (the default, as WeChat documents)', () => {
  test('renewals across expiry keep using it; onAuthorizerRefreshToken is never called', async () => {
    const emu = await emulator({ tokenLifetimeSecs: 1 })
    const { cloud, rotated } = client('thirdparty', emu)
    for (let i = 0; i < 3; i++) {
      const { err } = await create(cloud, ok(`same${i}`))
      expect(err).toBeUndefined()
      await sleep(1100) // past the 1 s lifetime: the next call renews
    }
    expect(emu.stats().tokensIssued.authorizer).toBe(3)
    expect(rotated).toEqual([])
  })
})

describe('a rotated authorizer refresh token', () => {
  test('reaches onAuthorizerRefreshToken exactly once, before the call that caused it resolves', async () => {
    const emu = await emulator({ rotateRefreshTokens: true })
    const events = []
    const cloud = new sdk.Cloud()
    cloud.init({
      ...COMPONENT,
      apiBaseUrl: emu.httpsBaseUrl,
      processEnv: {},
      debug: true,
      getComponentVerifyTicket: async () => TICKET,
      onAuthorizerRefreshToken: async (token) => {
        SECRETS.add(token)
        await sleep(200) // a slow store: the calls must wait for it
        events.push(['stored', token])
      },
    })
    const calls = Array.from({ length: 20 }, (_, i) => cloud.openapi.tcb.createenvandresource(ok(`r${i}`)).then((v) => events.push(['resolved', v.envid])))
    await Promise.all(calls)
    expect(events[0][0]).toBe('stored')
    expect(events.filter((e) => e[0] === 'stored')).toHaveLength(1)
    expect(events.filter((e) => e[0] === 'resolved')).toHaveLength(20)
    expect(events[0][1]).toMatch(/^refreshtoken@@@/)
    expect(emu.stats().tokensIssued.authorizer).toBe(1)
  })

  test('a callback that fails makes the call fail (nothing sent) and the token is offered again', async () => {
    const emu = await emulator({ rotateRefreshTokens: true })
    let fail = true
    const stored = []
    const cloud = new sdk.Cloud()
    cloud.init({
      ...COMPONENT,
      apiBaseUrl: emu.httpsBaseUrl,
      processEnv: {},
      getComponentVerifyTicket: async () => TICKET,
      onAuthorizerRefreshToken: (token) => {
        SECRETS.add(token)
        if (fail) {
          fail = false
          throw new Error(`database down while saving ${token}`)
        }
        stored.push(token)
      },
    })
    const first = await create(cloud, ok('f1'))
    expect(first.err).toBeInstanceOf(sdk.CloudSDKError)
    expect(first.err.errMsg).toMatch(/onAuthorizerRefreshToken failed: database down while saving \*\*\*/)
    expect(emu.environments()).toHaveLength(0)
    const second = await create(cloud, ok('f2'))
    expect(second.err).toBeUndefined()
    expect(stored).toHaveLength(1)
    expect(emu.stats().tokensIssued.authorizer).toBe(1)
  })
})

describe('what may have reached the server is not retried', () => {
  test.each(MODES)('%s: an answer dropped after the environment was created rejects, one environment exists', async (mode) => {
    const emu = await emulator()
    const { cloud } = client(mode, emu)
    emu.injectFault({ api: 'tcb.createenvandresource', kind: 'drop_after', times: 1 })
    const { err } = await create(cloud, ok('dropped'))
    expect(err).toBeInstanceOf(Error)
    expect(err.errCode).toBe(-501001)
    expect(emu.environments()).toHaveLength(1)
    expect(emu.stats().calls[mode === 'cloud' ? 'gateway:tcb.createenvandresource' : 'https:tcb.createenvandresource']).toBe(1)
  })

  test.each(MODES)('%s: with retry.onBusy, a -1 followed by success resolves; without, it rejects', async (mode) => {
    const emu = await emulator()
    emu.injectFault({ api: 'tcb.createenvandresource', kind: 'errcode', errcode: -1, times: 1 })
    const plain = await create(client(mode, emu).cloud, ok('busy0'))
    expect(plain.err.errCode).toBe(-1)
    emu.injectFault({ api: 'tcb.createenvandresource', kind: 'errcode', errcode: -1, times: 1 })
    const retried = await create(client(mode, emu, { retry: { onBusy: 2 } }).cloud, ok('busy1'))
    expect(retried.err).toBeUndefined()
    expect(retried.value.envid).toMatch(/^busy1-/)
    expect(emu.environments()).toHaveLength(1)
  })

  test('a refused connection is retried (nothing was sent), then fails clearly', async () => {
    const emu = await emulator()
    const url = emu.httpsBaseUrl
    await emu.close()
    const cloud = new sdk.Cloud()
    cloud.init({ ...APP, apiBaseUrl: url, processEnv: {} })
    const { err } = await create(cloud, ok('refused'))
    expect(err.errCode).toBe(-501001)
    expect(err.errMsg).toMatch(/could not connect/)
  })
})

describe('proxy', () => {
  test('the HTTPS modes go through the `proxy` option (token and API requests)', async () => {
    const http = require('http')
    const emu = await emulator()
    const seen = []
    // A tiny forwarding proxy on loopback: absolute-form request line in,
    // the same request to the target out.
    const proxy = http.createServer((req, res) => {
      const target = new URL(req.url)
      seen.push(`${req.method} ${target.pathname}`)
      const chunks = []
      req.on('data', (c) => chunks.push(c))
      req.on('end', () => {
        const out = http.request(
          { host: target.hostname, port: target.port, path: target.pathname + target.search, method: req.method, headers: req.headers },
          (r) => {
            res.writeHead(r.statusCode, r.headers)
            r.pipe(res)
          },
        )
        out.on('error', () => res.destroy())
        out.end(Buffer.concat(chunks))
      })
    })
    await new Promise((resolve) => proxy.listen(0, '127.0.0.1', resolve))
    try {
      const { cloud } = client('https', emu, { proxy: `http://127.0.0.1:${proxy.address().port}` })
      const { err } = await create(cloud, ok('proxied'))
      expect(err).toBeUndefined()
      expect(seen).toEqual(['POST /cgi-bin/stable_token', 'POST /tcb/createenvandresource'])
    } finally {
      proxy.close()
    }
  })

  test('proxy variables in the environment are not used, by any mode (as the reference)', async () => {
    // A cloud call to an emulator on loopback went through HTTP_PROXY (read
    // once by the HTTP client), failing with "could not connect" to the
    // emulator's URL. The variables are set in a child process (this one's
    // environment stays as it is); a listening "proxy" must see nothing.
    const net = require('net')
    const { spawn } = require('child_process')
    const emu = await emulator()
    let hits = 0
    const proxy = net.createServer((socket) => {
      hits++
      socket.destroy()
    })
    await new Promise((resolve) => proxy.listen(0, '127.0.0.1', resolve))
    const proxyUrl = `http://127.0.0.1:${proxy.address().port}`
    const script = `
      const sdk = require(${JSON.stringify(require.resolve('../index.js'))})
      const [cloudEnv, httpsBaseUrl, app] = JSON.parse(process.argv[1])
      const call = async (options) => {
        const c = new sdk.Cloud()
        c.init(options)
        try {
          return (await c.openapi.tcb.createenvandresource({ type: 'CreatePostpayPackage', alias: 'env-proxy' })).errCode
        } catch (e) {
          return e.errMsg
        }
      }
      ;(async () => {
        const cloud = await call({ env: sdk.DYNAMIC_CURRENT_ENV, processEnv: cloudEnv })
        const https = await call({ ...app, apiBaseUrl: httpsBaseUrl, processEnv: {} })
        process.stdout.write(JSON.stringify({ cloud, https }))
      })()`
    const vars = { HTTP_PROXY: proxyUrl, http_proxy: proxyUrl, HTTPS_PROXY: proxyUrl, https_proxy: proxyUrl, ALL_PROXY: proxyUrl, all_proxy: proxyUrl }
    try {
      const out = await new Promise((resolve, reject) => {
        const child = spawn(process.execPath, ['-e', script, JSON.stringify([emu.cloudEnv(), emu.httpsBaseUrl, APP])], {
          env: { PATH: process.env.PATH, ...vars },
          stdio: ['ignore', 'pipe', 'inherit'],
        })
        let text = ''
        child.stdout.on('data', (c) => {
          text += c
        })
        child.on('error', reject)
        child.on('close', (code) => (code === 0 ? resolve(text) : reject(new Error(`child exited ${code}: ${text}`))))
      })
      expect(JSON.parse(out)).toEqual({ cloud: 0, https: 0 })
      expect(hits).toBe(0)
    } finally {
      proxy.close()
    }
  })
})

describe('choosing the mode', () => {
  test('WX_APPID and WX_APPSECRET in the environment select HTTPS', async () => {
    const emu = await emulator()
    const before = TEXTS.length
    const cloud = new sdk.Cloud()
    cloud.init({ debug: true, processEnv: { WX_APPID: APP.appid, WX_APPSECRET: APP.secret, WX_API_BASE_URL: emu.httpsBaseUrl } })
    const { err } = await create(cloud, ok('env'))
    expect(err).toBeUndefined()
    expect(TEXTS.slice(before).join('\n')).toMatch(/ mode=https /)
  })

  test('in a cloud runtime, WX_APPID and WX_APPSECRET do not switch to HTTPS, even with DYNAMIC_CURRENT_ENV (issue 12 item 1)', async () => {
    const emu = await emulator()
    // The platform sets WX_APPID per invocation; the secret is there for other work.
    const processEnv = { ...emu.cloudEnv(), WX_APPID: APP.appid, WX_APPSECRET: APP.secret, WX_API_BASE_URL: emu.httpsBaseUrl }
    const before = TEXTS.length
    const cloud = new sdk.Cloud()
    cloud.init({ env: sdk.DYNAMIC_CURRENT_ENV, debug: true, processEnv })
    expect((await create(cloud, ok('runtime'))).err).toBeUndefined()
    expect(TEXTS.slice(before).join('\n')).toMatch(/ mode=cloud /)
    const x = sdk.explainConfig({ env: sdk.DYNAMIC_CURRENT_ENV, processEnv })
    expect(x).toMatchObject({ ok: true, mode: 'cloud' })
    expect(x.reason).toMatch(/WX_APPID and WX_APPSECRET are set in the environment too.*mode: 'https'/)
    // `mode` says otherwise: then they are used.
    const https = new sdk.Cloud()
    https.init({ mode: 'https', debug: true, processEnv })
    expect((await create(https, ok('runtime-https'))).err).toBeUndefined()
    expect(TEXTS.slice(before).join('\n')).toMatch(/ mode=https /)
  })

  test('an explicit mode wins over credentials', async () => {
    const emu = await emulator()
    const before = TEXTS.length
    const cloud = new sdk.Cloud()
    cloud.init({ mode: 'cloud', ...APP, apiBaseUrl: emu.httpsBaseUrl, debug: true, processEnv: emu.cloudEnv() })
    expect((await create(cloud, ok('explicit'))).err).toBeUndefined()
    expect(TEXTS.slice(before).join('\n')).toMatch(/ mode=cloud /)
  })

  test('with nothing usable the call rejects saying which settings would work', async () => {
    const cloud = new sdk.Cloud()
    cloud.init({ processEnv: {} })
    const { err } = await create(cloud, ok('none'))
    expect(err).toBeInstanceOf(sdk.CloudSDKError)
    for (const hint of [
      'TENCENTCLOUD_SECRETID',
      'TENCENTCLOUD_SECRETKEY',
      'appid, secret',
      'WX_APPID',
      'accessToken',
      'authorizerAccessToken',
      'componentAppid',
    ]) {
      expect(err.message).toContain(hint)
    }
  })

  test.each([
    [{ mode: 'ftp' }, '`mode`'],
    [{ secret: 'x' }, '`appid`'],
    [{ componentAppid: 'c' }, '`componentAppsecret`'],
    [{ accessToken: 42 }, '`accessToken`'],
    [{ retry: { onBusy: 99 } }, '`retry.onBusy`'],
    [{ proxy: 'socks5://127.0.0.1:1' }, '`proxy`'],
    [{ getComponentVerifyTicket: 'ticket' }, '`getComponentVerifyTicket`'],
  ])('init(%j) names the bad option', (options, name) => {
    expect(() => new sdk.Cloud().init(options)).toThrow(name)
  })
})

test('no secret or token appears in any error message or debug line of the suite', () => {
  expect(TEXTS.length).toBeGreaterThan(50)
  const leaks = []
  for (const text of TEXTS) {
    for (const secret of SECRETS) if (secret && text.includes(secret)) leaks.push([secret, text])
    // every token the emulator issues looks like XX_ + 64 characters
    if (/\b[A-Z]{2}_[A-Za-z0-9_]{64}\b/.test(text)) leaks.push(['token', text])
    if (/access_token=(?!\*\*\*)/.test(text)) leaks.push(['access_token=', text])
  }
  expect(leaks).toEqual([])
})
