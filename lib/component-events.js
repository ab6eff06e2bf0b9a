'use strict'
// The third-party platform's event endpoint: WeChat posts the
// component_verify_ticket every 10 minutes, and authorization events, as
// encrypted XML. The checks and the crypto happen in Rust
// (crates/core/src/https/msg_crypt.rs, events.rs, authorization.rs); acting
// on the event (the token store) happens here. The component_access_token
// api_query_auth needs is the one the platform's clients use: taken from the
// same store, under its lock, by the same code (lib/third-party.js), so the
// handler and every client make one component-token request per expiry.

let binding = null
function loadBinding() {
  if (binding === null) binding = require('./load.js').loadBinding()
  return binding
}

// The verify ticket is valid for 12 hours; the newest one wins.
const TICKET_TTL_MS = 12 * 3600 * 1000
// How long the record of a revocation is kept (for the message of a failing call).
const REVOKED_TTL_MS = 30 * 24 * 3600 * 1000

const { keys: storeKeys, localCache } = require('./store.js')
const { ThirdPartyTokens, TOKEN_ERRORS, newEntry } = require('./third-party.js')

function sdkError(errCode, msg) {
  const { CloudSDKError } = require('../index.js')
  return new CloudSDKError({ errCode, errMsg: `componentEvent:fail ${msg}` })
}

function errorText(e) {
  try {
    return String((e && e.message) || e)
  } catch (_) {
    return 'an exception that cannot be shown'
  }
}

function requireString(options, name) {
  const v = options[name]
  if (typeof v !== 'string' || v.trim() === '') {
    throw sdkError(-501007, `option \`${name}\` must be a non-empty string`)
  }
  return v
}

function checkStore(store) {
  const methods = ['get', 'set', 'compareAndDelete', 'lock']
  if (!store || typeof store !== 'object' || methods.some((m) => typeof store[m] !== 'function')) {
    throw sdkError(-501007, 'option `store` must be a token store with get, set, compareAndDelete and lock (cloud.memoryStore() or cloud.redisStore(client))')
  }
  return store
}

/** The first value of a query field (frameworks give arrays for repeated keys). */
/** A URLSearchParams value, with `null` (absent) as undefined. */
function orUndefined(v) {
  return v === null ? undefined : v
}

function first(v) {
  if (Array.isArray(v)) v = v[0]
  return typeof v === 'string' ? v : undefined
}

/** `req.url`, a query string, URLSearchParams or a parsed query object → the three fields. */
function readQuery(query) {
  if (typeof query === 'string') {
    const i = query.indexOf('?')
    query = new URLSearchParams(i >= 0 ? query.slice(i + 1) : query)
  }
  if (query instanceof URLSearchParams) {
    return {
      timestamp: orUndefined(query.get('timestamp')),
      nonce: orUndefined(query.get('nonce')),
      msgSignature: orUndefined(query.get('msg_signature')),
    }
  }
  if (query && typeof query === 'object') {
    return { timestamp: first(query.timestamp), nonce: first(query.nonce), msgSignature: first(query.msg_signature) }
  }
  throw sdkError(-501007, '`query` must be the request URL, its query string, URLSearchParams or a parsed query object')
}

function readBody(body) {
  if (Buffer.isBuffer(body)) return body
  if (typeof body === 'string') return Buffer.from(body, 'utf8')
  if (body instanceof Uint8Array) return Buffer.from(body.buffer, body.byteOffset, body.byteLength)
  throw sdkError(-501007, '`body` must be the raw request body (a Buffer or a string); with Express use express.raw({ type: () => true }) on this route')
}

/** Settle `promise` before `deadline` (ms since epoch) or fail naming `what`. */
function before(deadline, what, promise) {
  const left = deadline - Date.now()
  let timer
  const late = new Promise((_, reject) => {
    timer = setTimeout(() => reject(sdkError(-501002, `${what} did not finish within the handler's timeout`)), Math.max(0, left))
  })
  return Promise.race([Promise.resolve(promise), late]).finally(() => clearTimeout(timer))
}

/** `text` with every secret in `secrets` replaced by `***`. */
function scrub(text, secrets) {
  let out = text
  for (const s of secrets) if (typeof s === 'string' && s.length >= 4) out = out.split(s).join('***')
  return out
}

