'use strict'
// Clients written elsewhere, unchanged except for their documented base-URL
// settings, against the emulator (loopback):
// - the gateway: @cloudbase/node-sdk (callCompatibleWxOpenApi: wx.openApi,
//   multipart; callWxOpenApi: wx.api, JSON), tcb-admin-node with its default
//   v2 signature (a body field) and with v3 (TC3, requestData left unsigned);
// - the WeChat door: co-wechat-api and wechat-api, including token expiry and
//   their 40001/42001 recovery; and Python's wechatpy 1.8.18 (client and
//   component client), from a virtual environment this suite makes once
//   under node_modules/.cache (python3 and PyPI needed; about 15 s).

const fs = require('fs')
const path = require('path')
const { execFileSync, execFile } = require('child_process')

const { startEmulator } = require('../lib/emulator.js')
const { encodeCommApiData, decodeCommOpenApiResp } = require('./helpers/emu-signer')

jest.setTimeout(60000)

const SECRET_ID = 'AKIDforeignclients000000'
const SECRET_KEY = 'foreign-clients-secret-key'
const APP = { appid: 'wxforeignapp0001', secret: 'foreign-app-secret' }
const CREATE = { type: 'CreatePostpayPackage', alias: 'foreign' }

let emu
const savedEnv = { ...process.env }
beforeAll(async () => {
  emu = await startEmulator({
    secretId: SECRET_ID,
    secretKey: SECRET_KEY,
    appCredentials: [APP],
    envId: 'foreign-env',
  })
  // Outside a cloud function: these SDKs must not probe a metadata host.
  for (const k of [
    'TENCENTCLOUD_RUNENV',
    'TENCENTCLOUD_SECRETID',
    'TENCENTCLOUD_SECRETKEY',
    'TENCENTCLOUD_SESSIONTOKEN',
    'TCB_CONTEXT_CNFG',
    'SCF_NAMESPACE',
    'TCB_ENV',
  ]) {
    delete process.env[k]
  }
})
afterAll(async () => {
  process.env = savedEnv
  await emu.close()
})

const calls = (name) => emu.stats().calls[name] || 0

describe('@cloudbase/node-sdk 3.18.3', () => {
  const tcb = require('@cloudbase/node-sdk')
  const app = () => tcb.init({ secretId: SECRET_ID, secretKey: SECRET_KEY, env: 'foreign-env', serviceUrl: `${emu.url}/admin`, timeout: 10000 })

  test('callCompatibleWxOpenApi (wx.openApi, multipart) creates an environment', async () => {
    const res = await app().callCompatibleWxOpenApi({
      apiName: 'tcb.createenvandresource',
      requestData: encodeCommApiData({ ...CREATE, alias: 'nodesdk' }),
    })
    expect(Buffer.isBuffer(res)).toBe(true)
    const resp = decodeCommOpenApiResp(res)
    const wechat = JSON.parse(resp.respData.toString())
    expect(wechat).toMatchObject({ errcode: 0, errmsg: 'ok' })
    expect(emu.environments().map((e) => e.env)).toContain(wechat.envid)
  })

  test('callWxOpenApi (wx.api, JSON body) is served as the gateway does', async () => {
    const res = await app().callWxOpenApi({ apiName: 'tcb.createenvandresource', requestData: { ...CREATE, alias: 'wxapi' } })
    expect(res.requestId).toMatch(/^[0-9a-f]{16}$/)
    expect(res.result).toMatchObject({ errcode: 0, errmsg: 'ok', envid: expect.stringMatching(/^wxapi-[a-z0-9]{6}$/) })
    const listed = await app().callWxOpenApi({ apiName: 'tcb.describeenvs' })
    expect(listed.result.info_list.map((e) => e.env)).toContain(res.result.envid)
    // A WeChat error travels inside responseData.
    const bad = await app().callWxOpenApi({ apiName: 'tcb.createenvandresource', requestData: { alias: 'x' } })
    expect(bad.result).toMatchObject({ errcode: 40101 })
  })

  test('a wrong key is refused', async () => {
    const wrong = tcb.init({ secretId: SECRET_ID, secretKey: 'not-the-key', env: 'foreign-env', serviceUrl: `${emu.url}/admin`, timeout: 10000 })
    await expect(wrong.callWxOpenApi({ apiName: 'tcb.describeenvs' })).rejects.toMatchObject({
      code: 'INVALID_REQUEST_SOURCE',
      message: 'signature mismatch',
    })
  })
})

