'use strict'
// The third-party platform's event endpoint: WeChat posts the
// component_verify_ticket every 10 minutes, and authorization events, as
// encrypted XML. The checks, the crypto and acting on the event (the token
// store, in CreateTime order) happen in Rust (crates/core/src/platform/events.rs,
// crates/core/src/token/component/authorization.rs); this file reads the
// request. The component_access_token api_query_auth needs is the one the
// platform's clients use: the same store, lock and code, so the handler and
// every client make one component-token request per expiry.

const { keys: storeKeys, storeHandle, componentHooks, storeProblem } = require('./store.js')

const { toError, settle, invalidParam, errorText } = require('./errors.js')

/** A bad option or request: `componentEvent:fail {msg}`, INVALID_PARAM. */
const invalid = (msg) => invalidParam('componentEvent', msg)

/** The options checked in Rust (src/binding/events.rs), which names the one at fault. */
const CHECKED_IN_RUST = ['componentAppid', 'componentAppsecret', 'token', 'encodingAesKey', 'apiBaseUrl', 'timeout', 'proxy']

/** The first value of a query field (frameworks give arrays for repeated keys). */
function first(v) {
  if (Array.isArray(v)) v = v[0]
  return typeof v === 'string' ? v : undefined
}

/**
 * `req.url`, a query string or URLSearchParams (the core reads them as text)
 * or a parsed query object (its three fields).
 */
function readQuery(query) {
  if (typeof query === 'string' || query instanceof URLSearchParams) return String(query)
  if (query && typeof query === 'object') {
    return { timestamp: first(query.timestamp), nonce: first(query.nonce), msgSignature: first(query.msg_signature) }
  }
  throw invalid('`query` must be the request URL, its query string, URLSearchParams or a parsed query object')
}

function readBody(body) {
  if (Buffer.isBuffer(body)) return body
  if (typeof body === 'string') return Buffer.from(body, 'utf8')
  if (body instanceof Uint8Array) return Buffer.from(body.buffer, body.byteOffset, body.byteLength)
  throw invalid('`body` must be the raw request body (a Buffer or a string); with Express use express.raw({ type: () => true }) on this route')
}

/**
 * The handler of a third-party platform's event URL.
 *
 *   const handle = createComponentEventHandler({ componentAppid, componentAppsecret, token, encodingAesKey, store })
 *   const event = await handle({ query: req.url, body })   // then answer 'success'
 */
function createComponentEventHandler(options) {
  if (!options || typeof options !== 'object') throw invalid('options must be an object')
  const given = {}
  for (const name of CHECKED_IN_RUST) {
    const v = options[name]
    // A value JSON carries as it is; anything else (an object, NaN, a BigInt) as what no option takes.
    given[name] = typeof v === 'string' || Number.isFinite(v) || v === null || v === undefined ? v : []
  }
  if (given.apiBaseUrl === undefined || given.apiBaseUrl === null) given.apiBaseUrl = process.env.WX_API_BASE_URL || undefined
  const store = options.store
  const problem = storeProblem(store)
  if (problem) throw invalid(`option \`store\` ${problem}`)
  const onRefresh = options.onAuthorizerRefreshToken
  if (onRefresh !== undefined && onRefresh !== null && typeof onRefresh !== 'function') {
    throw invalid('option `onAuthorizerRefreshToken` must be a function (token, { appid }) => …')
  }
  // Told an authorization's refresh token when the store never takes it.
  const [hooks, hookNames] = componentHooks({ onAuthorizerRefreshToken: onRefresh })
  const binding = require('./load.js').loadBinding()
  const events = binding.createComponentEvents(JSON.stringify(given), storeHandle(store), hooks, hookNames)
  if (events.ok === false) throw toError(events)

  return async function handleComponentEvent(request) {
    if (!request || typeof request !== 'object') {
      throw invalid('handle({ query, body }): the request must be an object')
    }
    let query
    let body
    try {
      query = readQuery(request.query !== undefined ? request.query : request.url)
      body = readBody(request.body)
    } catch (e) {
      // A throwing getter, a revoked Proxy, a detached buffer: the caller's
      // object, reported as every other failure is (issue 19 item 13).
      if (e instanceof Error && e.errCode !== undefined) throw e
      throw invalid(`handle({ query, body }): the request cannot be read: ${errorText(e)}`)
    }
    // Every failure is a CloudSDKError (src/binding/events.rs).
    return settle(await events.handle(query, body))
  }
}

module.exports = { createComponentEventHandler, storeKeys }
