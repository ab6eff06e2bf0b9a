/// <reference types="node" />
// Public types of wx-cloud-openapi: a drop-in for wx-server-sdk's cloud.openapi.

/** Marker for "the environment this function runs in" (same symbol as wx-server-sdk's). */
export declare const DYNAMIC_CURRENT_ENV: unique symbol

/** Package version. */
export declare const version: string

/**
 * Options of `init()` common to every mode. Unknown keys are rejected at run
 * time (and by TypeScript in object literals); wx-server-sdk options that do
 * not affect openapi calls (traceUser, …) are accepted and ignored.
 */
export interface BaseInitOptions {
  /** Environment id, `{ default: id }`, or `cloud.DYNAMIC_CURRENT_ENV`. @default the function's own environment on SCF, else the account's first */
  env?: string | typeof DYNAMIC_CURRENT_ENV | { default?: string | typeof DYNAMIC_CURRENT_ENV; [service: string]: unknown }
  /** Gateway region (`ap-shanghai`, …). @default `TENCENTCLOUD_REGION` */
  region?: string
  /** Gateway URL to use instead of the platform's (e.g. an emulator's `${url}/admin`). @default `URL` of `TCB_CONTEXT_CNFG`, else built from env and region */
  serviceUrl?: string
  /** Scheme of the built gateway URL: `https` or `http`. @default `https` (`http` on the platform's internal network) */
  protocol?: 'http' | 'https'
  /** Tencent Cloud credentials the cloud call is signed with. @default `TENCENTCLOUD_SECRETID`, `TENCENTCLOUD_SECRETKEY`, `TENCENTCLOUD_SESSIONTOKEN` */
  secretId?: string
  secretKey?: string
  sessionToken?: string
  /** Milliseconds a call may take, from start to answer, 1 … 3 600 000. @default 15000 */
  timeout?: number
  /** One redacted line per call on stderr: API, mode, elapsed ms, errCode, request id. @default false (or `DEBUG=wx-cloud-openapi`) */
  debug?: boolean
  /** An object of variables to read instead of `process.env` (e.g. an emulator's `cloudEnv()`); `process.env` is then not read at all. @default `process.env` */
  processEnv?: Record<string, string | undefined>
  /** Calling mode: `cloud`, `https` or `thirdparty` (docs/modes.md). @default chosen from the credentials */
  mode?: CallingMode
  /** HTTPS mode with a token managed by the SDK; `secret` is required with `appid`. @default `WX_APPID`, `WX_APPSECRET` */
  appid?: string
  secret?: string
  /** Which endpoint issues the managed token: `stable` (`/cgi-bin/stable_token`) or `classic` (`/cgi-bin/token`). @default `stable` */
  tokenKind?: 'stable' | 'classic'
  /** HTTPS mode with your token: a string (one account), or a function called before each call with `{ appid, forceRefresh }` (again with `forceRefresh: true` after WeChat rejected its token). */
  accessToken?: string | TokenFunction
  /** Third-party platform with your authorizer token: a string or a function, as `accessToken`. */
  authorizerAccessToken?: string | TokenFunction
  /** The WeChat API host of the HTTPS modes (an emulator's `httpsBaseUrl`, a forwarding proxy); an ASCII host name (an internationalised one in its `xn--` form). @default `https://api.weixin.qq.com` (`WX_API_BASE_URL`) */
  apiBaseUrl?: string
  /** An `http://` or `https://` proxy for the HTTPS modes. Environment proxy variables (`HTTP_PROXY`, `HTTPS_PROXY`, `ALL_PROXY`) are not used by any mode, as by the reference: a cloud call to an emulator on loopback never goes through a proxy set for other tools. @default none */
  proxy?: string
  /** Retry -1 / -1000 (system busy) answers up to `onBusy` times (0–10), exponential backoff with jitter (a busy call may have executed). @default `{ onBusy: 0 }` */
  retry?: { onBusy?: number }
  /** Accepted for compatibility with wx-server-sdk; no effect on openapi calls. */
  traceUser?: boolean
  throwOnNotFound?: boolean
  credentials?: unknown
  isHttp?: boolean
  version?: string
  throwOnCode?: boolean
  resourceAppid?: string
  resourceEnv?: string
  logger?: unknown
}

