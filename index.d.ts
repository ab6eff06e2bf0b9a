/// <reference types="node" />
// Public types of wx-cloud-openapi: a drop-in for wx-server-sdk's cloud.openapi.

/** Marker for "the environment this function runs in" (same symbol as wx-server-sdk's). */
export declare const DYNAMIC_CURRENT_ENV: unique symbol

/** Package version. */
export declare const version: string

/** Options of `init()`. Unknown keys are rejected; wx-server-sdk options that do not affect openapi calls (traceUser, …) are accepted and ignored. */
export interface InitOptions {
  /** Environment id, `{ default: id }`, or `DYNAMIC_CURRENT_ENV`. Unset: the function's own environment on SCF, else the account's first. */
  env?: string | typeof DYNAMIC_CURRENT_ENV | { default?: string | typeof DYNAMIC_CURRENT_ENV; [service: string]: unknown }
  /** Region, e.g. `ap-shanghai`; default `TENCENTCLOUD_REGION`. */
  region?: string
  /** Gateway URL to use instead of the platform's (e.g. an emulator's `${url}/admin`). */
  serviceUrl?: string
  /** `https` (default) or `http`, for the built gateway URL outside the platform. */
  protocol?: 'http' | 'https'
  /** Tencent Cloud secret pair; default `TENCENTCLOUD_SECRETID` / `TENCENTCLOUD_SECRETKEY` / `TENCENTCLOUD_SESSIONTOKEN`. */
  secretId?: string
  secretKey?: string
  sessionToken?: string
  /** Milliseconds a call may take, from start to answer (1 … 3 600 000; default 15 000). */
  timeout?: number
  /** Print one line per call (API, mode, elapsed time, errCode, request id), redacted. Also `DEBUG=wx-cloud-openapi`. */
  debug?: boolean
  /** Variables to read instead of `process.env` (e.g. an emulator's `cloudEnv()`); `process.env` is then not read at all. */
  processEnv?: Record<string, string | undefined>
  /** Accepted for compatibility with wx-server-sdk; no effect on openapi calls. */
  traceUser?: boolean
  throwOnNotFound?: boolean
}

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

/** A media parameter (file upload). */
export interface MediaParam {
  contentType: string
  value: Buffer
  fileName?: string
}

/** Any other API: params in, JSON (or a buffer) out. */
export type GenericOpenApiCall = (params?: Record<string, unknown>) => Promise<OpenApiOk & Record<string, any>>

/** `openapi.<namespace>.<name>(params)`; any path is callable. */
export type GenericNamespace = { [name: string]: GenericOpenApiCall & GenericNamespace }

export interface TcbNamespace {
  /** Create a cloud environment (pay-as-you-go). Not idempotent: never retried blindly. */
  createenvandresource(params: CreateEnvAndResourceParams): Promise<CreateEnvAndResourceResult>
  [name: string]: GenericOpenApiCall
}

/** Options of `openapi({ … })`. */
export interface OpenApiOptions {
  /** Call on behalf of this appid (cloud call: `CommApiData.appid`). */
  appid?: string
  /** Convert request keys camelCase → snake_case and answer keys back (default true). */
  convertCase?: boolean
}

export interface OpenApi {
  (options: OpenApiOptions): OpenApi
  tcb: TcbNamespace
  [namespace: string]: GenericNamespace | TcbNamespace | any
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
  init(options?: InitOptions): void
  readonly openapi: OpenApi
  readonly DYNAMIC_CURRENT_ENV: typeof DYNAMIC_CURRENT_ENV
}

/** Configure the SDK; may be called again to change the configuration. Throws a CloudSDKError naming a bad option. */
export declare function init(options?: InitOptions): void

/** `openapi.tcb.createenvandresource(params)`, `openapi({ appid }).…`. Calling before `init` throws like wx-server-sdk. */
export declare const openapi: OpenApi

export type { Emulator, EmulatorStartOptions, EmulatorFaultSpec, EmulatorEnvironment, EmulatorStats } from './lib/emulator'
/** Start the local emulator of the gateway and the WeChat API (see README). */
export { startEmulator } from './lib/emulator'
