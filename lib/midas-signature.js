'use strict'
// cloud.signature({ type: 'midas', params, secret }): a value to put in the
// params of a midas API (midas.getBalance, midas.pay, ... and their Sandbox
// twins); the call replaces it by the signature wx-server-sdk 4.0.2 computes
// (HMAC-SHA256 over the listed params, their values as the call sends them
// and the API's HTTPS path: crates/core/src/https/midas.rs), in the cloud
// call and in the HTTPS modes alike.
//
// Deliberate difference: the secret is not enumerable (JSON.stringify and
// console.log of the value do not show it), and a signature given to any other
// API is refused (the reference sends the whole object, secret included).

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
}

/** wx-server-sdk's camelCase -> snake_case of one key. */
function toSnake(key) {
  return key.replace(/[A-Z]/g, (match, ind) => `${ind ? '_' : ''}${match.toLowerCase()}`)
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
 * `api`, a midas API (the core's, which asks for the text of each signed
 * value only). Returns the new params. Throws an Error (as the reference
 * does) when a listed param is missing.
 */
function signParams(api, data, convertCase) {
  const binding = require('./load.js').loadBinding()
  const keys = Object.keys(data)
  const out = { ...data }
  for (const key of keys) {
    const val = data[key]
    if (!(val instanceof MidasSignature)) continue
    const names = [...val.params].sort().map((name) => toSnake(name))
    out[key] = binding.midasSignature(api, names, val.secret, keys, convertCase, (k) => `${data[k]}`)
  }
  return out
}

/** Is there a MidasSignature at the top of `data`? */
function hasSignature(data) {
  return Object.keys(data).some((k) => data[k] instanceof MidasSignature)
}

module.exports = { MidasSignature, signature, signParams, hasSignature }
