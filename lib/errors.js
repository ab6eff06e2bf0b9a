'use strict'
// The errors the package rejects with: wx-server-sdk's CloudSDKError (its
// `message` built as the reference builds it) and plain Errors, from the
// core's outcomes (settle: an outcome as its value or its Error) or built
// here with the core's codes (`contract()`): no error code is written in
// JavaScript.

const load = () => require('./load.js')

/** The reference SDK's description of an errCode ('' when it has none). */
function describeErrCode(code) {
  try {
    return load().loadBinding().describeErrCode(Number(code))
  } catch (_) {
    return ''
  }
}

/** The error class of WeChat and platform errors, as in wx-server-sdk. */
class CloudSDKError extends Error {
  constructor(options = {}) {
    super(options.errMsg)
    // The core's hint (what to do) follows the reference's message: -604100 names the API.
    const hint = typeof options.hint === 'string' && options.hint ? ` | ${options.hint}` : ''
    Object.defineProperty(this, 'message', {
      get() {
        const description = describeErrCode(this.errCode)
        return `errCode: ${this.errCode} ${description} | errMsg: ${this.errMsg}${hint}`
      },
      set(msg) {
        this.errMsg = msg
      },
      configurable: true,
      enumerable: false,
    })
    this.errCode = options.errCode || -1
    this.errMsg = options.errMsg
  }
}

/** A failed outcome of the core → the Error the reference would throw. */
function toError(outcome) {
  if (outcome.cloudError) {
    return new CloudSDKError({ errCode: outcome.errCode, errMsg: outcome.errMsg, hint: outcome.hint })
  }
  const err = new Error(outcome.errMsg)
  err.errCode = outcome.errCode
  err.errMsg = outcome.errMsg
  return err
}

/**
 * An outcome of the core → the resolved value, or throw its Error. A plain
 * success arrives as its JSON text alone; anything else as an object.
 */
function settle(outcome) {
  if (typeof outcome === 'string') return JSON.parse(outcome)
  // The core's debug line, if it made one.
  if (outcome.debugLine) console.error(outcome.debugLine)
  if (!outcome.ok) throw toError(outcome)
  if (typeof outcome.json === 'string') return JSON.parse(outcome.json)
  return { contentType: outcome.contentType, buffer: outcome.buffer, errMsg: outcome.errMsg, errCode: 0 }
}

/** `{where}:fail {msg}` as a CloudSDKError with the core's INVALID_PARAM (-501007). */
function invalidParam(where, msg) {
  return new CloudSDKError({ errCode: load().contract().errorCodes.invalidParam, errMsg: `${where}:fail ${msg}` })
}

/** The text of something thrown, without letting a hostile value throw again. */
function errorText(e) {
  try {
    return String((e && e.message) || e)
  } catch (_) {
    return 'an exception that cannot be shown'
  }
}

/** What a value is, for a message saying what was expected instead: `null`, `a number`, `Date`, … */
function describeType(value) {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  if (typeof value === 'object') {
    if (typeof value.then === 'function') return 'a Promise (did you forget `await`?)'
    return Object.prototype.toString.call(value).slice(8, -1)
  }
  return `a ${typeof value}`
}

module.exports = { CloudSDKError, toError, settle, invalidParam, errorText, describeType }
