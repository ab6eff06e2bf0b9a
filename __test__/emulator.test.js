'use strict'
// The local emulator over raw HTTP (loopback only), with a JS signer that
// shares no code with the Rust one.

const fs = require('fs')
const os = require('os')
const path = require('path')
const { spawn, execFile } = require('child_process')

const { startEmulator } = require('../lib/emulator.js')
const { request, wx, cloudCall } = require('./helpers/emu-client')
const { encodeCommApiData } = require('./helpers/emu-signer')

jest.setTimeout(60000)

const SECRET_ID = 'AKIDjesttest0000000000'
const SECRET_KEY = 'jest-secret-key'
const APP = { appid: 'wxjestapp0000001', secret: 'jest-app-secret' }
const COMPONENT = { componentAppid: 'wxjestcomp000001', componentAppsecret: 'jest-comp-secret' }
const AUTHORIZER = { authorizerAppid: 'wxjestauth000001', refreshToken: 'refresh-0' }
const CREATE = { type: 'CreatePostpayPackage', alias: 'jest-env' }
// An errmsg as WeChat writes it: the message, then ` rid: {8 hex}-{8 hex}-{8 hex}`.
const RID = (msg) => new RegExp(`^${msg} rid: [0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{8}$`)

const baseOptions = {
  secretId: SECRET_ID,
  secretKey: SECRET_KEY,
  appCredentials: [APP],
  componentCredentials: [COMPONENT],
  componentVerifyTicket: 'ticket@@@jest',
  authorizers: [AUTHORIZER],
}

const tmpFiles = []
function tmpFile(name) {
  const p = path.join(os.tmpdir(), `wx-emu-jest-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2)}-${name}`)
  tmpFiles.push(p)
  return p
}

let emu
beforeAll(async () => {
  emu = await startEmulator(baseOptions)
})
afterAll(async () => {
  await emu.close()
  // Each data file and its lock file (`.{name}.lock` beside it, the emulator's).
  for (const f of tmpFiles) {
    fs.rmSync(f, { force: true })
    fs.rmSync(path.join(path.dirname(f), `.${path.basename(f)}.lock`), { force: true })
  }
})
afterEach(() => emu.clearFaults())

const signed = (opts = {}) => cloudCall(emu.url, { secretId: SECRET_ID, secretKey: SECRET_KEY, params: CREATE, ...opts })

async function stableToken(e = emu, force = false) {
  const r = await wx(e.httpsBaseUrl, '/cgi-bin/stable_token', {
    grant_type: 'client_credential',
    appid: APP.appid,
    secret: APP.secret,
    force_refresh: force,
  })
  expect(r.json.access_token).toEqual(expect.any(String))
  return r.json.access_token
}

async function create(e = emu, body = CREATE) {
  const t = await stableToken(e)
  return wx(e.httpsBaseUrl, `/tcb/createenvandresource?access_token=${t}`, body)
}