describe('tcb-admin-node 1.23.0', () => {
  const tcb = require('tcb-admin-node')
  const admin = (signMethod, secretKey = SECRET_KEY) =>
    tcb.init({ secretId: SECRET_ID, secretKey, env: 'foreign-env', serviceUrl: `${emu.url}/admin`, signMethod, timeout: 10000 })

  for (const signMethod of ['v2', 'v3']) {
    test(`${signMethod}: callCompatibleWxOpenApi and callWxOpenApi are served`, async () => {
      const before = calls('gateway:tcb.createenvandresource')
      const buf = await admin(signMethod).callCompatibleWxOpenApi({
        apiName: 'tcb.createenvandresource',
        requestData: encodeCommApiData({ ...CREATE, alias: `admin-${signMethod}` }),
      })
      const wechat = JSON.parse(decodeCommOpenApiResp(buf).respData.toString())
      expect(wechat).toMatchObject({ errcode: 0, errmsg: 'ok', envid: expect.stringMatching(new RegExp(`^admin-${signMethod}-`)) })
      const res = await admin(signMethod).callWxOpenApi({ apiName: 'tcb.describeenvs', requestData: {} })
      expect(res.result.info_list.map((e) => e.env)).toContain(wechat.envid)
      expect(calls('gateway:tcb.createenvandresource')).toBe(before + 1)
    })

    test(`${signMethod}: a wrong key is refused, and counted`, async () => {
      const before = calls('gateway:tcb.describeenvs')
      const res = await admin(signMethod, 'wrong-key').callWxOpenApi({ apiName: 'tcb.describeenvs', requestData: {} })
      expect(res).toMatchObject({ code: 'INVALID_REQUEST_SOURCE', message: 'signature mismatch' })
      const buf = await admin(signMethod, 'wrong-key').callCompatibleWxOpenApi({
        apiName: 'tcb.describeenvs',
        requestData: encodeCommApiData({}),
      })
      // An error answer is JSON; tcb-admin-node hands it back parsed.
      expect(buf).toMatchObject({ code: 'INVALID_REQUEST_SOURCE', message: 'signature mismatch' })
      expect(calls('gateway:tcb.describeenvs')).toBe(before + 2)
    })
  }

  test('an unsupported action is named in the answer', async () => {
    const t = admin('v3')
    const res = await t.callFunction({ name: 'f', data: {} }).catch((e) => e)
    expect(JSON.stringify(res)).toContain('action \\"functions.invokeFunction\\" is not supported')
  })
})

describe('co-wechat-api 3.11.0 (WeChat door)', () => {
  const API = require('co-wechat-api')
  const { postJSON } = require('co-wechat-api/lib/util')
  // The library's own extension point (API.mixin) adds the call; its
  // documented base URL is `prefix`.
  if (!API.prototype.createEnvAndResource) {
    API.mixin({
      async createEnvAndResource(params) {
        const { accessToken } = await this.ensureAccessToken()
        const url = `${this.prefix.replace(/cgi-bin\/$/, '')}tcb/createenvandresource?access_token=${accessToken}`
        return this.request(url, postJSON(params))
      },
    })
  }
  const client = (store) => {
    const api = new API(APP.appid, APP.secret, store && (async () => store.token), store && (async (t) => (store.token = t)))
    api.prefix = `${emu.url}/cgi-bin/`
    return api
  }

  test('a call gets a token and creates an environment', async () => {
    const r = await client().createEnvAndResource({ ...CREATE, alias: 'co' })
    expect(r).toMatchObject({ errcode: 0, errmsg: 'ok', envid: expect.stringMatching(/^co-/) })
  })

  test('42001 (expired) and 40001 (replaced) are recovered by a new token', async () => {
    const short = await startEmulator({ appCredentials: [APP], tokenLifetimeSecs: 1, tokenGraceSecs: 0 })
    try {
      // The store says the token is good for an hour, so the client uses it
      // until WeChat (the emulator) says otherwise.
      const store = {}
      const api = client(store)
      api.prefix = `${short.url}/cgi-bin/`
      const hold = async () => {
        const t = await api.getAccessToken()
        store.token = { accessToken: t.accessToken, expireTime: Date.now() + 3600e3 }
        return t.accessToken
      }
      const first = await hold()
      // Past the 1 s lifetime on the emulator's clock.
      await new Promise((r) => setTimeout(r, 1100))
      const r1 = await api.createEnvAndResource({ ...CREATE, alias: 'expired' })
      expect(r1).toMatchObject({ errcode: 0 })
      expect(store.token.accessToken).not.toBe(first)
      // Another process takes a new token: ours is replaced, grace 0 → 40001.
      const mine = await hold()
      const other = client()
      other.prefix = `${short.url}/cgi-bin/`
      await other.getAccessToken()
      const r2 = await api.createEnvAndResource({ ...CREATE, alias: 'replaced' })
      expect(r2).toMatchObject({ errcode: 0 })
      expect(store.token.accessToken).not.toBe(mine)
      expect(short.stats().calls['https:tcb.createenvandresource']).toBe(4) // two refused, two served
    } finally {
      await short.close()
    }
  })
})

