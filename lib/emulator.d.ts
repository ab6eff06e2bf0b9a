// Types of lib/emulator.js. The fault and record shapes come from the
// generated binding.d.ts; the options are read with serde
// (crates/emulator/src/start_options.rs), so their shape is declared here
// (emulator.test.js checks that both name the same options).
import type { EmulatorFaultSpec as GeneratedFaultSpec, EmulatorEnvironment, EmulatorStats, EmulatorAuthorization } from '../binding'

export type { EmulatorEnvironment, EmulatorStats, EmulatorAuthorization }

/** A Tencent Cloud secret pair the emulated gateway accepts. */
export interface EmulatorSecretPair {
  secretId: string
  secretKey: string
}

/** An app's credentials for `/cgi-bin/token` and `/cgi-bin/stable_token`. */
export interface EmulatorAppCredential {
  appid: string
  secret: string
}

/** A third-party platform's credentials for `api_component_token`. */
export interface EmulatorComponentCredential {
  componentAppid: string
  componentAppsecret: string
}

/** An account authorized to a third-party platform, with its first refresh token. */
export interface EmulatorAuthorizer {
  authorizerAppid: string
  refreshToken: string
}

/** Options of `startEmulator`. Every field is optional; an unknown one is refused. */
export interface EmulatorStartOptions {
  /** IP address to listen on. Default `127.0.0.1`. */
  host?: string
  /** Port; 0 (default) picks a free one. */
  port?: number
  /**
   * JSON file of environments: loaded at start, and every environment is
   * written durably before its creation is answered.
   */
  dataFile?: string
  /** Shorthand for one secret pair (with `secretKey`). */
  secretId?: string
  /** Shorthand for one secret pair (with `secretId`). */
  secretKey?: string
  /** Secret pairs the gateway accepts (after `secretId`/`secretKey` if given). */
  secretPairs?: EmulatorSecretPair[]
  /** Session token handed out in `cloudEnv()`. */
  sessionToken?: string
  /** Apps accepted by the token endpoints. */
  appCredentials?: EmulatorAppCredential[]
  /** Third-party platforms accepted by `api_component_token`. */
  componentCredentials?: EmulatorComponentCredential[]
  /** The accepted `component_verify_ticket` (default: any non-empty one). */
  componentVerifyTicket?: string
  /** Authorized accounts and their first refresh tokens. */
  authorizers?: EmulatorAuthorizer[]
  /**
   * Replace the authorizer refresh token on every `api_authorizer_token`
   * and refuse the old one. Default `false`: it stays the same until the
   * authorizer is authorized again, as WeChat documents.
   */
  rotateRefreshTokens?: boolean
  /** Lifetime of issued tokens in seconds. Default 7200. */
  tokenLifetimeSecs?: number
  /** How long a replaced token stays valid, seconds. Default 300. */
  tokenGraceSecs?: number
  /** The emulated function's environment id. Default `emulator-env`. */
  envId?: string
  /** Only these API names may be called through the gateway (-604101 otherwise). */
  allowedApis?: string[]
  /** The function's region. Default `ap-shanghai`. */
  region?: string
  /**
   * The third-party platform's event URL: the emulator pushes encrypted
   * verify tickets and authorization events there (for the first of
   * `componentCredentials`), and `api_component_token` then accepts only
   * a pushed ticket (or `componentVerifyTicket`).
   */
  componentEventUrl?: string
  /** The platform's message-check token (required with `componentEventUrl`). */
  componentToken?: string
  /** The platform's 43-character EncodingAESKey (required with `componentEventUrl`). */
  componentEncodingAesKey?: string
  /**
   * A new ticket is pushed at start and then every this many ms
   * (default 600000, WeChat's 10 minutes); 0: only on `pushTicket()`.
   */
  ticketIntervalMs?: number
  /**
   * Write a line on stderr for each event push that fails (default true).
   * `false` for a test that makes pushes fail on purpose: the failures are
   * still reported (`authorize()`'s `pushError`, a rejected `pushTicket()`
   * or `revoke()`, `stats()`'s `push_failed:*` counts).
   */
  logPushFailures?: boolean
}

/** What a fault does (see docs/emulator.md, Faults). */
export type EmulatorFaultKind = 'errcode' | 'delay' | 'drop_before' | 'drop_after' | 'status' | 'malformed' | 'truncated'

/** A fault to inject: the generated shape, with `kind` and `door` spelled out. */
export interface EmulatorFaultSpec extends Omit<GeneratedFaultSpec, 'kind' | 'door'> {
  kind: EmulatorFaultKind
  /** Restrict the fault to one door; default both. */
  door?: 'gateway' | 'https'
}

/** A running emulator of the cloud-base gateway and the WeChat HTTPS API. */
export declare class Emulator {
  /** `http://127.0.0.1:PORT`; the gateway is `{url}/admin`. */
  readonly url: string
  /** Base URL replacing `https://api.weixin.qq.com` in HTTPS mode (same listener). */
  readonly httpsBaseUrl: string
  /**
   * Environment variables of a cloud function pointed at this emulator
   * (`TENCENTCLOUD_RUNENV=SCF`, secret pair, `TCB_ENV`, `TCB_CONTEXT_CNFG`…), keys sorted.
   *
   * ```js
   * spawn(process.execPath, ['fn.js'], { env: emu.cloudEnv() })
   * ```
   */
  cloudEnv(): Record<string, string>
  /** Environments created so far (with a data file: the durable ones). */
  environments(): EmulatorEnvironment[]
  /** Calls per endpoint, refused ones included (`gateway:{api}`, `gateway:?`, `https:{api}`), tokens issued, faults fired. */
  stats(): EmulatorStats
  /**
   * Inject a fault. Throws a TypeError on an unknown field, an Error on an invalid spec or an `api` the emulator does not know (a misspelt name would never fire).
   *
   * ```js
   * emu.injectFault({ api: 'tcb.createenvandresource', kind: 'drop_after', times: 1 })
   * emu.injectFault({ kind: 'errcode', errcode: -1, probability: 0.3, seed: 7 })
   * ```
   */
  injectFault(spec: EmulatorFaultSpec): void
  /**
   * An account authorizes the third-party platform (again): a new refresh
   * token and an authorization code for `api_query_auth`; with
   * `componentEventUrl`, the `authorized` / `updateauthorized` event is
   * pushed before this resolves.
   *
   * ```js
   * const { authorizationCode, pushed } = await emu.authorize('wxmerchant0001')
   * ```
   */
  authorize(appid: string): Promise<EmulatorAuthorization>
  /** An account takes its authorization back (`unauthorized` is pushed). Resolves false if it had not authorized. */
  revoke(appid: string): Promise<boolean>
  /** Push a new component_verify_ticket now; resolves to it once the platform answered `success`. */
  pushTicket(): Promise<string>
  /** The accounts that have authorized the platform, sorted. */
  authorizers(): string[]
  /** Remove every fault. */
  clearFaults(): void
  /**
   * Stop listening; requests in flight finish (at most 5 s). Idempotent. Until
   * then a listening emulator keeps the process alive, as a node `http` server does.
   */
  close(): Promise<void>
  /** Let the process exit while the emulator listens (as `server.unref()`). */
  unref(): this
  /** Undo `unref()`: keep the process alive while the emulator listens (the default). */
  ref(): this
}

/**
 * Start the emulator on 127.0.0.1 (a free port unless `port` is given).
 *
 * ```js
 * const { startEmulator } = require('wx-cloud-openapi')
 * const emu = await startEmulator({ dataFile: './envs.json' })
 * ```
 */
export declare function startEmulator(options?: EmulatorStartOptions): Promise<Emulator>
