// Type test: realistic use of every public surface, checked by
// `tsc --noEmit --strict` (__test__/types.test.js). Every `@ts-expect-error`
// line is a misuse the types must reject (tsc fails on one that compiles).
// Never run: it only has to type-check.

import * as cloud from '../..'
import {
  Cloud,
  CloudSDKError,
  DYNAMIC_CURRENT_ENV,
  explainConfig,
  memoryStore,
  redisStore,
  startEmulator,
  createComponentEventHandler,
  type ComponentEvent,
  type ComponentEventStore,
  type TokenStore,
  type ConfigExplanation,
  type CreateEnvAndResourceParams,
  type CreateEnvAndResourceResult,
  type Emulator,
  type EmulatorFaultSpec,
  type EmulatorStats,
  type GenericOpenApiResult,
  type InitOptions,
  type OpenApiError,
} from '../..'

async function cloudMode(): Promise<string> {
  cloud.init({ env: cloud.DYNAMIC_CURRENT_ENV })
  cloud.init({ env: { default: DYNAMIC_CURRENT_ENV }, timeout: 5000, traceUser: true })
  cloud.init({ env: 'test-env-123', region: 'ap-shanghai', secretId: 'AKID…', secretKey: '…', sessionToken: '…', protocol: 'http' })
  const res: CreateEnvAndResourceResult = await cloud.openapi.tcb.createenvandresource({ type: 'CreatePostpayPackage', alias: 'test-env' })
  const zero: 0 = res.errCode
  const msg: string = res.errMsg
  void zero
  void msg
  return res.envid
}

async function httpsMode(): Promise<void> {
  const managed = new Cloud()
  managed.init({ appid: 'wx0123', secret: 'secret', tokenKind: 'classic', retry: { onBusy: 2 }, proxy: 'http://127.0.0.1:3128' })
  const supplied = new Cloud()
  supplied.init({ accessToken: 'ACCESS_TOKEN' })
  supplied.updateConfig({
    mode: 'https',
    accessToken: async ({ forceRefresh }) => (forceRefresh ? 'fresh' : 'cached'),
    apiBaseUrl: 'http://127.0.0.1:9999',
    debug: true,
  })
  const { envid } = await supplied.openapi.tcb.createenvandresource({ type: 'CreatePostpayPackage', alias: 'a' })
  envid.toUpperCase()
}

async function thirdPartyMode(store: { save(t: string): Promise<void> }): Promise<void> {
  const supplied = new Cloud({ authorizerAccessToken: () => 'AUTHORIZER_TOKEN' })
  supplied.init()
  const managed = new Cloud()
  const options: InitOptions = {
    mode: 'thirdparty',
    componentAppid: 'wxcomp',
    componentAppsecret: 'secret',
    getComponentVerifyTicket: async () => 'ticket@@@…',
    authorizerAppid: 'wxauth',
    authorizerRefreshToken: 'refresh',
    onAuthorizerRefreshToken: (token) => store.save(token),
  }
  managed.init(options)
  await managed.openapi.tcb.createenvandresource({ type: 'CreatePostpayPackage', alias: 'b' })
  // Many authorizers, tokens shared through Redis (your own client).
  const platform = new Cloud()
  platform.init({
    componentAppid: 'wxcomp',
    componentAppsecret: 'secret',
    store: redisStore({ call() {}, defineCommand() {} }, { prefix: 'app1:' }),
    getAuthorizerRefreshToken: async (appid: string) => (appid === 'wxauth' ? 'refresh' : null),
  })
  await platform.openapi({ appid: 'wxauth2' }).tcb.createenvandresource({ type: 'CreatePostpayPackage', alias: 'c' })
  const mem: TokenStore = memoryStore()
  await mem.set('k', 'v', 1000)
  const lock = await mem.lock('k', 1000)
  if (lock) await lock.release()
  const https = new Cloud({ accessToken: async ({ appid, forceRefresh }) => `${appid}:${forceRefresh}` })
  https.init()
}

async function genericApis(): Promise<void> {
  // Any other API: params in, generic result out.
  const envs: GenericOpenApiResult = await cloud.openapi.tcb.describeenvs()
  const list: unknown = envs.infoList
  const code: number = envs.errCode
  const other = await cloud.openapi.wxacode.getUnlimited({ scene: 'a=1', page: 'pages/index/index' })
  const buffer: Buffer | undefined = other.buffer
  await cloud.openapi.security.msgSecCheck({ content: 'hello' })
  await cloud.openapi({ appid: 'wx-other' }).tcb.createenvandresource({ type: 'CreatePostpayPackage', alias: 'c' })
  await cloud.openapi({ convertCase: false }).customerServiceMessage.send({ touser: 'o…', msgtype: 'text' })
  void list
  void code
  void buffer
}