describe('startEmulator', () => {
  test('url, httpsBaseUrl and cloudEnv point at 127.0.0.1', () => {
    expect(emu.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
    expect(emu.httpsBaseUrl).toBe(emu.url)
    const env = emu.cloudEnv()
    expect(env).toMatchObject({
      TENCENTCLOUD_RUNENV: 'SCF',
      TENCENTCLOUD_SECRETID: SECRET_ID,
      TENCENTCLOUD_SECRETKEY: SECRET_KEY,
      TCB_ENV: 'emulator-env',
      SCF_NAMESPACE: 'emulator-env',
    })
    expect(JSON.parse(env.TCB_CONTEXT_CNFG)).toEqual({ URL: `${emu.url}/admin` })
  })

  test('rejects bad options and fault specs', async () => {
    await expect(startEmulator({ nope: 1 })).rejects.toThrow(/unknown option nope/)
    await expect(startEmulator({ port: 70000 })).rejects.toThrow(/port/)
    await expect(startEmulator({ secretId: 'x' })).rejects.toThrow(/together/)
    expect(() => emu.injectFault({ kind: 'explode' })).toThrow(/invalid fault spec/)
    expect(() => emu.injectFault({ kind: 'delay' })).toThrow(/delay_ms/)
    expect(() => emu.injectFault({ kind: 'errcode', probability: 2 })).toThrow(/probability/)
    expect(() => emu.injectFault({ kind: 'errcode', typo: 1 })).toThrow(/unknown field typo/)
    expect(() => emu.injectFault({ kind: 'status', status: 200 })).toThrow(/5xx/)
    // A misspelt API would never fire: refused, naming it.
    const active = emu.stats().activeFaults
    expect(() => emu.injectFault({ api: 'tcb.createenvandresourc', kind: 'errcode' })).toThrow(
      'invalid fault spec: api "tcb.createenvandresourc" is not an API the emulator knows',
    )
    expect(() => emu.injectFault({ api: '/cgi-bin/token', kind: 'errcode' })).toThrow(/is not an API the emulator knows/)
    expect(emu.stats().activeFaults).toBe(active)
  })

  test('options are checked in Rust: named in the message, never their values; lib/emulator.d.ts declares the same names', async () => {
    const err = await startEmulator({ nope: 1, host: '127.0.0.1' }).catch((e) => e)
    const rust = /^startEmulator\(options\): unknown option nope; the options are (.+)$/.exec(err.message)
    expect(rust).not.toBeNull()
    const dts = fs.readFileSync(path.join(__dirname, '..', 'lib', 'emulator.d.ts'), 'utf8')
    const block = /export interface EmulatorStartOptions \{([\s\S]*?)\n\}/.exec(dts)[1]
    const declared = [...block.matchAll(/^ {2}(\w+)\?:/gm)].map((m) => m[1])
    expect(declared.length).toBeGreaterThan(15)
    expect(declared.sort()).toEqual(rust[1].split(', ').sort())
    // A misspelt option set to undefined is still refused.
    await expect(startEmulator({ prot: undefined })).rejects.toThrow(/unknown option prot;/)
    await expect(startEmulator([])).rejects.toThrow('startEmulator(options): options must be an object')
    for (const [options, msg] of [
      [{ port: -1 }, 'startEmulator(options): port must be an integer within 0..65535, got -1'],
      [{ tokenGraceSecs: 2 ** 32 }, 'tokenGraceSecs must be an integer within 0..4294967295, got 4294967296'],
      [{ dataFile: '' }, 'dataFile must be a non-empty path'],
      [{ secretKey: 'HUSH-1' }, 'secretId and secretKey must be given together'],
      [{ authorizers: 'wxa:HUSH-2' }, 'authorizers must be a sequence, got a string'],
      [{ appCredentials: [{ appid: 'wx1', secret: 'HUSH-3', extra: 1 }] }, 'appCredentials: unknown field `extra`'],
      [{ componentToken: 'HUSH-4' }, 'componentEventUrl, componentEncodingAesKey must be given with componentToken'],
    ]) {
      const e = await startEmulator(options).catch((x) => x)
      expect(e.message).toContain(msg)
      expect(e.message).not.toContain('HUSH')
    }
    // Digit strings are still numbers, and null is "not given".
    const e2 = await startEmulator({ port: '0', tokenLifetimeSecs: '60', host: null, dataFile: undefined })
    try {
      expect(e2.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
    } finally {
      await e2.close()
    }
  })
})

describe('HTTPS door: tcb.createenvandresource', () => {
  test('creates an environment {alias}-{6 [a-z0-9]}', async () => {
    const r = await create()
    expect(r.status).toBe(200)
    expect(r.headers['content-type']).toBe('application/json; charset=utf-8')
    expect(Object.keys(r.json)).toEqual(['errcode', 'errmsg', 'envid'])
    expect(r.json).toMatchObject({ errcode: 0, errmsg: 'ok' })
    expect(r.json.envid).toMatch(/^jest-env-[a-z0-9]{6}$/)
    expect(emu.environments().map((e) => e.env)).toContain(r.json.envid)
  })

  test('every documented error code', async () => {
    const t = await stableToken()
    const p = `/tcb/createenvandresource?access_token=${t}`
    const code = async (pq, body, method) => (await wx(emu.httpsBaseUrl, pq, body, method)).json.errcode
    expect(await code(p, undefined, 'GET')).toBe(43002)
    expect(await code('/tcb/createenvandresource', CREATE)).toBe(41001)
    expect(await code('/tcb/createenvandresource?access_token=', CREATE)).toBe(41001)
    expect(await code('/tcb/createenvandresource?access_token=not-a-token', CREATE)).toBe(40014)
    expect(await code(p, { alias: 'x' })).toBe(40101)
    expect(await code(p, { type: 'CreatePostpayPackage' })).toBe(40101)
    expect(await code(p, {})).toBe(40101)
    expect(await code(p, { type: 'Other', alias: 'x' })).toBe(40097)
    expect(await code(p, { type: 'CreatePostpayPackage', alias: 42 })).toBe(40097)
    expect(await code(p, { type: ['CreatePostpayPackage'], alias: 'x' })).toBe(40097)
    expect(await code(p, { type: 'CreatePostpayPackage', alias: 'bad alias!' })).toBe(40097)
    expect(await code(p, '{not json')).toBe(47001)
    expect(await code(p, '[]')).toBe(47001)
    // An empty POST body is WeChat's 44002, at every POST endpoint.
    expect(await code(p, '')).toBe(44002)
    expect(await code('/cgi-bin/stable_token', '')).toBe(44002)
    const r = await wx(emu.httpsBaseUrl, '/tcb/createenvandresource?access_token=x', CREATE)
    // WeChat's errmsg ends with the request id.
    expect(r.json).toEqual({ errcode: 40014, errmsg: expect.stringMatching(RID('invalid access_token')) })
  })

  test('42001 for an expired token', async () => {
    const short = await startEmulator({ ...baseOptions, tokenLifetimeSecs: 1 })
    try {
      const t = await stableToken(short)
      await new Promise((r) => setTimeout(r, 1100))
      const r = await wx(short.httpsBaseUrl, `/tcb/createenvandresource?access_token=${t}`, CREATE)
      expect(r.json).toEqual({ errcode: 42001, errmsg: expect.stringMatching(RID('access_token expired')) })
      expect(short.environments()).toEqual([])
    } finally {
      await short.close()
    }
  })

  test('describeenvs lists environments', async () => {
    const created = (await create()).json.envid
    const t = await stableToken()
    const r = await wx(emu.httpsBaseUrl, `/tcb/describeenvs?access_token=${t}`, {})
    expect(r.json.errcode).toBe(0)
    const info = r.json.info_list.find((e) => e.env === created)
    expect(info).toEqual({ env: created, alias: 'jest-env', create_time: expect.any(Number), status: 'NORMAL' })
  })

  test('unknown paths are 404, bodies over 12 MB are 413', async () => {
    expect((await request(`${emu.url}/nope`)).status).toBe(404)
    const big = await request(`${emu.url}/tcb/createenvandresource?access_token=x`, {
      method: 'POST',
      headers: { 'content-length': 13 * 1024 * 1024 },
    })
    expect(big.dropped ? 413 : big.status).toBe(413)
  })
})

describe('HTTPS door: tokens', () => {
  const classic = (q) => wx(emu.httpsBaseUrl, `/cgi-bin/token?${q}`, undefined, 'GET')

  test('/cgi-bin/token: a new token each call, documented failures', async () => {
    const q = `grant_type=client_credential&appid=${APP.appid}&secret=${APP.secret}`
    const a = (await classic(q)).json
    const b = (await classic(q)).json
    expect(a.expires_in).toBe(7200)
    expect(a.access_token).not.toBe(b.access_token)
    // The previous one is still valid during the grace period.
    const r = await wx(emu.httpsBaseUrl, `/tcb/createenvandresource?access_token=${a.access_token}`, {})
    expect(r.json.errcode).toBe(40101) // token accepted; the body lacks type and alias
    expect((await classic(`grant_type=client_credential&appid=wxnobody&secret=x`)).json.errcode).toBe(40013)
    expect((await classic(`grant_type=client_credential&appid=${APP.appid}&secret=wrong`)).json.errcode).toBe(40125)
    expect((await classic(`grant_type=x&appid=${APP.appid}&secret=${APP.secret}`)).json.errcode).toBe(40002)
    expect((await classic(`grant_type=client_credential&secret=x`)).json.errcode).toBe(41002)
    expect((await classic(`grant_type=client_credential&appid=${APP.appid}`)).json.errcode).toBe(41004)
    expect((await wx(emu.httpsBaseUrl, `/cgi-bin/token?${q}`, {}, 'POST')).json.errcode).toBe(43001)
  })

  test('/cgi-bin/stable_token: same token while valid, force_refresh with grace', async () => {
    const e = await startEmulator({ ...baseOptions, tokenGraceSecs: 1 })
    try {
      const a = await stableToken(e)
      expect(await stableToken(e)).toBe(a)
      const b = await stableToken(e, true)
      expect(b).not.toBe(a)
      expect(await stableToken(e)).toBe(b)
      const use = (t) => wx(e.httpsBaseUrl, `/tcb/createenvandresource?access_token=${t}`, CREATE)
      expect((await use(a)).json.errcode).toBe(0) // old token within its grace period
      await new Promise((r) => setTimeout(r, 1100))
      expect((await use(a)).json.errcode).toBe(40001) // replaced, grace over
      expect((await use(b)).json.errcode).toBe(0)
      expect(e.stats().tokensIssued).toEqual({ stable: 2 })
      const bad = await wx(e.httpsBaseUrl, '/cgi-bin/stable_token', {
        grant_type: 'client_credential',
        appid: APP.appid,
        secret: 'wrong',
      })
      expect(bad.json.errcode).toBe(40125)
      expect((await wx(e.httpsBaseUrl, '/cgi-bin/stable_token', undefined, 'GET')).json.errcode).toBe(43002)
    } finally {
      await e.close()
    }
  })

  const componentToken = async (server, ticket = 'ticket@@@jest') =>
    wx(server.httpsBaseUrl, '/cgi-bin/component/api_component_token', {
      component_appid: COMPONENT.componentAppid,
      component_appsecret: COMPONENT.componentAppsecret,
      component_verify_ticket: ticket,
    })
  const authorizerToken = (server, ct, refresh) =>
    wx(server.httpsBaseUrl, `/cgi-bin/component/api_authorizer_token?component_access_token=${ct}`, {
      component_appid: COMPONENT.componentAppid,
      authorizer_appid: AUTHORIZER.authorizerAppid,
      authorizer_refresh_token: refresh,
    })

  test('component and authorizer tokens; the refresh token stays the same by default', async () => {
    expect((await componentToken(emu, 'wrong')).json.errcode).toBe(61006)
    const ct = (await componentToken(emu)).json.component_access_token
    expect(ct).toEqual(expect.any(String))
    const first = (await authorizerToken(emu, ct, 'refresh-0')).json
    expect(first).toEqual({
      authorizer_access_token: expect.any(String),
      expires_in: 7200,
      authorizer_refresh_token: 'refresh-0',
    })
    // WeChat: valid until the authorizer is authorized again; renewing twice works.
    const second = (await authorizerToken(emu, ct, 'refresh-0')).json
    expect(second.authorizer_refresh_token).toBe('refresh-0')
    expect(second.authorizer_access_token).not.toBe(first.authorizer_access_token)
    expect((await authorizerToken(emu, ct, 'refresh-x')).json.errcode).toBe(61023)
    expect((await authorizerToken(emu, 'bogus', 'refresh-0')).json.errcode).toBe(40014)
    const r = await wx(emu.httpsBaseUrl, `/tcb/createenvandresource?access_token=${second.authorizer_access_token}`, {
      type: 'CreatePostpayPackage',
      alias: 'third-party',
    })
    expect(r.json.envid).toMatch(/^third-party-/)
  })

  test('rotateRefreshTokens: every renewal replaces the refresh token and refuses the old one', async () => {
    const rotating = await startEmulator({ ...baseOptions, rotateRefreshTokens: true })
    try {
      const ct = (await componentToken(rotating)).json.component_access_token
      const first = (await authorizerToken(rotating, ct, 'refresh-0')).json
      expect(first.authorizer_refresh_token).toMatch(/^refreshtoken@@@/)
      expect((await authorizerToken(rotating, ct, 'refresh-0')).json.errcode).toBe(61023)
      const second = (await authorizerToken(rotating, ct, first.authorizer_refresh_token)).json
      expect(second.authorizer_access_token).toEqual(expect.any(String))
    } finally {
      await rotating.close()
    }
    await expect(startEmulator({ rotateRefreshTokens: 'yes' })).rejects.toThrow(/rotateRefreshTokens must be a boolean/)
  })
})

describe('gateway door', () => {
  test('a signed cloud call creates an environment', async () => {
    const r = await signed({ params: { type: 'CreatePostpayPackage', alias: 'gw' } })
    expect(r.headers['content-type']).toBe('application/octet-stream')
    expect(r.resp.contentType).toBe('application/json; charset=utf-8')
    expect(r.resp.errorCode).toBe(0)
    expect(r.wechat).toMatchObject({ errcode: 0, errmsg: 'ok' })
    expect(r.wechat.envid).toMatch(/^gw-[a-z0-9]{6}$/)
    const rec = emu.environments().find((e) => e.env === r.wechat.envid)
    expect(rec.createdVia).toBe('gateway')
  })

  test('WeChat errors come back inside CommOpenApiResp', async () => {
    expect((await signed({ params: { alias: 'x' } })).wechat).toEqual({ errcode: 40101, errmsg: expect.stringMatching(RID('missing parameter')) })
    expect((await signed({ params: { type: 'x', alias: 'x' } })).wechat.errcode).toBe(40097)
  })

  test('signature rejection: bad signature, unknown secretId, stale timestamp, tampered body', async () => {
    const expectGw = (r, code) => {
      expect(r.status).toBe(200)
      expect(r.headers['content-type']).toBe('application/json; charset=utf-8')
      expect(r.gatewayError).toEqual({ code, message: expect.any(String), requestId: expect.any(String) })
    }
    expectGw(await signed({ secretKey: 'wrong' }), 'INVALID_REQUEST_SOURCE')
    expectGw(await signed({ secretId: 'AKIDunknown' }), 'INVALID_REQUEST_SOURCE')
    expectGw(await signed({ timestamp: Math.floor(Date.now() / 1000) - 700 }), 'INVALID_REQUEST_SOURCE')
    expectGw(await signed({ timestamp: Math.floor(Date.now() / 1000) + 700 }), 'INVALID_REQUEST_SOURCE')
    const tampered = await signed({
      tamper: (body) => Buffer.from(body.toString('latin1').replace('"jest-env"', '"evil-env"'), 'latin1'),
    })
    expectGw(tampered, 'INVALID_REQUEST_SOURCE')
    expect(emu.environments().some((e) => e.alias === 'evil-env')).toBe(false)
    const noAuth = await request(`${emu.url}/admin?env=emulator-env&seqId=1`, {
      method: 'POST',
      headers: { 'content-type': 'multipart/form-data; boundary=x' },
      body: '--x--\r\n',
    })
    expect(JSON.parse(noAuth.body).code).toBe('INVALID_COMMON_PARAM')
  })

  test('platform codes: -604100 unknown API, -604101 not allowed; wrong action; unknown env', async () => {
    expect((await signed({ apiName: 'tcb.nothing' })).resp.errorCode).toBe(-604100)
    expect((await signed({ action: 'wx.other' })).gatewayError.code).toBe('INVALID_PARAM')
    expect((await signed({ envName: 'no-such-env' })).gatewayError.code).toBe('INVALIID_ENV')
    expect((await signed({ requestData: Buffer.from([0xff, 0xff]) })).gatewayError.code).toBe('INVALID_PARAM')
    const limited = await startEmulator({ ...baseOptions, allowedApis: ['tcb.describeenvs'] })
    try {
      const call = (apiName) => cloudCall(limited.url, { secretId: SECRET_ID, secretKey: SECRET_KEY, params: CREATE, apiName })
      expect((await call('tcb.createenvandresource')).resp.errorCode).toBe(-604101)
      expect((await call('tcb.describeenvs')).wechat.errcode).toBe(0)
    } finally {
      await limited.close()
    }
  })

  test('a misspelt API in a cloud call: -604100, errMsg as the reference has it, the message names the API', async () => {
    const sdk = require('..')
    const c = new sdk.Cloud()
    c.init({ processEnv: emu.cloudEnv() })
    const err = await c.openapi.tcb.createenvandresourc(CREATE).catch((e) => e)
    expect(err).toBeInstanceOf(sdk.CloudSDKError)
    expect(err.errCode).toBe(-604100)
    expect(err.errMsg).toBe('system error: error code: -604100') // recorded in ../shared/conformance
    expect(Object.keys(err)).toEqual(['errCode', 'errMsg'])
    expect(err.message).toBe(
      'errCode: -604100 API not found | errMsg: system error: error code: -604100 | the platform has no API named ' +
        "openapi.tcb.createenvandresourc: check its spelling (names are case-sensitive), and that WeChat's page for it " +
        'says it supports cloud calls (本接口支持云调用)',
    )
    // Other platform codes keep the recorded message alone.
    const limited = await startEmulator({ ...baseOptions, allowedApis: ['tcb.describeenvs'] })
    try {
      const d = new sdk.Cloud()
      d.init({ processEnv: limited.cloudEnv() })
      const denied = await d.openapi.tcb.createenvandresource(CREATE).catch((e) => e)
      expect(denied.message).toBe('errCode: -604101 function has no permission to call this API | errMsg: system error: error code: -604101')
    } finally {
      await limited.close()
    }
  })
})

describe('one state behind both doors', () => {
  test('created through either door, seen through both', async () => {
    const e = await startEmulator(baseOptions)
    try {
      const viaGw = (await cloudCall(e.url, { secretId: SECRET_ID, secretKey: SECRET_KEY, params: CREATE })).wechat.envid
      const viaHttps = (await create(e)).json.envid
      const t = await stableToken(e)
      const listed = (await wx(e.httpsBaseUrl, `/tcb/describeenvs?access_token=${t}`, {})).json.info_list.map((x) => x.env)
      expect(listed).toEqual([viaGw, viaHttps])
      const gwList = await cloudCall(e.url, {
        secretId: SECRET_ID,
        secretKey: SECRET_KEY,
        apiName: 'tcb.describeenvs',
        params: {},
      })
      expect(gwList.wechat.info_list.map((x) => x.env)).toEqual([viaGw, viaHttps])
      // A created environment is a valid envName for later cloud calls.
      const inNew = await cloudCall(e.url, { secretId: SECRET_ID, secretKey: SECRET_KEY, params: CREATE, envName: viaHttps })
      expect(inNew.wechat.errcode).toBe(0)
      expect(e.stats()).toMatchObject({
        calls: {
          'gateway:tcb.createenvandresource': 2,
          'gateway:tcb.describeenvs': 1,
          'https:tcb.createenvandresource': 1,
          'https:tcb.describeenvs': 1,
          'https:cgi-bin.stable_token': 2,
        },
        environments: 3,
      })
    } finally {
      await e.close()
    }
  })
})

describe('faults', () => {
  const count = () => emu.environments().length

  test('errcode -1 and -1000 at both doors, without creating anything', async () => {
    const before = count()
    emu.injectFault({ api: 'tcb.createenvandresource', kind: 'errcode', errcode: -1, times: 1 })
    expect((await signed()).wechat).toEqual({ errcode: -1, errmsg: 'system error' })
    emu.injectFault({ api: 'tcb.createenvandresource', kind: 'errcode', errcode: -1000, times: 1 })
    expect((await create()).json).toEqual({ errcode: -1000, errmsg: 'system error' })
    expect(count()).toBe(before + 0)
    expect((await signed()).wechat.errcode).toBe(0) // spent
  })

  test('delay', async () => {
    emu.injectFault({ api: 'tcb.createenvandresource', kind: 'delay', delayMs: 300, times: 1 })
    const t0 = Date.now()
    expect((await signed()).wechat.errcode).toBe(0)
    expect(Date.now() - t0).toBeGreaterThanOrEqual(290)
  })

  test('drop_before: no answer, nothing created', async () => {
    const before = count()
    emu.injectFault({ kind: 'drop_before', times: 1 })
    const r = await signed()
    expect(r.dropped).toBe(true)
    expect(count()).toBe(before)
  })

  test('drop_after: no answer, but the environment was created', async () => {
    const before = count()
    emu.injectFault({ api: 'tcb.createenvandresource', kind: 'drop_after', times: 1, door: 'https' })
    const r = await create()
    expect(r.dropped).toBe(true)
    expect(count()).toBe(before + 1)
  })

  test('status 5xx', async () => {
    const before = count()
    emu.injectFault({ api: 'tcb.createenvandresource', kind: 'status', status: 502, times: 2 })
    expect((await signed()).status).toBe(502)
    expect((await create()).status).toBe(502)
    emu.injectFault({ api: 'tcb.createenvandresource', kind: 'status', times: 1 })
    expect((await signed()).status).toBe(503)
    expect(count()).toBe(before)
  })

  test('malformed body at both doors', async () => {
    emu.injectFault({ api: 'tcb.createenvandresource', kind: 'malformed', times: 1, door: 'gateway' })
    await expect(signed()).rejects.toThrow(/wire type|truncated/)
    emu.injectFault({ api: 'tcb.createenvandresource', kind: 'malformed', times: 1, door: 'https' })
    const r = await create()
    expect(r.status).toBe(200)
    expect(r.json).toBeUndefined()
    expect(() => JSON.parse(r.body)).toThrow()
  })

  test('truncated body', async () => {
    emu.injectFault({ api: 'tcb.createenvandresource', kind: 'truncated', times: 1 })
    const r = await signed()
    expect(r.dropped).toBe(true)
    expect(r.status).toBe(200)
  })

  test('seeded probability is repeatable', async () => {
    const run = async () => {
      const e = await startEmulator(baseOptions)
      try {
        e.injectFault({ api: 'tcb.describeenvs', kind: 'errcode', errcode: -1, probability: 0.5, seed: 7 })
        const t = await stableToken(e)
        const out = []
        for (let i = 0; i < 20; i++) {
          out.push((await wx(e.httpsBaseUrl, `/tcb/describeenvs?access_token=${t}`, {})).json.errcode)
        }
        return out
      } finally {
        await e.close()
      }
    }
    const a = await run()
    expect(await run()).toEqual(a)
    expect(a).toContain(-1)
    expect(a).toContain(0)
  })

  test('clearFaults removes standing faults', async () => {
    emu.injectFault({ kind: 'errcode' })
    expect((await signed()).wechat.errcode).toBe(-1)
    expect(emu.stats().activeFaults).toBe(1)
    emu.clearFaults()
    expect((await signed()).wechat.errcode).toBe(0)
  })
})

describe('durability', () => {
  test('a second emulator on the same dataFile (another process) refuses to start, naming the file; the first keeps its environments', async () => {
    const dataFile = tmpFile('locked.json')
    const first = await startEmulator({ dataFile })
    try {
      const before = fs.readFileSync(dataFile, 'utf8')
      const child = spawn(process.execPath, [path.join(__dirname, 'helpers', 'emu-child.js'), dataFile], { stdio: ['ignore', 'pipe', 'pipe'] })
      let stderr = ''
      child.stderr.on('data', (d) => (stderr += d))
      const code = await new Promise((resolve) => child.on('exit', resolve))
      expect(code).toBe(1)
      expect(stderr).toContain(`data file ${dataFile} is in use by another emulator`)
      // The refused emulator wrote nothing and removed none of the first one's files.
      expect(fs.readFileSync(dataFile, 'utf8')).toBe(before)
      // In this process too.
      await expect(startEmulator({ dataFile })).rejects.toThrow(/in use by another emulator/)
    } finally {
      await first.close()
    }
    // Closed: the file is free again.
    const again = await startEmulator({ dataFile })
    await again.close()
  })

  test('every answered creation survives SIGKILL', async () => {
    const dataFile = tmpFile('durable.json')
    const child = spawn(process.execPath, [path.join(__dirname, 'helpers', 'emu-child.js'), dataFile], {
      stdio: ['ignore', 'pipe', 'inherit'],
    })
    try {
      const url = await new Promise((resolve, reject) => {
        let buf = ''
        child.stdout.on('data', (d) => {
          buf += d
          const nl = buf.indexOf('\n')
          if (nl >= 0) resolve(JSON.parse(buf.slice(0, nl)).url)
        })
        child.on('exit', (c) => reject(new Error(`child exited ${c}`)))
      })
      const answered = []
      let stop = false
      const worker = async (w) => {
        while (!stop) {
          const r = await cloudCall(url, {
            secretId: 'AKIDemulatortestsecretid0000000000',
            secretKey: 'emulator-test-secret-key',
            params: { type: 'CreatePostpayPackage', alias: `d${w}` },
          })
          if (r.dropped) return
          if (r.wechat && r.wechat.errcode === 0) answered.push(r.wechat.envid)
        }
      }
      const workers = Array.from({ length: 8 }, (_, w) => worker(w))
      while (answered.length < 150) await new Promise((r) => setTimeout(r, 10))
      child.kill('SIGKILL')
      stop = true
      await Promise.all(workers)
      await new Promise((r) => (child.exitCode !== null || child.signalCode !== null ? r() : child.on('exit', r)))

      const reloaded = await startEmulator({ dataFile })
      try {
        const onDisk = new Set(reloaded.environments().map((e) => e.env))
        const missing = answered.filter((id) => !onDisk.has(id))
        expect(missing).toEqual([])
        expect(onDisk.size).toBeGreaterThanOrEqual(answered.length)
        // A temp file the kill left half-written is cleaned up at start.
        const prefix = `.${path.basename(dataFile)}.tmp-`
        expect(fs.readdirSync(path.dirname(dataFile)).filter((n) => n.startsWith(prefix))).toEqual([])
      } finally {
        await reloaded.close()
      }
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    }
  })

  test('creations are grouped into fewer writes', async () => {
    const e = await startEmulator({ ...baseOptions, dataFile: tmpFile('group.json') })
    try {
      const t = await stableToken(e)
      const rs = await Promise.all(Array.from({ length: 30 }, () => wx(e.httpsBaseUrl, `/tcb/createenvandresource?access_token=${t}`, CREATE)))
      expect(rs.every((r) => r.json.errcode === 0)).toBe(true)
      const s = e.stats()
      expect(s.environments).toBe(30)
      expect(s.durableWrites).toBeLessThanOrEqual(30)
      expect(s.durableWrites).toBeGreaterThanOrEqual(1)
    } finally {
      await e.close()
    }
  })
})

describe('process lifetime', () => {
  const LIB = JSON.stringify(path.join(__dirname, '..', 'lib', 'emulator.js'))
  const run = (body) =>
    spawn(process.execPath, ['-e', `require(${LIB}).startEmulator().then((emu) => { ${body} })`], {
      stdio: ['ignore', 'pipe', 'inherit'],
    })
  const firstLine = (child) =>
    new Promise((resolve) => {
      let out = ''
      child.stdout.on('data', (d) => {
        out += d
        if (out.includes('\n')) resolve(out.split('\n')[0])
      })
    })
  const exited = (child) => new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })))

  test('a listening emulator keeps node alive until close(), as an http server does', async () => {
    // Nothing else holds the event loop: a signal listener does not.
    const child = run(`
      process.on('SIGTERM', () => emu.close().then(() => console.log('closed')))
      console.log(emu.url)`)
    const exit = exited(child)
    const url = await firstLine(child)
    // Well past the 0.15 s after which the process used to exit.
    await new Promise((r) => setTimeout(r, 1000))
    expect((await request(`${url}/`)).status).toBe(200)
    child.kill('SIGTERM')
    // Exits by itself (code 0, not killed) once close() has released it.
    expect(await exit).toEqual({ code: 0, signal: null })
  })

  test('unref(): the process exits while the emulator listens', async () => {
    const child = run(`console.log(emu.unref() === emu ? 'unref' : 'not the emulator')`)
    const exit = exited(child)
    expect(await firstLine(child)).toBe('unref')
    expect(await exit).toEqual({ code: 0, signal: null })
  })
})

