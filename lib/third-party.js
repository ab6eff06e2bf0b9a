'use strict'
// The SDK-managed third-party tokens: one client serves any number of
// authorizers (`openapi({ appid })` picks one), with the tokens in a token
// store (lib/store.js) shared by every process that uses the same store.
//
// - A call with a fresh token in the process-local cache makes no store
//   round trip.
// - A token is requested once per expiry however many processes need it:
//   the one that takes the store's lock renews (reading the store again
//   first), the others keep using the current token while it is usable, or
//   wait and read what the renewal stored.
// - A token WeChat rejects (40001/40014/42001) is dropped from the store
//   only while it is still the stored one (compare-and-delete).
// - A rotated refresh token is in the store before the access token that
//   came with it is used; while the store cannot take it, it is kept in
//   this process and saved by the next call. On 61023 the store (and the
//   other sources) are read again before the call fails.
// - Every step, the user's callbacks and the store included, runs within
//   the call's one deadline (`timeout`).
//
// The token requests themselves go through the Rust core (`tokenRequest`),
// with the client's base URL, proxy and secret redaction.

const { keys } = require('./store.js')

const INVALID_PARAM = -501007
const INVALID_COMMON_PARAM = -501006
const SYS_ERR = -501001
const SERVER_TIMEOUT = -501002
const TOKEN_ERRORS = new Set([40001, 40014, 42001])
const REFRESH_TOKEN_INVALID = 61023

const TOKEN_NAMES = { component_token: 'component_access_token', authorizer_token: 'authorizer_access_token' }
const INNER_MARGIN_MS = 20

const RENEW_AHEAD_MS = 300000
const SKEW_MS = 30000

/** The deadline passed, or a step could not finish before it. */
class Late extends Error {}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

/** `promise`, or a `Late` rejection when `deadline` (epoch ms) passes first. */
function before(deadline, promise) {
  const left = deadline - Date.now()
  if (left <= 0) {
    Promise.resolve(promise).catch(() => {})
    return Promise.reject(new Late())
  }
  let timer
  const late = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Late()), left)
  })
  return Promise.race([promise, late]).finally(() => clearTimeout(timer))
}

/** Run a user callback: a thrown error or a non-promise value both become a promise. */
function invoke(fn, ...args) {
  return new Promise((resolve) => resolve(fn(...args)))
}

function errorText(e) {
  try {
    return String((e && e.message) || e)
  } catch (_) {
    return 'an exception that cannot be shown'
  }
}

/** A cached or stored access token: `{ raw, token, renewAt, usableUntil }`. */
function parseEntry(raw) {
  if (typeof raw !== 'string') return null
  try {
    const v = JSON.parse(raw)
    if (v && typeof v.token === 'string' && typeof v.renewAt === 'number' && typeof v.usableUntil === 'number') {
      return { raw, token: v.token, renewAt: v.renewAt, usableUntil: v.usableUntil }
    }
  } catch (_) {}
  return null
}

/**
 * A token that lives `expiresIn` seconds from now: renewed `min(5 min,
 * lifetime / 4)` before expiry, not used in its last `min(30 s, lifetime /
 * 10)` (the same schedule as the core's app tokens, crates/core/src/https/token.rs).
 */
function newEntry(token, expiresIn) {
  const now = Date.now()
  const lifetime = Math.max(1000, expiresIn * 1000)
  const renewAt = Math.floor(now + lifetime - Math.min(RENEW_AHEAD_MS, lifetime / 4))
  const usableUntil = Math.floor(now + lifetime - Math.min(SKEW_MS, lifetime / 10))
  const raw = JSON.stringify({ token, renewAt, usableUntil })
  return { raw, token, renewAt, usableUntil }
}

