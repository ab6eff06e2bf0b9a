'use strict'

// An independent implementation of the gateway side of TC3-HMAC-SHA256 as used
// by the cloud call (spec section 6), with node's crypto only.

const crypto = require('crypto')

const sha256hex = (data) => crypto.createHash('sha256').update(data).digest('hex')
const hmac = (key, data) => crypto.createHmac('sha256', key).update(data).digest()

const cmp = (a, b) => a.localeCompare(b)
const stringify = (v) => (typeof v === 'string' ? v : JSON.stringify(v))

// headers: {name: value}; returns {names, canonical}
function canonicalHeaders(headers) {
  const kv = {}
  for (const [rawName, rawValue] of Object.entries(headers)) {
    if (rawValue === undefined) continue
    const name = rawName.toLowerCase().trim()
    let value = stringify(rawValue).trim().toLowerCase()
    if (name === 'content-type' && value.startsWith('multipart/form-data')) value = 'multipart/form-data'
    kv[name] = value
  }
  const names = Object.keys(kv).sort(cmp)
  return { names, canonical: names.map((n) => `${n}:${kv[n]}\n`).join('') }
}

// fields: [{name, data: Buffer, binary: bool}] (binary parts are hashed raw,
// text values are trimmed as the reference signer stringifies and trims them).
// Empty values are skipped. Returns {names, hash}.
function payloadHash(fields) {
  const byName = new Map()
  for (const f of fields) {
    const data = f.binary ? f.data : Buffer.from(f.data.toString('utf8').trim(), 'utf8')
    byName.set(f.name.toLowerCase().trim(), data)
  }
  const names = [...byName.keys()].sort(cmp).filter((n) => byName.get(n).length > 0)
  const h = crypto.createHash('sha256')
  for (const n of names) {
    h.update(`&${n}=`)
    h.update(byName.get(n))
    h.update('\r\n')
  }
  return { names, hash: h.digest('hex') }
}

function utcDate(timestamp) {
  return new Date(timestamp * 1000).toISOString().slice(0, 10)
}

// url: absolute URL as requested. method as given to the signer ('post').
function sign({ method, url, headers, fields, secretId, secretKey, timestamp }) {
  const q = url.indexOf('?')
  const query = q < 0 ? '' : url.slice(q + 1)
  const path = url.replace(/^https?:/, '').split('?')[0]
  const hdr = canonicalHeaders(headers)
  const payload = payloadHash(fields)
  const canonicalRequest = `${method}\n${path}\n${query}\n${hdr.canonical}\n${hdr.names.join(';')}\n${payload.hash}`
  const date = utcDate(timestamp)
  const scope = `${date}/tcb/tc3_request`
  const stringToSign = `TC3-HMAC-SHA256\n${timestamp}\n${scope}\n${sha256hex(canonicalRequest)}`
  const kDate = hmac(`TC3${secretKey}`, date)
  const kService = hmac(kDate, 'tcb')
  const kSigning = hmac(kService, 'tc3_request')
  const signature = crypto.createHmac('sha256', kSigning).update(stringToSign).digest('hex')
  return {
    canonicalRequest,
    hashedPayload: payload.hash,
    stringToSign,
    kDate,
    kService,
    kSigning,
    signature,
    signedParams: payload.names,
    signedHeaders: hdr.names,
    authorization:
      `TC3-HMAC-SHA256 Credential=${secretId}/${scope}, SignedParams=${payload.names.join(';')}, ` +
      `SignedHeaders=${hdr.names.join(';')}, Signature=${signature}`,
  }
}

function parseAuthorization(value) {
  const m =
    /^TC3-HMAC-SHA256 Credential=([^/]*)\/(\d{4}-\d{2}-\d{2})\/tcb\/tc3_request, SignedParams=([^,]*), SignedHeaders=([^,]*), Signature=([0-9a-f]{64})$/.exec(
      value || '',
    )
  if (!m) return null
  return {
    secretId: m[1],
    date: m[2],
    signedParams: m[3] ? m[3].split(';') : [],
    signedHeaders: m[4] ? m[4].split(';') : [],
    signature: m[5],
  }
}

// Verify a received request. req: {method, url (path+query), headers (lower-cased
// node headers), parts: [{name, data, headers}]}; keys: {secretId: secretKey}.
// Returns {ok, reason, ...details}.
function verify(req, keys, now = Math.floor(Date.now() / 1000)) {
  const auth = parseAuthorization(req.headers.authorization)
  if (!auth) return { ok: false, reason: `malformed authorization: ${req.headers.authorization}` }
  const secretKey = keys[auth.secretId]
  if (secretKey === undefined) return { ok: false, reason: `unknown secretId ${auth.secretId}`, auth }
  const timestamp = Number(req.headers['x-timestamp'])
  if (!Number.isInteger(timestamp)) return { ok: false, reason: 'missing x-timestamp', auth }
  if (utcDate(timestamp) !== auth.date) return { ok: false, reason: 'credential date is not the x-timestamp date', auth }
  if (Math.abs(now - timestamp) > Number(req.headers['x-signature-expires'] || 0)) {
    return { ok: false, reason: `stale or expired signature (x-timestamp ${timestamp}, now ${now})`, auth }
  }
  for (const required of ['content-type', 'host']) {
    if (!auth.signedHeaders.includes(required)) return { ok: false, reason: `${required} is not signed`, auth }
  }
  const headers = {}
  for (const name of auth.signedHeaders) {
    if (req.headers[name] === undefined) return { ok: false, reason: `signed header ${name} not sent`, auth }
    headers[name] = req.headers[name]
  }
  const fields = req.parts.map((p) => ({
    name: p.name,
    data: p.data,
    binary: p.filename !== undefined || /octet-stream/i.test(p.headers['content-type'] || ''),
  }))
  const expected = sign({
    method: req.method.toLowerCase(),
    url: `http://${req.headers.host}${req.url}`,
    headers,
    fields,
    secretId: auth.secretId,
    secretKey,
    timestamp,
  })
  if (expected.signedParams.join(';') !== auth.signedParams.join(';')) {
    return { ok: false, reason: `SignedParams ${auth.signedParams} != non-empty fields ${expected.signedParams}`, auth }
  }
  if (expected.signature !== auth.signature) return { ok: false, reason: 'signature mismatch', auth, expected }
  return { ok: true, reason: '', auth }
}

module.exports = { sign, verify, parseAuthorization, canonicalHeaders, payloadHash }