describe('reference wx-server-sdk', () => {
  const runSdk = (env, alias = 'sdk-env') =>
    new Promise((resolve, reject) =>
      execFile(
        process.execPath,
        [path.join(__dirname, 'helpers', 'emu-sdk-fn.js'), alias],
        { env, timeout: 30000, cwd: path.join(__dirname, '..') },
        (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(JSON.parse(stdout.trim().split('\n').pop()))),
      ),
    )

  test('sees faults and gateway errors as the platform would report them', async () => {
    const e = await startEmulator()
    try {
      e.injectFault({ api: 'tcb.createenvandresource', kind: 'errcode', errcode: -1, times: 1 })
      expect(await runSdk(e.cloudEnv())).toEqual({
        ok: false,
        errCode: -1,
        errMsg: 'openapi.tcb.createenvandresource:fail system error',
      })
      const wrongKey = { ...e.cloudEnv(), TENCENTCLOUD_SECRETKEY: 'not-the-key' }
      expect(await runSdk(wrongKey)).toMatchObject({ ok: false, errCode: -501008 })
      expect(e.environments()).toEqual([])
    } finally {
      await e.close()
    }
  })

  test('creates an environment with only cloudEnv() as its environment', async () => {
    const e = await startEmulator()
    try {
      const r = await runSdk(e.cloudEnv())
      expect(r.ok).toBe(true)
      expect(r.value).toEqual({
        envid: expect.stringMatching(/^sdk-env-[a-z0-9]{6}$/),
        errMsg: 'openapi.tcb.createenvandresource:ok',
        errCode: 0,
      })
      expect(e.environments().map((x) => x.env)).toEqual([r.value.envid])
    } finally {
      await e.close()
    }
  })
})