/**
 * Third-party platform with tokens managed by the SDK (docs/third-party.md):
 * `componentAppid` and `componentAppsecret`, the verify ticket from the
 * store or `getComponentVerifyTicket`, and each authorizer's refresh token
 * from the store, `getAuthorizerRefreshToken(appid)`, or (for the default
 * authorizer) `authorizerRefreshToken`. `openapi({ appid })` picks the authorizer.
 */
export interface ManagedThirdPartyOptions {
  /** Third-party platform with tokens managed by the SDK (both); `openapi({ appid })` picks the authorizer. */
  componentAppid: string
  componentAppsecret: string
  /** `() => ticket`: the latest component_verify_ticket WeChat pushed to your server. @default the store's ticket */
  getComponentVerifyTicket?: () => string | null | undefined | Promise<string | null | undefined>
  /** The default authorizer (when `openapi()` names none), and its refresh token used when the store has none. */
  authorizerAppid?: string
  authorizerRefreshToken?: string
  /** `(appid) => refreshToken`: an authorizer's refresh token when the store has none. */
  getAuthorizerRefreshToken?: (authorizerAppid: string) => string | null | undefined | Promise<string | null | undefined>
  /** `(token, { appid }) => …`: told each rotated refresh token (already in the store) before the call using it resolves. */
  onAuthorizerRefreshToken?: (refreshToken: string, info: { appid: string }) => void | Promise<void>
  /** Where managed third-party tokens live: `cloud.memoryStore()`, `cloud.redisStore(client, { prefix })`, or your own (docs/third-party.md). @default `memoryStore()` */
  store?: TokenStore
}

/** None of the managed third-party options. */
export type WithoutManagedThirdParty = { [K in keyof ManagedThirdPartyOptions]?: undefined }

/** Options of `init()`: the common ones, with the managed third-party options or none. */
export type InitOptions = BaseInitOptions & (ManagedThirdPartyOptions | WithoutManagedThirdParty)

/** A lock of a token store (see `TokenStore.lock`). */
export interface TokenStoreLock {
  release(): Promise<void>
}

/**
 * Where the managed third-party mode keeps its tokens (values are strings;
 * keys are `ticket:{componentAppid}`, `component_token:{componentAppid}`,
 * `refresh_token:{componentAppid}:{authorizerAppid}`,
 * `authorizer_token:{componentAppid}:{authorizerAppid}`,
 * `revoked:{componentAppid}:{authorizerAppid}`, and `lock:{key}`).
 */
export interface TokenStore {
  get(key: string): Promise<string | null>
  /** `ttlMs` omitted: no expiry. */
  set(key: string, value: string, ttlMs?: number): Promise<void>
  /** Delete only if the stored value is `expected`. */
  compareAndDelete(key: string, expected: string): Promise<boolean>
  /** `null` when another holder has it. */
  lock(key: string, ttlMs: number): Promise<TokenStoreLock | null>
}

/** A token store in this process's memory. */
export declare function memoryStore(): TokenStore
/**
 * A token store in Redis through your own client: ioredis (`new Redis()`) or a
 * connected node-redis v4+ client (`createClient()`). Keys get `prefix` (default `wxcloud:`).
 */
export declare function redisStore(client: unknown, options?: { prefix?: string }): TokenStore & { readonly prefix: string }

/** `cloud` (signed call through the cloud-base gateway), `https` (access_token) or `thirdparty` (authorizer token). */
export type CallingMode = 'cloud' | 'https' | 'thirdparty'

/** A user-supplied token source. */
export type TokenFunction = (info: {
  /** The account the call is for: `openapi({ appid })`, else init()'s `appid` (undefined when neither). */
  appid: string | undefined
  forceRefresh: boolean
}) => string | Promise<string>

