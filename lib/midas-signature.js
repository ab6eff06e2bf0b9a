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

const { invalidParam, errorText } = require('./errors.js')

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

function signature(options) {
  switch (options.type) {
    case 'midas':
      return new MidasSignature(options)
  }
  return undefined
}

/**
 * Params with cloud.signature() values → the params with each replaced by
 * its signature, computed for the API's path as wx-server-sdk computes it
 * (by the core, which asks for the text of each signed value only); the
 * params themselves when they hold none. Only the midas APIs take one; a
 * missing signed param throws the reference's Error (errCode -1).
 */
function signParams(api, data, convertCase) {
  const keys = Object.keys(data)
  let out = data
  for (const key of keys) {
    const val = data[key]
    if (!(val instanceof MidasSignature)) continue
    const binding = require('./load.js').loadBinding()
    if (!api.startsWith('midas.') || !binding.apiRoute(api)) {
      throw invalidParam(
        `openapi.${api}`,
        `param \`${key}\` is a cloud.signature({ type: 'midas' }) value, which only the midas APIs (midas.getBalance, midas.pay, midas.cancelPay, midas.present and their Sandbox twins) take`,
      )
    }
    if (out === data) out = { ...data }
    try {
      out[key] = binding.midasSignature(api, val.params, val.secret, keys, convertCase, (k) => `${data[k]}`)
    } catch (e) {
      const err = new Error(`openapi.${api}:fail ${errorText(e)}`)
      err.errCode = -1
      err.errMsg = err.message
      throw err
    }
  }
  return out
}

module.exports = { signature, signParams }