describe('cli', () => {
  const run = (args) =>
    new Promise((resolve) =>
      execFile(process.execPath, [path.join(__dirname, '..', 'cli.js'), ...args], { timeout: 10000 }, (err, stdout, stderr) =>
        resolve({ code: err ? err.code : 0, stdout, stderr }),
      ),
    )

  test('--help exits 0, unknown commands exit 2', async () => {
    const help = await run(['--help'])
    expect(help.code).toBe(0)
    expect(help.stdout).toMatch(/Usage: wx-cloud-openapi/)
    const bad = await run(['frobnicate'])
    expect(bad.code).toBe(2)
    expect(bad.stderr).toMatch(/unknown command frobnicate/)
    expect((await run([])).code).toBe(2)
    expect((await run(['emulator', '--bogus'])).code).toBe(2)
  })

  test('emulator prints export lines and stops on SIGTERM', async () => {
    const child = spawn(process.execPath, [path.join(__dirname, '..', 'cli.js'), 'emulator', '--env-id', 'cli-env'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    })
    let out = ''
    await new Promise((resolve) =>
      child.stdout.on('data', (d) => {
        out += d
        if (out.includes('TENCENTCLOUD_SESSIONTOKEN')) resolve()
      }),
    )
    expect(out).toMatch(/listening on http:\/\/127\.0\.0\.1:\d+/)
    expect(out).toMatch(/^export TCB_ENV='cli-env'$/m)
    const code = await new Promise((resolve) => {
      child.on('exit', (c) => resolve(c))
      child.kill('SIGTERM')
    })
    expect(code).toBe(0)
  })
})

// Keep the encoder honest against the recorded reference bytes.
test('the test encoder matches the reference requestData', () => {
  const hex = encodeCommApiData({ type: 'CreatePostpayPackage', alias: 'test-env' }).toString('hex')
  expect(hex).toBe('080012350a1e0a0474797065121622437265617465506f73747061795061636b616765220a130a05616c696173120a22746573742d656e7622')
})