class ThirdPartyTokens {
  /**
   * @param {object} o
   * @param {object} o.client       the core's client (`tokenRequest`)
   * @param {object} o.store        a token store
   * @param {Function} o.makeError  (errCode, errMsg) => Error
   * @param {Function} o.envJson    () => the environment JSON text for the core
   */
  constructor(o) {
    this.client = o.client
    this.store = o.store
    this.makeError = o.makeError
    this.envJson = o.envJson
    this.componentAppid = o.componentAppid
    this.secrets = [o.componentAppsecret].filter(Boolean)
    this.defaultAuthorizer = o.authorizerAppid
    this.defaultRefreshToken = o.authorizerRefreshToken
    if (this.defaultRefreshToken) this.secrets.push(this.defaultRefreshToken)
    this.getComponentVerifyTicket = o.getComponentVerifyTicket
    /** Where else the ticket could have come from, for the message when the store has none. */
    this.noTicketHint = o.noTicketHint !== undefined ? o.noTicketHint : ' and getComponentVerifyTicket is not set'
    this.getAuthorizerRefreshToken = o.getAuthorizerRefreshToken
    this.onAuthorizerRefreshToken = o.onAuthorizerRefreshToken
    this.timeoutMs = o.timeoutMs
    /** api -> the start of its errMsg (the event handler's is `componentEvent:fail`). */
    this.failPrefix = o.failPrefix || ((api) => `openapi.${api}:fail`)
    /** key -> entry: the process-local cache in front of the store. */
    this.cache = o.cache
    /** key -> Promise<entry>: one acquisition per key in this process. */
    this.acquiring = new Map()
    /** authorizer -> a rotated refresh token the store has not taken yet. */
    this.unsaved = new Map()
    /** authorizer -> a rotated refresh token onAuthorizerRefreshToken has not accepted yet. */
    this.undelivered = new Map()
    /** authorizer -> the running onAuthorizerRefreshToken call (one at a time). */
    this.delivering = new Map()
    /** authorizer -> the store key of its access token. */
    this.authorizerKeys = new Map()
  }

  fail(api, errCode, msg) {
    return this.makeError(errCode, `${this.failPrefix(api)} ${this.scrub(msg)}`)
  }

  /** Hide every secret this manager has seen. */
  scrub(text) {
    let out = String(text)
    for (const s of this.secrets) {
      if (s && s.length >= 4) out = out.split(s).join('***')
    }
    return out
  }

  remember(secret) {
    if (secret && !this.secrets.includes(secret)) this.secrets.push(secret)
  }

  /** The authorizer a call acts for: `openapi({ appid })`, else `authorizerAppid`. */
  authorizerOf(api, appid) {
    const a = appid !== undefined && appid !== null ? String(appid) : this.defaultAuthorizer
    if (!a) {
      throw this.fail(api, INVALID_PARAM, 'option `appid` is required: pass openapi({ appid: authorizerAppid }), or authorizerAppid to init()')
    }
    return a
  }

  /** A store operation within the deadline; its failure is a clear error. */
  async stored(api, deadline, what, op) {
    try {
      return await before(deadline, invoke(op))
    } catch (e) {
      if (e instanceof Late) {
        throw this.fail(
          api,
          SERVER_TIMEOUT,
          `-501002 resource server timeout. the token store (${this.store.kind || 'custom'}) did not answer within the call's timeout of ${this.timeoutMs} ms while ${what}`,
        )
      }
      throw this.fail(api, SYS_ERR, `-501001 resource system error. the token store (${this.store.kind || 'custom'}) failed while ${what}: ${errorText(e)}`)
    }
  }

  /** A user callback within the deadline. */
  async callback(api, deadline, name, verb, ...args) {
    try {
      return await before(deadline, invoke(this[name], ...args))
    } catch (e) {
      const why = e instanceof Late ? `it did not ${verb} within ${this.timeoutMs} ms` : errorText(e)
      throw this.fail(api, INVALID_COMMON_PARAM, `${name} failed: ${why}`)
    }
  }

  /** A token request through the core, within the deadline. */
  async request(api, kind, args, deadline) {
    const left = Math.max(1, deadline - Date.now())
    const outcome = await this.client.tokenRequest(api, kind, args, left, this.envJson())
    if (typeof outcome === 'string') return JSON.parse(outcome)
    const err = this.makeError(outcome.errCode, outcome.errMsg, outcome.cloudError)
    err.fromWeChat = true
    throw err
  }

  /**
   * An access token for `key`: cached, stored, or renewed by `fetch(deadline)`
   * under the store's lock. Calls in this process share one acquisition.
   */
  async token(api, key, deadline, fetch) {
    const cached = this.cache.get(key)
    if (cached !== undefined && Date.now() < cached.renewAt) return cached
    let shared = this.acquiring.get(key)
    // A renewal ahead of expiry is under way here: the current token is still good.
    if (shared !== undefined && cached !== undefined && Date.now() < cached.usableUntil) return cached
    if (shared === undefined) {
      const name = TOKEN_NAMES[key.split(':')[0]]
      const late = () => this.fail(api, SERVER_TIMEOUT, `-501002 resource server timeout. no ${name} within the call's timeout of ${this.timeoutMs} ms`)
      // The acquisition ends its steps a little before the deadline, so that
      // the call that started it gets their own error rather than its timer's.
      const inner = Math.max(Date.now() + 1, deadline - INNER_MARGIN_MS)
      const promise = this.acquire(api, key, inner, fetch)
        .catch((e) => {
          throw e instanceof Late ? late() : e
        })
        .finally(() => this.acquiring.delete(key))
      shared = { promise, late, api }
      this.acquiring.set(key, shared)
    }
    return before(deadline, shared.promise).catch((e) => {
      throw this.forCaller(api, shared.api, e instanceof Late ? shared.late() : e)
    })
  }