describe('wechat-api 1.35.1 (WeChat door)', () => {
  const API = require('wechat-api')
  const util = require('wechat-api/lib/util')
  if (!API.prototype.createEnvAndResource) {
    API.mixin({
      createEnvAndResource(...args) {
        this.preRequest(this._createEnvAndResource, args)
      },
      _createEnvAndResource(params, callback) {
        const url = `${this.endpoint}/tcb/createenvandresource?access_token=${this.token.accessToken}`
        this.request(url, util.postJSON(params), util.wrapper(callback))
      },
    })
  }
  const call = (api, params) => new Promise((resolve, reject) => api.createEnvAndResource(params, (err, data) => (err ? reject(err) : resolve(data))))

  test('a call gets a token and creates an environment; a WeChat error is an Error with the code', async () => {
    const api = new API(APP.appid, APP.secret)
    // setEndpoint(domain) always means https://domain; the emulator is plain
    // HTTP, so the field it sets is set directly.
    api.endpoint = emu.url
    expect(await call(api, { ...CREATE, alias: 'wa' })).toMatchObject({ errcode: 0, envid: expect.stringMatching(/^wa-/) })
    await expect(call(api, { alias: 'x' })).rejects.toMatchObject({ name: 'WeChatAPIError', code: 40101 })
  })

  test('a token past its lifetime is renewed by the client before the call', async () => {
    const short = await startEmulator({ appCredentials: [APP], tokenLifetimeSecs: 11 })
    try {
      const api = new API(APP.appid, APP.secret)
      api.endpoint = short.url
      // expires_in 11 minus the client's 10 s margin: stale after 1 s.
      await call(api, { ...CREATE, alias: 'w1' })
      await new Promise((r) => setTimeout(r, 1100))
      await call(api, { ...CREATE, alias: 'w2' })
      expect(short.stats().tokensIssued.classic).toBe(2)
      expect(short.environments()).toHaveLength(2)
    } finally {
      await short.close()
    }
  })
})

describe('wechatpy 1.8.18 (Python)', () => {
  const VENV = path.join(__dirname, '..', 'node_modules', '.cache', 'wechatpy-1.8.18-venv')
  const PY = path.join(VENV, 'bin', 'python')
  const SCRIPT = path.join(__dirname, 'helpers', 'wechatpy-client.py')
  const COMPONENT = { componentAppid: 'wxforeigncomp001', componentAppsecret: 'foreign-comp-secret' }
  const AUTHORIZER = { authorizerAppid: 'wxforeignauth001', refreshToken: 'foreign-refresh-0' }

  // Written once the install finished: a half-made venv is made again.
  const DONE = path.join(VENV, 'wx-cloud-openapi-installed')
  beforeAll(() => {
    if (fs.existsSync(DONE)) return
    fs.rmSync(VENV, { recursive: true, force: true })
    execFileSync('python3', ['-m', 'venv', VENV], { stdio: 'inherit', timeout: 120000 })
    // The component client needs its crypto extra.
    execFileSync(PY, ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', 'wechatpy[cryptography]==1.8.18'], {
      stdio: 'inherit',
      timeout: 300000,
    })
    fs.writeFileSync(DONE, 'wechatpy[cryptography]==1.8.18\n')
  }, 420000)

  const runPy = (cfg) =>
    new Promise((resolve, reject) =>
      execFile(PY, [SCRIPT, JSON.stringify(cfg)], { timeout: 60000 }, (err, stdout, stderr) =>
        err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(JSON.parse(stdout)),
      ),
    )

  test('WeChatClient: a call, and 40001 (token replaced) recovered by a new token', async () => {
    const e = await startEmulator({ appCredentials: [APP], tokenGraceSecs: 0 })
    try {
      const out = await runPy({ url: e.url, app: APP, scenario: 'app' })
      expect(out.first).toEqual({ errcode: 0, envid: expect.stringMatching(/^py-app-/) })
      expect(out.replaced).toEqual({ errcode: 0, envid: expect.stringMatching(/^py-replaced-/) })
      expect(out.renewed).toBe(true)
      expect(out.bad_params).toMatchObject({ errcode: 40101, errmsg: expect.stringMatching(/^missing parameter rid: /) })
    } finally {
      await e.close()
    }
  })

  const componentRun = async (rotateRefreshTokens) => {
    const e = await startEmulator({
      tokenLifetimeSecs: 1,
      componentCredentials: [COMPONENT],
      authorizers: [AUTHORIZER],
      rotateRefreshTokens,
    })
    try {
      const out = await runPy({ url: e.url, component: COMPONENT, ticket: 'ticket@@@py', authorizer: AUTHORIZER, scenario: 'component' })
      return { calls: out.calls, issued: e.stats().tokensIssued.authorizer }
    } finally {
      await e.close()
    }
  }

  test('component client: it stores the refresh token once; renewals across 42001 keep working (the default)', async () => {
    const { calls, issued } = await componentRun(false)
    expect(calls).toEqual([0, 1, 2].map((i) => ({ errcode: 0, envid: expect.stringMatching(new RegExp(`^py-tp${i}-`)) })))
    expect(issued).toBe(3) // one at get_client_by_appid, one per 42001 after it
  })

  test('component client with rotateRefreshTokens: its second renewal is refused (61023), as the issue describes', async () => {
    // get_client_by_appid renews once and drops the refresh token it gets
    // back; the next renewal (after the first call's token expires) sends
    // the stored one, which rotation has replaced.
    const { calls } = await componentRun(true)
    expect(calls.map((c) => c.errcode)).toEqual([0, 61023, 61023])
    expect(calls[1].errmsg).toMatch(/^refresh_token is invalid rid: /)
  })
})
