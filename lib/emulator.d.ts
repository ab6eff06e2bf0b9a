// Types of lib/emulator.js. The option, fault and record shapes come from the
// generated binding.d.ts.
import type { EmulatorStartOptions, EmulatorFaultSpec as GeneratedFaultSpec, EmulatorEnvironment, EmulatorStats, EmulatorAuthorization } from '../binding'

export type { EmulatorStartOptions, EmulatorEnvironment, EmulatorStats, EmulatorAuthorization }

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
   * Inject a fault. Throws a TypeError on an unknown field, an Error on an invalid spec.
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
