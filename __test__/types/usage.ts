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

export { cloudMode, httpsMode, thirdPartyMode, genericApis, errors, emulator, explain, misuse }