/** Params of `tcb.createenvandresource`. */
export interface CreateEnvAndResourceParams {
  /** Must be `CreatePostpayPackage`. */
  type: 'CreatePostpayPackage'
  /** The new environment's alias. */
  alias: string
}

/** Every resolved result carries these. */
export interface OpenApiOk {
  errMsg: string
  errCode: 0
}

/** Result of `tcb.createenvandresource`. */
export interface CreateEnvAndResourceResult extends OpenApiOk {
  /** The new environment's id, e.g. `test-env-xxxxxx`. */
  envid: string
}

/** A binary answer (an API that returns a file). */
export interface OpenApiBufferResult extends OpenApiOk {
  contentType: string
  buffer: Buffer
}

/** A media parameter (file upload): a multipart file part in the HTTPS modes, for the APIs whose table row takes a form. */
export interface MediaParam {
  contentType: string
  value: Buffer
  fileName?: string
}

/** The result of an API without its own types: the answer's keys (camelCase), or a binary answer. */
export interface GenericOpenApiResult {
  errMsg: string
  errCode: number
  // biome-ignore lint/suspicious/noExplicitAny: an untyped API's answer has any keys, as in wx-server-sdk's types; `unknown` would break every caller reading a field
  [key: string]: any
}

/** Any other API: an object of params in (keys converted to snake_case), its result out. */
// biome-ignore lint/suspicious/noExplicitAny: params of an untyped API are any object (as in wx-server-sdk's types)
export type GenericOpenApiCall = (params?: any) => Promise<GenericOpenApiResult>

/** `openapi.<namespace>.<name>(params)`: any path is callable. */
export type GenericApi = GenericOpenApiCall & GenericNamespace
export type GenericNamespace = { [name: string]: GenericApi }

export interface TcbNamespace {
  /** Create a cloud environment (pay-as-you-go). Not idempotent: never retried blindly. */
  createenvandresource: ((params: CreateEnvAndResourceParams) => Promise<CreateEnvAndResourceResult>) & GenericNamespace
  [name: string]: GenericApi
}

/** Options of `openapi({ … })`. */
export interface OpenApiOptions {
  /** Call on behalf of this appid (cloud call: `CommApiData.appid`). */
  appid?: string
  /** Convert request keys camelCase → snake_case and answer keys back (default true). */
  convertCase?: boolean
}

import type {
  WxacodeNamespace,
  SubscribeMessageNamespace,
  SecurityNamespace,
  CustomerServiceMessageNamespace,
  UrlschemeNamespace,
  UrllinkNamespace,
  PhonenumberNamespace,
  MidasNamespace,
  MidasSignature,
  WXContext,
} from './lib/openapi'
export type * from './lib/openapi'

/** `cloud.openapi`: the most used APIs typed (lib/openapi.d.ts), any other path with generic types. */
export interface OpenApi {
  (options: OpenApiOptions): OpenApi
  tcb: TcbNamespace
  wxacode: WxacodeNamespace
  subscribeMessage: SubscribeMessageNamespace
  security: SecurityNamespace
  customerServiceMessage: CustomerServiceMessageNamespace
  urlscheme: UrlschemeNamespace
  urllink: UrllinkNamespace
  phonenumber: PhonenumberNamespace
  midas: MidasNamespace
  [namespace: string]:
    | GenericNamespace
    | TcbNamespace
    | WxacodeNamespace
    | SubscribeMessageNamespace
    | SecurityNamespace
    | CustomerServiceMessageNamespace
    | UrlschemeNamespace
    | UrllinkNamespace
    | PhonenumberNamespace
    | MidasNamespace
}

/** Options of `cloud.signature()`. */
export interface SignatureOptions {
  type: 'midas'
  /** Names of the params to sign (sorted and snake_cased when signing). */
  params: string[]
  /** The midas secret (the HMAC key). */
  secret: string
}