  /**
   * The shared acquisition's error, made the caller's own: a call that
   * waited on another call's token request gets an Error of its own that
   * names its API, not the first caller's (issue 19 item 12).
   */
  forCaller(api, firstApi, e) {
    if (api === firstApi || !e || typeof e.errMsg !== 'string') return e
    const theirs = `${this.failPrefix(firstApi)} `
    if (!e.errMsg.startsWith(theirs)) return e
    const cloudError = Boolean(e.constructor) && e.constructor.name === 'CloudSDKError'
    const own = this.makeError(e.errCode, `${this.failPrefix(api)} ${e.errMsg.slice(theirs.length)}`, cloudError)
    for (const k of Object.keys(e)) if (!(k in own)) own[k] = e[k]
    return own
  }

  async acquire(api, key, deadline, fetch) {
    let pause = 10
    for (;;) {
      const found = parseEntry(await this.stored(api, deadline, `reading ${key.split(':')[0]}`, () => this.store.get(key)))
      if (found && Date.now() < found.renewAt) {
        this.cache.set(key, found)
        return found
      }
      // Held while the renewal runs: to the deadline, and for an authorizer
      // token as long as its request may take to complete (see fetchAuthorizer).
      const ttl = Math.max(1, deadline - Date.now()) + this.timeoutMs
      const lock = await this.stored(api, deadline, 'taking the renewal lock', () => this.store.lock(keys.lock(key), ttl))
      if (lock) {
        try {
          // Another process may have renewed between our read and the lock.
          const again = parseEntry(await this.stored(api, deadline, `reading ${key.split(':')[0]}`, () => this.store.get(key)))
          if (again && Date.now() < again.renewAt) {
            this.cache.set(key, again)
            return again
          }
          const entry = await fetch(deadline)
          this.cache.set(key, entry)
          // Shared with the other processes; if the store cannot take it now,
          // they renew on their own (nothing is lost: it is an access token).
          await this.stored(api, deadline, `saving ${key.split(':')[0]}`, () =>
            this.store.set(key, entry.raw, Math.max(1, entry.usableUntil - Date.now())),
          ).catch(() => {})
          return entry
        } finally {
          Promise.resolve()
            .then(() => lock.release())
            .catch(() => {}) // the lock expires on its own
        }
      }
      // Someone else renews: the current token is good enough while usable.
      if (found && Date.now() < found.usableUntil) return found
      if (deadline - Date.now() <= pause) throw new Late()
      await sleep(pause)
      pause = Math.min(pause * 2, 100)
    }
  }

  /** WeChat rejected `entry`'s token: drop it wherever it is still the current one. */
  async drop(api, key, entry, deadline) {
    const cached = this.cache.get(key)
    if (cached !== undefined && cached.raw === entry.raw) this.cache.delete(key)
    await this.stored(api, deadline, 'dropping a rejected token', () => this.store.compareAndDelete(key, entry.raw))
  }

  // ---- component_access_token ------------------------------------------

  componentToken(api, deadline) {
    const key = keys.componentToken(this.componentAppid)
    return this.token(api, key, deadline, async (inner) => {
      const ticket = await this.ticket(api, inner)
      const r = await this.request(api, 'component', { ticket }, inner)
      return newEntry(r.token, r.expiresIn)
    })
  }

  async ticket(api, deadline) {
    let ticket
    if (typeof this.getComponentVerifyTicket === 'function') {
      ticket = await this.callback(api, deadline, 'getComponentVerifyTicket', 'return')
    } else {
      ticket = await this.stored(api, deadline, 'reading the component_verify_ticket', () => this.store.get(keys.ticket(this.componentAppid)))
      if (ticket === null || ticket === undefined) {
        throw this.fail(
          api,
          INVALID_COMMON_PARAM,
          `no component_verify_ticket: the token store has none under ${keys.ticket(this.componentAppid)} (WeChat pushes it to your event URL every 10 minutes)${this.noTicketHint}`,
        )
      }
    }
    if (typeof ticket !== 'string' || ticket.trim() === '') {
      throw this.fail(api, INVALID_COMMON_PARAM, 'getComponentVerifyTicket returned no ticket (WeChat pushes it to your server every 10 minutes)')
    }
    this.remember(ticket)
    return ticket
  }

