'use strict'
// cloud.getWXContext(): the WeChat context of the running cloud function, read
// from process.env exactly as wx-server-sdk 4.0.2 reads it.
//
// The variables named in WX_CONTEXT_KEYS (comma-separated) become keys, with
// the `WX_` prefix dropped (WX_OPENID -> OPENID) and integer-looking values
// turned into numbers; the token variables API_TOKEN and TRIGGER_API_TOKEN_V0
// (with or without the prefix) are never copied. ENV is TCB_ENV, else
// SCF_NAMESPACE; SOURCE is TCB_SOURCE when set. Outside a cloud function
// (no WX_CONTEXT_KEYS) the context is `{}`.

const WX_PREFIX = 'WX_'
const CONTEXT_KEYS_BLACKLIST = ['API_TOKEN', 'TRIGGER_API_TOKEN_V0']

function isContextKeyInBlacklist(key) {
  return CONTEXT_KEYS_BLACKLIST.some((v) => v === key || WX_PREFIX + v === key)
}

function getWXContext(env = process.env) {
  const wxContext = {}
  if (!env.WX_CONTEXT_KEYS) return wxContext
  for (const key of env.WX_CONTEXT_KEYS.split(',')) {
    if (!key || isContextKeyInBlacklist(key)) continue
    let val = env[key]
    if (val === undefined) continue
    if (/^[-]?\d+$/.test(val)) val = parseInt(val, 10)
    if (key.startsWith(WX_PREFIX) && key.length > 3) wxContext[key.slice(3)] = val
    else wxContext[key] = val
  }
  wxContext.ENV = env.TCB_ENV || env.SCF_NAMESPACE
  if (env.TCB_SOURCE) wxContext.SOURCE = env.TCB_SOURCE
  return wxContext
}

module.exports = { getWXContext }