async function errors(): Promise<void> {
  try {
    await cloud.openapi.tcb.createenvandresource({ type: 'CreatePostpayPackage', alias: 'x' })
  } catch (e) {
    if (e instanceof CloudSDKError) {
      const code: number = e.errCode
      const msg: string = e.errMsg
      void code
      void msg
    }
    const err = e as OpenApiError
    if (err.errCode === -1) throw err
  }
  const made = new CloudSDKError({ errCode: -501007, errMsg: 'x' })
  void made.message
}

async function emulator(): Promise<void> {
  const emu: Emulator = await startEmulator({ port: 0, dataFile: './envs.json', tokenLifetimeSecs: 60, appCredentials: [{ appid: 'wx1', secret: 's' }] })
  const env: Record<string, string> = emu.cloudEnv()
  const c = new Cloud()
  c.init({ env: DYNAMIC_CURRENT_ENV, processEnv: emu.cloudEnv() })
  c.init({ processEnv: process.env })
  c.init({ apiBaseUrl: emu.httpsBaseUrl, appid: 'wx0emulatorapp0001', secret: 'emulator-app-secret', processEnv: {} })
  const fault: EmulatorFaultSpec = { api: 'tcb.createenvandresource', kind: 'drop_after', times: 1 }
  emu.injectFault(fault)
  emu.injectFault({ kind: 'errcode', errcode: -1, probability: 0.3, seed: 7, door: 'gateway' })
  emu.injectFault({ kind: 'delay', delayMs: 200 })
  const stats: EmulatorStats = emu.stats()
  const created: number = stats.environments + (stats.calls['gateway:tcb.createenvandresource'] ?? 0)
  const first: string | undefined = emu.environments()[0]?.env
  emu.clearFaults()
  await emu.close()
  void env
  void created
  void first
  void emu.url
}

async function componentEvents(body: Buffer, url: string): Promise<string> {
  const data = new Map<string, string>()
  const store: ComponentEventStore = {
    get: async (k) => data.get(k) ?? null,
    set: async (k, v, _ttlMs) => void data.set(k, v),
    compareAndDelete: async (k, expected) => data.get(k) === expected && data.delete(k),
    lock: async (k, _ttlMs) => {
      if (data.has(k)) return null
      data.set(k, '1')
      return { release: async () => void data.delete(k) }
    },
  }
  const handle = createComponentEventHandler({
    componentAppid: 'wxc',
    componentAppsecret: 's',
    token: 't',
    encodingAesKey: 'k'.repeat(43),
    store,
    timeout: 5000,
  })
  const ev: ComponentEvent = await handle({ query: url, body })
  await handle({ query: { timestamp: '1', nonce: 'n', msg_signature: 'x' }, body: body.toString() })
  const emu = await startEmulator({
    componentEventUrl: 'http://127.0.0.1:8080/',
    componentToken: 't',
    componentEncodingAesKey: 'k'.repeat(43),
    ticketIntervalMs: 0,
  })
  const ticket: string = await emu.pushTicket()
  const { authorizationCode, infoType, pushed } = await emu.authorize('wxm')
  const revoked: boolean = await emu.revoke('wxm')
  const accounts: string[] = emu.authorizers()
  const account: string | undefined = emu.environments()[0]?.account
  // @ts-expect-error the store is required
  createComponentEventHandler({ componentAppid: 'wxc', componentAppsecret: 's', token: 't', encodingAesKey: 'k' })
  return `${ev.InfoType} ${ev.CreateTime + 1} ${ticket} ${authorizationCode} ${infoType} ${pushed} ${revoked} ${accounts.length} ${account}`
}

function explain(): string {
  const x: ConfigExplanation = explainConfig({ appid: 'wx1', secret: 's' })
  const mode: 'cloud' | 'https' | 'thirdparty' | 'none' = x.mode
  return `${mode} ${x.reason} ${x.settings.map((s) => `${s.name}=${s.value} (${s.source})`).join()} ${x.ok ? '' : x.errCode}`
}