  // ---- authorizer tokens -----------------------------------------------

  /** The store key of `authorizer`'s access token (built once per authorizer). */
  authorizerKey(authorizer) {
    let key = this.authorizerKeys.get(authorizer)
    if (key === undefined) {
      key = keys.authorizerToken(this.componentAppid, authorizer)
      this.authorizerKeys.set(authorizer, key)
    }
    return key
  }

  /**
   * The fast path of a call: `authorizer`'s access token from the
   * process-local cache when `authorizerToken` would return it at once
   * (cached, not due for renewal, no rotated refresh token waiting for
   * onAuthorizerRefreshToken); `undefined` otherwise. Synchronous: no
   * promise, no store round trip.
   */
  cachedAuthorizerToken(authorizer) {
    const cached = this.cache.get(this.authorizerKey(authorizer))
    if (cached === undefined || Date.now() >= cached.renewAt) return undefined
    if (this.undelivered.size !== 0 && this.undelivered.has(authorizer)) return undefined
    return cached
  }

  /** The access token of `authorizer` (an entry), its rotated refresh token delivered. */
  async authorizerToken(api, authorizer, deadline) {
    const key = this.authorizerKey(authorizer)
    const entry = await this.token(api, key, deadline, (inner) => this.fetchAuthorizer(api, authorizer, inner))
    if (this.undelivered.size !== 0 && this.undelivered.has(authorizer)) await this.deliver(api, authorizer, deadline)
    return entry
  }

  dropAuthorizerToken(api, authorizer, entry, deadline) {
    return this.drop(api, this.authorizerKey(authorizer), entry, deadline)
  }

  /**
   * The refresh tokens to try for `authorizer`, best first: one the store
   * has not taken yet, the store's, `getAuthorizerRefreshToken`'s, init()'s.
   * Each source is read only when the ones before gave nothing usable.
   */
  async *refreshCandidates(api, authorizer, deadline) {
    const seen = new Set()
    const offer = (t, source) => {
      if (typeof t !== 'string' || t === '' || seen.has(t)) return null
      seen.add(t)
      this.remember(t)
      return { token: t, source }
    }
    let c = offer(this.unsaved.get(authorizer), 'unsaved')
    if (c) yield c
    const key = keys.refreshToken(this.componentAppid, authorizer)
    c = offer(await this.stored(api, deadline, 'reading the authorizer refresh token', () => this.store.get(key)), 'store')
    if (c) yield c
    if (typeof this.getAuthorizerRefreshToken === 'function') {
      c = offer(await this.callback(api, deadline, 'getAuthorizerRefreshToken', 'return', authorizer), 'function')
      if (c) yield c
    }
    if (authorizer === this.defaultAuthorizer) {
      c = offer(this.defaultRefreshToken, 'init')
      if (c) yield c
    }
    // 61023 with every source tried: the store may have been given a new
    // one (another process rotated it, or a new authorization) meanwhile.
    c = offer(await this.stored(api, deadline, 'reading the authorizer refresh token', () => this.store.get(key)), 'store')
    if (c) yield c
    if (seen.size === 0) {
      // Only to say why: a store that fails here leaves the message without it.
      const revokedAt = await this.stored(api, deadline, 'reading the record of a revocation', () =>
        this.store.get(keys.revoked(this.componentAppid, authorizer)),
      ).catch(() => null)
      throw this.fail(
        api,
        INVALID_PARAM,
        `option \`appid\`: no refresh token for authorizer "${authorizer}": ` +
          (revokedAt ? `it revoked its authorization at ${revokedAt} (unauthorized event) and has not authorized again; ` : '') +
          `the token store has none under ${key}` +
          (typeof this.getAuthorizerRefreshToken === 'function' ? ', getAuthorizerRefreshToken returned none' : ', getAuthorizerRefreshToken is not set') +
          (this.defaultAuthorizer && this.defaultAuthorizer !== authorizer ? ` and init()'s authorizerRefreshToken is for "${this.defaultAuthorizer}"` : ''),
      )
    }
  }