/** Error of WeChat and platform failures; `message` is `errCode: … | errMsg: …`. */
export declare class CloudSDKError extends Error {
  constructor(options?: { errCode?: number; errMsg?: string })
  errCode: number
  errMsg: string
}

/** Every rejection carries these (gateway and HTTP failures are plain `Error`s with them). */
export interface OpenApiError extends Error {
  errCode: number
  errMsg: string
}

/** A cloud SDK instance; the module itself is one. */
export declare class Cloud {
  constructor(options?: InitOptions)
  /** Only the first call takes effect, as in wx-server-sdk. */
  init(options?: InitOptions): void
  /** Replace the configuration. */
  updateConfig(options?: InitOptions): void
  readonly openapi: OpenApi
  readonly DYNAMIC_CURRENT_ENV: typeof DYNAMIC_CURRENT_ENV
  /** The caller's context (wx-server-sdk's `getWXContext`). */
  getWXContext(): WXContext
  /** A signature value for midas params; throws an Error on a missing `params` array or `secret`. */
  signature(options: SignatureOptions): MidasSignature
}

/** One setting a call would use, as `explainConfig` reports it. */
export interface ExplainedSetting {
  /** `secretId`, `appid`, `apiBaseUrl`, `env`, `timeout`, … */
  name: string
  /** The value, secrets as `***`, ids shortened (`AKID…1234`). */
  value: string
  /** Where it comes from: `init option secretId`, `env TENCENTCLOUD_SECRETID`, `default`, … */
  source: string
}

/** What a call made with some `init()` options would use (nothing is sent). */
export interface ConfigExplanation {
  /** A call would be sent; false: it would fail first with `errCode` / `errMsg`. */
  ok: boolean
  mode: CallingMode | 'none'
  /** Why this mode, e.g. ``init() was given `appid` and `secret` ``. */
  reason: string
  settings: ExplainedSetting[]
  /** 0 when `ok`. */
  errCode: number
  errMsg: string
}

/**
 * Which calling mode, credentials (redacted) and settings a call made with
 * these options would use, and why: the same decision a call makes, read
 * from the same environment. `api` (default `tcb.createenvandresource`) only
 * names the call in messages. Used by `npx wx-cloud-openapi env`.
 */
export declare function explainConfig(options?: InitOptions, api?: string): ConfigExplanation

/**
 * Configure the SDK. As in wx-server-sdk, only the first `init()` takes effect: later calls are
 * ignored (use `updateConfig()` to change the configuration, or `new Cloud()` for an independent
 * instance). Throws a CloudSDKError naming a bad option.
 */
export declare function init(options?: InitOptions): void

/** Replace the configuration set by `init()`. */
export declare function updateConfig(options?: InitOptions): void

/** The caller's context inside a cloud function, read from the environment as wx-server-sdk reads it; `{}` outside one. Token variables are never included. */
export declare function getWXContext(): WXContext

/** `signature({ type: 'midas', params, secret })`: put the value in a midas call's params (e.g. `sig`); the call replaces it by its HMAC-SHA256 signature. */
export declare function signature(options: SignatureOptions): MidasSignature

/** `openapi.tcb.createenvandresource(params)`, `openapi({ appid }).…`. Calling before `init` throws like wx-server-sdk. */
export declare const openapi: OpenApi

export type {
  Emulator,
  EmulatorStartOptions,
  EmulatorFaultSpec,
  EmulatorFaultKind,
  EmulatorEnvironment,
  EmulatorStats,
  EmulatorAuthorization,
} from './lib/emulator'
/** Start the local emulator of the gateway and the WeChat API (see README). */
export { startEmulator } from './lib/emulator'

export type {
  ComponentEvent,
  ComponentEventHandler,
  ComponentEventHandlerOptions,
  ComponentEventRequest,
  ComponentEventStore,
} from './lib/component-events'
/** The handler of a third-party platform's event URL (see docs/third-party-events.md). */
export { createComponentEventHandler } from './lib/component-events'
