'use strict'

// How a call's outcome is described, the same way for the reference SDK (in a
// child process) and for ours: JSON-safe, key order preserved.

function isPlainObject(v) {
  return Object.prototype.toString.call(v) === '[object Object]'
}

// Buffers become {buffer_hex}; arrays and plain objects are copied in order.
function normalize(v) {
  if (Buffer.isBuffer(v)) return { buffer_hex: v.toString('hex') }
  if (Array.isArray(v)) return v.map(normalize)
  if (v && typeof v === 'object' && isPlainObject(v)) {
    const out = {}
    for (const k of Object.keys(v)) out[k] = normalize(v[k])
    return out
  }
  return v
}

function describeError(e) {
  if (e === null || (typeof e !== 'object' && typeof e !== 'function')) {
    return { threw: true, ctor: null, thrown: String(e) }
  }
  return {
    threw: true,
    ctor: e.constructor ? e.constructor.name : null,
    isError: e instanceof Error,
    errCode: e.errCode,
    errMsg: e.errMsg,
    message: e.message,
    keys: Object.keys(e),
  }
}

// fn may throw synchronously (sync: true) or return a promise.
function capture(fn, timeoutMs = 10000) {
  let p
  try {
    p = fn()
  } catch (e) {
    return Promise.resolve({ ...describeError(e), sync: true })
  }
  let timer
  const timeout = new Promise((resolve) => {
    timer = setTimeout(() => resolve({ threw: true, ctor: null, timeout: true, sync: false }), timeoutMs)
  })
  const settled = Promise.resolve(p).then(
    (value) => ({ threw: false, sync: false, value: normalize(value), json: JSON.stringify(normalize(value)) }),
    (e) => ({ ...describeError(e), sync: false }),
  )
  return Promise.race([settled, timeout]).finally(() => clearTimeout(timer))
}

// The two calling forms of the brief: cloud.openapi.tcb.createenvandresource(p)
// and cloud.openapi(options).tcb.createenvandresource(p); `name` picks
// another API (a dotted path such as 'wxacode.getUnlimited').
function invoke(cloud, input, options, name = 'tcb.createenvandresource') {
  const api = options ? cloud.openapi(options) : cloud.openapi
  return name.split('.').reduce((o, k) => o[k], api)(input)
}

module.exports = { normalize, describeError, capture, invoke, isPlainObject }