  async fetchAuthorizer(api, authorizer, deadline) {
    let componentRetried = false
    let lastRefused = null
    for await (const refresh of this.refreshCandidates(api, authorizer, deadline)) {
      for (;;) {
        const component = await this.componentToken(api, deadline)
        let r
        try {
          // Given its whole timeout, whatever is left of the call's: the
          // answer may carry a rotated refresh token (the only copy once
          // WeChat has refused the old one), so it is read and saved even
          // when the call that asked for it has given up.
          r = await this.request(
            api,
            'authorizer',
            { componentToken: component.token, authorizerAppid: authorizer, refreshToken: refresh.token },
            Date.now() + this.timeoutMs,
          )
        } catch (e) {
          if (e.fromWeChat && TOKEN_ERRORS.has(e.errCode) && !componentRetried) {
            componentRetried = true
            await this.drop(api, keys.componentToken(this.componentAppid), component, deadline)
            continue
          }
          if (e.fromWeChat && e.errCode === REFRESH_TOKEN_INVALID) {
            lastRefused = e
            break // the next candidate
          }
          throw e
        }
        if (r.refreshToken) {
          // Rotated: the old one is refused from now on. Keep the new one
          // before anything else can go wrong, then save it.
          this.remember(r.refreshToken)
          this.unsaved.set(authorizer, r.refreshToken)
          if (typeof this.onAuthorizerRefreshToken === 'function') this.undelivered.set(authorizer, r.refreshToken)
          await this.saveRefresh(api, authorizer, r.refreshToken, Math.max(deadline, Date.now() + this.timeoutMs))
        } else if (refresh.source !== 'store') {
          // It works and the store does not have it: keep it for the others.
          await this.saveRefresh(api, authorizer, refresh.token, deadline).catch(() => {})
        }
        return newEntry(r.token, r.expiresIn)
      }
    }
    lastRefused.errMsg +=
      ' (every refresh token known for this authorizer was refused: the token store, getAuthorizerRefreshToken and init() have no newer one; the merchant must authorize the platform again)'
    throw lastRefused
  }

  /** Save a refresh token, retrying until the deadline: it must not be lost. */
  async saveRefresh(api, authorizer, token, deadline) {
    const key = keys.refreshToken(this.componentAppid, authorizer)
    let pause = 5
    for (;;) {
      try {
        await this.stored(api, deadline, 'saving the new authorizer refresh token', () => this.store.set(key, token))
        if (this.unsaved.get(authorizer) === token) this.unsaved.delete(authorizer)
        return
      } catch (e) {
        if (deadline - Date.now() <= pause) {
          e.errMsg += '; WeChat issued a new authorizer refresh token: it is kept in this process and saved by the next call'
          throw e
        }
        await sleep(pause)
        pause = Math.min(pause * 2, 100)
      }
    }
  }

  /**
   * Hand the latest rotated refresh token to onAuthorizerRefreshToken, one
   * call at a time per authorizer: a callback still running (even one the
   * SDK gave up on) finishes before a newer token is handed over, so a late
   * write never overwrites a newer token.
   */
  async deliver(api, authorizer, deadline) {
    for (;;) {
      const running = this.delivering.get(authorizer)
      if (running !== undefined) {
        let done
        try {
          done = await before(deadline, running)
        } catch (_) {
          throw this.deliveryFailed(api, `it did not finish within ${this.timeoutMs} ms`)
        }
        // That delivery of the same token failed: so does this call (the next one offers it again).
        if (!done.ok && this.undelivered.get(authorizer) === done.token) throw this.deliveryFailed(api, done.why)
        continue
      }
      const token = this.undelivered.get(authorizer)
      if (token === undefined) return
      const tracked = invoke(this.onAuthorizerRefreshToken, token, { appid: authorizer })
        .then(
          () => {
            if (this.undelivered.get(authorizer) === token) this.undelivered.delete(authorizer)
            return { ok: true, token }
          },
          (e) => ({ ok: false, token, why: errorText(e) }),
        )
        .finally(() => {
          if (this.delivering.get(authorizer) === tracked) this.delivering.delete(authorizer)
        })
      this.delivering.set(authorizer, tracked)
      let done
      try {
        done = await before(deadline, tracked)
      } catch (_) {
        throw this.deliveryFailed(api, `it did not finish within ${this.timeoutMs} ms`)
      }
      if (!done.ok) throw this.deliveryFailed(api, done.why)
    }
  }

  deliveryFailed(api, why) {
    return this.fail(
      api,
      INVALID_COMMON_PARAM,
      `onAuthorizerRefreshToken failed: ${why}; WeChat issued a new authorizer refresh token, which is kept in the token store and offered to the callback again on the next call`,
    )
  }
}

module.exports = { ThirdPartyTokens, newEntry, parseEntry, TOKEN_ERRORS }