/** A store call that may throw → a CloudSDKError naming the step (no secret in it). */
async function storeStep(deadline, what, fn, secrets = []) {
  try {
    return await before(deadline, what, Promise.resolve().then(fn))
  } catch (e) {
    if (e && e.errCode === -501002) throw e
    throw sdkError(-501001, `${what} failed: ${scrub(errorText(e), secrets)}`)
  }
}

/** Delete `key` whatever its value (compare-and-delete until it is gone). */
async function drop(store, deadline, key, what) {
  for (let i = 0; i < 5; i++) {
    const v = await storeStep(deadline, `reading ${what}`, () => store.get(key))
    if (v === null || v === undefined) return
    if (await storeStep(deadline, `deleting ${what}`, () => store.compareAndDelete(key, v), [v])) return
  }
  throw sdkError(-501001, `deleting ${what} failed: it kept changing`)
}

/**
 * The handler of a third-party platform's event URL.
 *
 *   const handle = createComponentEventHandler({ componentAppid, componentAppsecret, token, encodingAesKey, store })
 *   const event = await handle({ query: req.url, body })   // then answer 'success'
 */
function createComponentEventHandler(options) {
  if (!options || typeof options !== 'object') throw sdkError(-501007, 'options must be an object')
  const componentAppid = requireString(options, 'componentAppid')
  const componentAppsecret = requireString(options, 'componentAppsecret')
  const token = requireString(options, 'token')
  const encodingAesKey = requireString(options, 'encodingAesKey')
  const store = checkStore(options.store)
  let apiBaseUrl = options.apiBaseUrl
  if (apiBaseUrl === undefined || apiBaseUrl === null) apiBaseUrl = process.env.WX_API_BASE_URL || undefined
  else if (typeof apiBaseUrl !== 'string') throw sdkError(-501007, 'option `apiBaseUrl` must be a string')
  const { defaultTimeoutMs, maxTimeoutMs } = require('./load.js').contract()
  const timeout = options.timeout === undefined || options.timeout === null ? defaultTimeoutMs : options.timeout
  if (!Number.isInteger(timeout) || timeout < 1 || timeout > maxTimeoutMs) {
    throw sdkError(-501007, `option \`timeout\` must be a number of milliseconds between 1 and ${maxTimeoutMs}`)
  }
  if (options.proxy !== undefined && options.proxy !== null && typeof options.proxy !== 'string') {
    throw sdkError(-501007, 'option `proxy` must be a string')
  }
  const b = loadBinding()
  const made = b.createComponentEvents({
    componentAppid,
    componentAppsecret,
    token,
    encodingAesKey,
    apiBaseUrl,
    timeoutMs: timeout,
    proxy: options.proxy || undefined,
  })
  if (made && made.ok === false) throw sdkError(made.errCode, made.errMsg.replace(/^componentEvent:fail /, ''))
  const events = made
  const { CloudSDKError } = require('../index.js')
  // The platform's component token, shared through the store with its clients.
  const tokens = new ThirdPartyTokens({
    client: {
      async tokenRequest(_api, _kind, args, leftMs) {
        const o = await events.componentToken(args.ticket, leftMs)
        return typeof o === 'string' || !o.ok ? o : o.json
      },
    },
    store,
    cache: localCache(store),
    makeError: (errCode, errMsg) => new CloudSDKError({ errCode, errMsg }),
    envJson: () => undefined,
    componentAppid,
    componentAppsecret,
    timeoutMs: timeout,
    failPrefix: () => 'componentEvent:fail',
    // The handler takes no ticket callback: it stores the tickets itself.
    noTicketHint: ': no component_verify_ticket event has reached this handler yet',
  })

  /** api_query_auth with the shared component token; a rejected one is dropped and renewed once. */
  async function queryAuth(code, deadline) {
    for (let retried = false; ; retried = true) {
      const component = await tokens.componentToken('componentEvent', deadline)
      const outcome = await before(deadline, 'api_query_auth', events.queryAuth(code, component.token, Math.max(1, deadline - Date.now())))
      if (typeof outcome !== 'string' && !outcome.ok && TOKEN_ERRORS.has(outcome.errCode) && !retried) {
        // A token error proves the code was not used: drop the token
        // (only while it is still the stored one) and ask once more.
        await tokens.drop('componentEvent', storeKeys.componentToken(componentAppid), component, deadline)
        continue
      }
      return settleOutcome(outcome)
    }
  }

  async function authorized(event, deadline) {
    const authorizer = event.AuthorizerAppid
    const code = event.AuthorizationCode
    if (!authorizer || !code) {
      throw sdkError(-40002, `the ${event.InfoType} event has no AuthorizerAppid or AuthorizationCode`)
    }
    const auth = await queryAuth(code, deadline)
    if (auth.authorizerAppid !== authorizer) {
      throw sdkError(-40005, `api_query_auth answered for ${auth.authorizerAppid}, the event was for ${authorizer}`)
    }
    await storeStep(
      deadline,
      "saving the authorizer's refresh token",
      () => store.set(storeKeys.refreshToken(componentAppid, authorizer), auth.authorizerRefreshToken),
      [auth.authorizerRefreshToken, auth.authorizerAccessToken],
    )
    // The access token that came with it replaces whatever was cached or
    // stored for the account: the clients use it without asking WeChat. If
    // the store cannot take it, they ask for their own (nothing is lost).
    const key = storeKeys.authorizerToken(componentAppid, authorizer)
    const entry = newEntry(auth.authorizerAccessToken, auth.expiresIn)
    localCache(store).set(key, entry)
    await storeStep(deadline, "saving the authorizer's access token", () => store.set(key, entry.raw, Math.max(1, entry.usableUntil - Date.now())), [
      auth.authorizerAccessToken,
    ]).catch(() => localCache(store).delete(key))
    // Best effort, as the access token above: the code is spent, so failing
    // the event now would make WeChat's retry fail for good (61009), and a
    // stale record only adds a line to the message of a call that has no
    // refresh token anyway.
    await drop(store, deadline, storeKeys.revoked(componentAppid, authorizer), 'the record of an earlier revocation').catch(() => {})
    return { authorizerAppid: auth.authorizerAppid, expiresIn: auth.expiresIn, funcInfo: auth.funcInfo }
  }

  async function unauthorized(event, deadline) {
    const authorizer = event.AuthorizerAppid
    if (!authorizer) throw sdkError(-40002, 'the unauthorized event has no AuthorizerAppid')
    localCache(store).delete(storeKeys.authorizerToken(componentAppid, authorizer))
    await drop(store, deadline, storeKeys.refreshToken(componentAppid, authorizer), "the authorizer's refresh token")
    await drop(store, deadline, storeKeys.authorizerToken(componentAppid, authorizer), "the authorizer's access token")
    // Kept a while, so a call for this authorizer can tell why it has no
    // refresh token (lib/third-party.js); removed when it authorizes again.
    const at = Number.isFinite(Number(event.CreateTime)) ? new Date(Number(event.CreateTime) * 1000) : new Date()
    await storeStep(deadline, 'recording the revocation', () => store.set(storeKeys.revoked(componentAppid, authorizer), at.toISOString(), REVOKED_TTL_MS))
  }

  return async function handleComponentEvent(request) {
    const deadline = Date.now() + timeout
    if (!request || typeof request !== 'object') {
      throw sdkError(-501007, 'handle({ query, body }): the request must be an object')
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
      throw sdkError(-501007, `handle({ query, body }): the request cannot be read: ${errorText(e)}`)
    }
    const event = settleOutcome(events.open(query, body))
    switch (event.InfoType) {
      case 'component_verify_ticket': {
        const ticket = event.ComponentVerifyTicket
        if (!ticket) throw sdkError(-40002, 'the component_verify_ticket event has no ComponentVerifyTicket')
        await storeStep(deadline, 'saving the verify ticket', () => store.set(storeKeys.ticket(componentAppid), ticket, TICKET_TTL_MS), [ticket])
        return event
      }
      case 'authorized':
      case 'updateauthorized':
        return { ...event, authorization: await authorized(event, deadline) }
      case 'unauthorized':
        await unauthorized(event, deadline)
        return event
      default:
        return event
    }
  }
}

/** An outcome of the core → its value, or throw its error. */
function settleOutcome(outcome) {
  if (typeof outcome === 'string') return JSON.parse(outcome)
  if (outcome.ok) return JSON.parse(outcome.json)
  const { CloudSDKError } = require('../index.js')
  throw new CloudSDKError({ errCode: outcome.errCode, errMsg: outcome.errMsg })
}

module.exports = { createComponentEventHandler, storeKeys }
