'use strict'
// An independent TC3-HMAC-SHA256 signer for the emulator tests, written from
// cloud-call-wire.md section 6 with node's crypto (it shares no code with
// crates/core/src/cloud/sign.rs), plus the multipart body and CommApiData encoding.

const crypto = require('crypto')
const { lenField } = require('./protobuf')

const sha256hex = (data) => crypto.createHash('sha256').update(data).digest('hex')
const hmac = (key, data) => crypto.createHmac('sha256', key).update(data).digest()

/**
 * Sign like the reference signer.
 * headers: {name: value}; params: {name: string | Buffer}; url: full URL.
 */
function tc3Sign({ method = 'post', url, headers, params, secretId, secretKey, timestamp }) {
  const hs = Object.entries(headers)
    .map(([k, v]) => {
      const name = k.trim().toLowerCase()
      let value = String(v).trim().toLowerCase()
      if (name === 'content-type' && String(v).startsWith('multipart/form-data')) value = 'multipart/form-data'
      return [name, value]
    })
    .sort((a, b) => a[0].localeCompare(b[0]))
  const canonicalHeaders = hs.map(([k, v]) => `${k}:${v}\n`).join('')
  const signedHeaders = hs.map(([k]) => k).join(';')

  const ps = Object.entries(params)
    .map(([k, v]) => [k.trim().toLowerCase(), Buffer.isBuffer(v) ? v : Buffer.from(String(v).trim())])
    .filter(([, v]) => v.length > 0)
    .sort((a, b) => a[0].localeCompare(b[0]))
  const h = crypto.createHash('sha256')
  for (const [k, v] of ps) {
    h.update(`&${k}=`)
    h.update(v)
    h.update('\r\n')
  }
  const hashedPayload = h.digest('hex')

  const u = new URL(url)
  const canonicalRequest = [method, `//${u.host}${u.pathname}`, u.search.replace(/^\?/, ''), canonicalHeaders, signedHeaders, hashedPayload].join('\n')
  const date = new Date(timestamp * 1000).toISOString().slice(0, 10)
  const scope = `${date}/tcb/tc3_request`
  const stringToSign = `TC3-HMAC-SHA256\n${timestamp}\n${scope}\n${sha256hex(canonicalRequest)}`
  const kDate = hmac(`TC3${secretKey}`, date)
  const kService = hmac(kDate, 'tcb')
  const kSigning = hmac(kService, 'tc3_request')
  const signature = hmac(kSigning, stringToSign).toString('hex')
  return `TC3-HMAC-SHA256 Credential=${secretId}/${scope}, SignedParams=${ps.map(([k]) => k).join(';')}, SignedHeaders=${signedHeaders}, Signature=${signature}`
}

// --- protobuf, just enough for CommApiData and CommOpenApiResp -------------
// (the wire-format writer is the test helpers' own, in protobuf.js)

/** CommApiData{apiType: 0, openapiData: {pairs}} from a params object (values JSON-encoded). */
function encodeCommApiData(params) {
  const pairs = Object.entries(params).map(([k, v]) => lenField(1, Buffer.concat([lenField(1, Buffer.from(k)), lenField(2, Buffer.from(JSON.stringify(v)))])))
  return Buffer.concat([Buffer.from([0x08, 0x00]), lenField(2, Buffer.concat(pairs))])
}

/** Decode a CommOpenApiResp (throws on malformed input). */
function decodeCommOpenApiResp(buf) {
  const out = { respData: Buffer.alloc(0), contentType: '', errorCode: 0, httpCode: 0 }
  let i = 0
  const readVarint = () => {
    let result = 0n
    let shift = 0n
    for (;;) {
      if (i >= buf.length) throw new Error('truncated varint')
      const b = buf[i++]
      result |= BigInt(b & 0x7f) << shift
      if (!(b & 0x80)) return result
      shift += 7n
      if (shift > 70n) throw new Error('varint too long')
    }
  }
  while (i < buf.length) {
    const key = Number(readVarint())
    const tag = key >> 3
    const wt = key & 7
    if (wt === 0) {
      const v = readVarint()
      if (tag === 3) out.errorCode = Number(BigInt.asIntN(32, v))
      if (tag === 4) out.httpCode = Number(v)
    } else if (wt === 2) {
      const len = Number(readVarint())
      if (i + len > buf.length) throw new Error('truncated field')
      const data = buf.subarray(i, i + len)
      i += len
      if (tag === 1) out.respData = Buffer.from(data)
      if (tag === 2) out.contentType = data.toString('utf8')
    } else {
      throw new Error(`invalid wire type ${wt}`)
    }
  }
  return out
}

/** multipart/form-data body from [name, value] pairs (value string or Buffer). */
function multipart(fields, boundary = `----emutest${crypto.randomBytes(8).toString('hex')}`) {
  const parts = []
  for (const [name, value] of fields) {
    const ct = Buffer.isBuffer(value) ? 'Content-Type: application/octet-stream\r\n' : ''
    parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n${ct}\r\n`))
    parts.push(Buffer.isBuffer(value) ? value : Buffer.from(value))
    parts.push(Buffer.from('\r\n'))
  }
  parts.push(Buffer.from(`--${boundary}--\r\n`))
  return { body: Buffer.concat(parts), contentType: `multipart/form-data; boundary=${boundary}` }
}

module.exports = { tc3Sign, encodeCommApiData, decodeCommOpenApiResp, multipart }
