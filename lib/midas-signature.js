'use strict'
// cloud.signature({ type: 'midas', params, secret }): a value to put in the
// params of a midas API (midas.getBalance, midas.pay, ... and their Sandbox
// twins); the call replaces it by the signature wx-server-sdk 4.0.2 computes:
// HMAC-SHA256, keyed with `secret`, of
//   `${name}=${value}&...&org_loc=${path}&method=POST&secret=${secret}`
// over the listed params (sorted, then snake_cased), their values as the call
// sends them, and the API's HTTPS path. The hex digest goes in place of the
// value, in the cloud call and in the HTTPS modes alike.
//
// Deliberate difference: the secret is not enumerable (JSON.stringify and
// console.log of the value do not show it), and a signature given to any other
// API is refused (the reference sends the whole object, secret included).

const crypto = require('crypto')

class MidasSignature {
  constructor(options) {
    this.type = 'midas'
    if (!options.params || !Array.isArray(options.params)) {
      throw new Error('options.params must be a string array')
    }
    if (!options.secret) {
      throw new Error('options.secret must be provided')
    }
    this.params = options.params
    Object.defineProperty(this, 'secret', { value: options.secret, enumerable: false, writable: true, configurable: true })
  }

  /** The signature for a call to `cgiPath` whose (converted) params are `paramValues`. */
  compute(cgiPath, method, secret, paramValues) {
    const paramStr = [...this.params]
      .sort()
      .map((name) => toSnake(name))
      .map((name) => {
        // biome-ignore lint/suspicious/noPrototypeBuiltins: Object.hasOwn needs Node 16.9, and package.json promises Node >= 16
        if (!Object.prototype.hasOwnProperty.call(paramValues, name)) {
          throw new Error(`Cannot compute signature: lack of param '${name}'`)
        }
        return `${name}=${paramValues[name]}`
      })
      .join('&')
    const signSource = `${paramStr}&org_loc=${cgiPath}&method=${method}&secret=${secret}`
    return crypto.createHmac('sha256', secret).update(signSource).digest('hex')
  }
}

/** wx-server-sdk's camelCase -> snake_case of one key. */
function toSnake(key) {
  return key.replace(/[A-Z]/g, (match, ind) => `${ind ? '_' : ''}${match.toLowerCase()}`)
}

/** The params' top-level keys converted as wx-server-sdk converts them (later keys win a collision). */
function snakeKeys(data) {
  const out = Object.assign({}, data)
  for (const key in out) {
    const val = out[key]
    const convertedKey = toSnake(key)
    out[convertedKey] = val
    if (convertedKey !== key) delete out[key]
  }
  return out
}

function signature(options) {
  switch (options.type) {
    case 'midas':
      return new MidasSignature(options)
  }
  return undefined
}

/**
 * Replace each MidasSignature at the top of `data` by its signature for
 * `route` (the API's row of the path table). Returns the new params, or
 * `data` itself when there is none. Throws an Error (as the reference does)
 * when a listed param is missing.
 */
function signParams(data, route, convertCase) {
  let out = data
  let values
  for (const key of Object.keys(data)) {
    const val = data[key]
    if (!(val instanceof MidasSignature)) continue
    if (values === undefined) values = convertCase ? snakeKeys(data) : data
    if (out === data) out = { ...data }
    out[key] = val.compute(route.path, route.method, val.secret, values)
  }
  return out
}

/** Is there a MidasSignature at the top of `data`? */
function hasSignature(data) {
  return Object.keys(data).some((k) => data[k] instanceof MidasSignature)
}

module.exports = { MidasSignature, signature, signParams, hasSignature }
