// Types of lib/component-events.js: the third-party platform's event endpoint.

import type { TokenStore } from '../index'

/**
 * The token store the handler writes to: the same interface, and best the
 * same store, as the clients' `init({ store })` (`memoryStore()`,
 * `redisStore(client)`, or your own with get, set, compareAndDelete, lock):
 * the handler stores the ticket and the authorizers' tokens there, and takes
 * the platform's component_access_token from it as the clients do.
 */
export type ComponentEventStore = TokenStore

/** Options of `createComponentEventHandler`. */
export interface ComponentEventHandlerOptions {
  /** The platform's appid (the component appid). */
  componentAppid: string
  /** The platform's appsecret (for the component_access_token that `api_query_auth` needs). */
  componentAppsecret: string
  /** The message-check token set on the platform. */
  token: string
  /** The 43-character message EncodingAESKey set on the platform. */
  encodingAesKey: string
  /** Where the ticket and the authorizers' tokens are saved: the clients' store. */
  store: ComponentEventStore
  /** WeChat API base URL (e.g. an emulator's `httpsBaseUrl`); default `WX_API_BASE_URL`, else `https://api.weixin.qq.com`. */
  apiBaseUrl?: string
  /** Milliseconds one event may take to handle, store and `api_query_auth` included (default 15 000). */
  timeout?: number
  /** HTTP(S) proxy for `api_query_auth`. */
  proxy?: string
  /**
   * Handed an authorization's refresh token when the store never takes it
   * (until one `timeout` after the handler's): keep it somewhere durable.
   */
  onAuthorizerRefreshToken?: (token: string, info: { appid: string }) => unknown
}

/** One event request: the query (`req.url`, a query string, URLSearchParams or a parsed object) and the raw body. */
export interface ComponentEventRequest {
  query?: string | URLSearchParams | Record<string, string | string[] | undefined>
  /** Used when `query` is absent (node `http`'s `req.url`). */
  url?: string
  body: Buffer | Uint8Array | string
}

/** A decrypted event: WeChat's field names. */
export interface ComponentEvent {
  AppId: string
  CreateTime: number
  InfoType: 'component_verify_ticket' | 'authorized' | 'updateauthorized' | 'unauthorized' | string
  ComponentVerifyTicket?: string
  AuthorizerAppid?: string
  AuthorizationCode?: string
  AuthorizationCodeExpiredTime?: number
  PreAuthCode?: string
  /** `authorized` / `updateauthorized`: what `api_query_auth` gave (the refresh token is in the store). */
  authorization?: { authorizerAppid: string; expiresIn: number; funcInfo: unknown }
  [field: string]: unknown
}

/** Handle one event request; answer WeChat `success` when it resolves. Rejects with a CloudSDKError (errCode -40001 signature, -40005 appid, -40007 padding, …) and stores nothing when the request is not genuine. */
export type ComponentEventHandler = (request: ComponentEventRequest) => Promise<ComponentEvent>

/**
 * The handler of a third-party platform's event URL: checks `msg_signature`,
 * decrypts, stores the verify ticket, exchanges authorization codes and
 * stores the authorizers' refresh tokens, drops them on `unauthorized`.
 *
 * ```js
 * const handle = createComponentEventHandler({ componentAppid, componentAppsecret, token, encodingAesKey, store })
 * const event = await handle({ query: req.url, body }) // then answer 'success'
 * ```
 */
export declare function createComponentEventHandler(options: ComponentEventHandlerOptions): ComponentEventHandler