async function misuse(emu: Emulator): Promise<void> {
  const params: CreateEnvAndResourceParams = { type: 'CreatePostpayPackage', alias: 'ok' }
  void params
  // @ts-expect-error wrong `type` value
  await cloud.openapi.tcb.createenvandresource({ type: 'CreatePrepayPackage', alias: 'x' })
  // @ts-expect-error `alias` missing
  await cloud.openapi.tcb.createenvandresource({ type: 'CreatePostpayPackage' })
  // @ts-expect-error params required
  await cloud.openapi.tcb.createenvandresource()
  const res = await cloud.openapi.tcb.createenvandresource({ type: 'CreatePostpayPackage', alias: 'x' })
  // @ts-expect-error no such field on the result
  void res.envId
  // @ts-expect-error unknown mode
  cloud.init({ mode: 'http' })
  // @ts-expect-error a typo in an option name
  cloud.init({ tmeout: 5000 })
  // @ts-expect-error timeout is a number of milliseconds
  cloud.init({ timeout: '5000' })
  // @ts-expect-error tokenKind is stable or classic
  cloud.init({ appid: 'wx', secret: 's', tokenKind: 'fast' })
  // @ts-expect-error retry.onBusy is a number
  cloud.init({ retry: { onBusy: '2' } })
  // @ts-expect-error a token function returns a string
  cloud.init({ accessToken: async () => 42 })
  // @ts-expect-error managed third-party tokens need componentAppsecret with componentAppid
  cloud.init({ componentAppid: 'wxcomp', authorizerAppid: 'wxauth' })
  // @ts-expect-error a store has get, set, compareAndDelete and lock
  cloud.init({ componentAppid: 'wxcomp', componentAppsecret: 's', store: { get: async () => null } })
  // @ts-expect-error processEnv values are strings
  cloud.init({ processEnv: { TCB_ENV: 1 } })
  // @ts-expect-error openapi() takes an options object
  cloud.openapi('wx123')
  // @ts-expect-error unknown fault kind
  emu.injectFault({ kind: 'explode' })
  // @ts-expect-error door is gateway or https
  emu.injectFault({ kind: 'errcode', door: 'both' })
  // @ts-expect-error unknown emulator option
  await startEmulator({ prot: 8080 })
  // @ts-expect-error port is a number
  await startEmulator({ port: '8080' })
  // @ts-expect-error close() returns a promise, not a result
  const closed: string = await emu.close()
  void closed
}

export { cloudMode, httpsMode, thirdPartyMode, genericApis, errors, emulator, componentEvents, explain, misuse }

async function surface(png: Buffer): Promise<string> {
  const code = await cloud.openapi.wxacode.getUnlimited({ scene: 'a=1', page: 'pages/index/index', width: 280, lineColor: { r: 0, g: 0, b: 0 } })
  const bytes: Buffer = code.buffer
  const type: string = code.contentType
  await cloud.openapi.wxacode.get({ path: 'pages/a/a?x=1' })
  await cloud.openapi.wxacode.createQRCode({ path: 'pages/a/a' })
  // @ts-expect-error scene is required
  await cloud.openapi.wxacode.getUnlimited({ page: 'pages/index/index' })
  await cloud.openapi.subscribeMessage.send({ touser: 'o', templateId: 't', data: { thing1: { value: 'x' } }, miniprogramState: 'developer' })
  // @ts-expect-error data values are { value }
  await cloud.openapi.subscribeMessage.send({ touser: 'o', templateId: 't', data: { thing1: 'x' } })
  const check = await cloud.openapi.security.msgSecCheck({ content: 'hi', version: 2, openid: 'o', scene: 2 })
  const suggest: string | undefined = check.result?.suggest
  await cloud.openapi.security.imgSecCheck({ media: { contentType: 'image/png', value: png } })
  // @ts-expect-error media is a { contentType, value: Buffer }
  await cloud.openapi.security.imgSecCheck({ media: png })
  const up = await cloud.openapi.customerServiceMessage.uploadTempMedia({ type: 'image', media: { contentType: 'image/png', value: png, fileName: 'a.png' } })
  await cloud.openapi.customerServiceMessage.send({ touser: 'o', msgtype: 'image', image: { mediaId: up.mediaId } })
  const file: Buffer = (await cloud.openapi.customerServiceMessage.getTempMedia({ mediaId: up.mediaId })).buffer
  const scheme: string = (
    await cloud.openapi.urlscheme.generate({ jumpWxa: { path: 'pages/a/a', envVersion: 'trial' }, isExpire: true, expireType: 1, expireInterval: 30 })
  ).openlink
  const link: string = (await cloud.openapi.urllink.generate({ path: 'pages/a/a', expireType: 0, expireTime: 1700000000 })).urlLink
  const phone = await cloud.openapi.phonenumber.getPhoneNumber({ code: 'c' })
  const pure: string = phone.phoneInfo.purePhoneNumber
  const sig = cloud.signature({ type: 'midas', params: ['openid', 'offerId', 'ts', 'zoneId', 'pf'], secret: 's' })
  const base = { openid: 'o', appid: 'wx', offerId: '1', ts: 1, zoneId: '1', pf: 'android', sig }
  const balance: number = (await cloud.openapi.midas.getBalance(base)).balance
  const bill: string = (await cloud.openapi.midas.paySandbox({ ...base, amt: 1, billNo: 'b' })).billNo
  // @ts-expect-error pay needs billNo
  await cloud.openapi.midas.pay({ ...base, amt: 1 })
  // @ts-expect-error only the midas type exists
  cloud.signature({ type: 'other', params: [], secret: 's' })
  const ctx = cloud.getWXContext()
  const openid: string | undefined = ctx.OPENID
  const viaInstance = new Cloud().getWXContext().ENV
  // Any other API: generic.
  const other = await cloud.openapi.ocr.printedText({ imgUrl: 'https://x/y.png' })
  const n: number = other.errCode
  void [bytes, type, suggest, file, scheme, link, pure, balance, bill, openid, viaInstance, n]
  return up.mediaId
}
void surface
