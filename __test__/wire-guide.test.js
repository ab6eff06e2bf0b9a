'use strict'
// docs/wire-guide.md's worked example, checked byte for byte: every block
// marked `<!-- wire-example: NAME -->` is recomputed here with the test's own
// signer and protobuf code (they share no code with the Rust core), and the
// same request, signed now, is sent to a running emulator.

const crypto = require('crypto')
const fs = require('fs')
const path = require('path')

const { startEmulator } = require('../lib/emulator.js')
const { tc3Sign, encodeCommApiData, decodeCommOpenApiResp, multipart } = require('./helpers/emu-signer')
const { encodeCommOpenApiResp } = require('./helpers/protobuf')
const { request } = require('./helpers/emu-client')

const DOC = fs.readFileSync(path.join(__dirname, '..', 'docs', 'wire-guide.md'), 'utf8')

/** The text of the code block after `<!-- wire-example: name -->`. */
function block(name) {
  const m = DOC.match(new RegExp(`<!-- wire-example: ${name} -->\\n\`\`\`text\\n([\\s\\S]*?)\\n\`\`\``))
  if (!m) throw new Error(`docs/wire-guide.md has no wire-example ${name}`)
  return m[1]
}

// The example's inputs, as the guide states them.
const SECRET_ID = 'AKIDemulatortestsecretid0000000000'
const SECRET_KEY = 'emulator-test-secret-key'
const TIMESTAMP = 1764288000
const URL_ = 'http://127.0.0.1:8080/admin?env=emulator-env&seqId=1'
const PARAMS = { type: 'CreatePostpayPackage', alias: 'wire-guide' }

const requestData = encodeCommApiData(PARAMS)
const FIELDS = [
  ['action', 'wx.openApi'],
  ['apiName', 'tcb.createenvandresource'],
  ['requestData', requestData],
  ['envName', 'emulator-env'],
]
const sha256 = (b) => crypto.createHash('sha256').update(b).digest('hex')

test('the inputs are the emulator defaults the guide names', () => {
  for (const s of [SECRET_ID, SECRET_KEY, String(TIMESTAMP), URL_, 'wireguide']) expect(DOC).toContain(s)
  expect(new Date(TIMESTAMP * 1000).toISOString()).toBe('2025-11-28T00:00:00.000Z')
})

test('requestData, body, payload hash, canonical request, string to sign and headers are byte-exact', () => {
  expect(block('request-data')).toBe(requestData.toString('hex'))
  expect(requestData.length).toBe(59)
  const { body, contentType } = multipart(FIELDS, 'wireguide')
  expect(block('body')).toBe(body.toString('hex'))
  expect(body.length).toBe(423)

  const signedFields = FIELDS.map(([k, v]) => [k.toLowerCase(), Buffer.isBuffer(v) ? v : Buffer.from(v)]).sort((a, b) => a[0].localeCompare(b[0]))
  const payloadHash = sha256(Buffer.concat(signedFields.flatMap(([k, v]) => [Buffer.from(`&${k}=`), v, Buffer.from('\r\n')])))
  expect(block('payload-hash')).toBe(payloadHash)

  const canonical = [
    'post',
    '//127.0.0.1:8080/admin',
    'env=emulator-env&seqId=1',
    'content-type:multipart/form-data\nhost:127.0.0.1:8080\n',
    'content-type;host',
    payloadHash,
  ].join('\n')
  expect(block('canonical-request')).toBe(canonical)
  expect(block('string-to-sign')).toBe(`TC3-HMAC-SHA256\n${TIMESTAMP}\n2025-11-28/tcb/tc3_request\n${sha256(canonical)}`)

  const authorization = tc3Sign({
    url: URL_,
    headers: { 'content-type': contentType, host: '127.0.0.1:8080' },
    params: Object.fromEntries(FIELDS),
    secretId: SECRET_ID,
    secretKey: SECRET_KEY,
    timestamp: TIMESTAMP,
  })
  expect(block('headers')).toBe(
    [`content-type: ${contentType}`, 'host: 127.0.0.1:8080', `x-timestamp: ${TIMESTAMP}`, `authorization: ${authorization}`].join('\n'),
  )
})

test('the answer block is the CommOpenApiResp the guide describes', () => {
  const answer = Buffer.from(block('answer'), 'hex')
  const wechat = '{"errcode":0,"errmsg":"ok","envid":"wire-guide-a1b2c3"}'
  expect(answer).toEqual(encodeCommOpenApiResp({ respData: wechat, contentType: 'application/json; charset=utf-8', httpCode: 200 }))
  expect(decodeCommOpenApiResp(answer)).toMatchObject({ contentType: 'application/json; charset=utf-8', errorCode: 0, httpCode: 200 })
})

test('the same request, signed now, creates an environment in a running emulator; its answer has the documented shape', async () => {
  const emu = await startEmulator()
  try {
    const host = new URL(emu.url).host
    const url = `${emu.url}/admin?env=emulator-env&seqId=1`
    const { body, contentType } = multipart(FIELDS, 'wireguide')
    const now = Math.floor(Date.now() / 1000)
    const authorization = tc3Sign({
      url,
      headers: { 'content-type': contentType, host },
      params: Object.fromEntries(FIELDS),
      secretId: SECRET_ID,
      secretKey: SECRET_KEY,
      timestamp: now,
    })
    const r = await request(url, {
      method: 'POST',
      headers: { 'content-type': contentType, host, 'x-timestamp': String(now), authorization },
      body,
    })
    expect(r.status).toBe(200)
    expect(r.headers['content-type']).toBe('application/octet-stream')
    const resp = decodeCommOpenApiResp(r.body)
    expect(resp).toMatchObject({ contentType: 'application/json; charset=utf-8', errorCode: 0, httpCode: 200 })
    const wechat = JSON.parse(resp.respData.toString())
    expect(Object.keys(wechat)).toEqual(['errcode', 'errmsg', 'envid'])
    expect(wechat.envid).toMatch(/^wire-guide-[a-z0-9]{6}$/)
    // Re-encoding the real answer the documented way gives its bytes back.
    expect(r.body).toEqual(encodeCommOpenApiResp({ respData: resp.respData, contentType: resp.contentType, httpCode: 200 }))
  } finally {
    await emu.close()
  }
})

test("the guide's v2 steps give tcb-admin-node's own legacy signature", () => {
  const params = { action: 'wx.openApi', apiName: 'tcb.describeenvs', envName: 'e', timestamp: '1764288000500', tcb_sessionToken: '' }
  const headers = { 'user-agent': 'tcb-admin-sdk/1.23.0', 'x-tcb-source': ',not_scf' }
  // tcb-admin-node computes it with the current time: fix the clock it reads.
  const getTime = Date.prototype.getTime
  Date.prototype.getTime = () => 1764288000500
  let theirs
  try {
    theirs = require('tcb-admin-node/src/utils/auth.js').getAuth({
      SecretId: 'AKIDx',
      SecretKey: 'k',
      Method: 'post',
      pathname: '/admin',
      Query: params,
      Headers: headers,
    })
  } finally {
    Date.prototype.getTime = getTime
  }
  // The guide's steps, as written there.
  const enc = (v) => encodeURIComponent(v).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
  const kv = (o) =>
    Object.keys(o)
      .sort()
      .map((k) => `${enc(k.toLowerCase())}=${enc(o[k])}`)
      .join('&')
  const times = '1764287999;1764288899'
  const signKey = crypto.createHmac('sha1', 'k').update(times).digest('hex')
  const formatString = `post\n/admin\n${kv(params)}\n${kv(headers)}\n`
  const stringToSign = `sha1\n${times}\n${crypto.createHash('sha1').update(formatString).digest('hex')}\n`
  const signature = crypto.createHmac('sha1', signKey).update(stringToSign).digest('hex')
  expect(DOC).toContain('signKey = hex HMAC-SHA1(secretKey, `{start};{end}`)')
  expect(theirs).toBe(
    `q-sign-algorithm=sha1&q-ak=AKIDx&q-sign-time=${times}&q-key-time=${times}&q-header-list=user-agent;x-tcb-source` +
      `&q-url-param-list=action;apiname;envname;tcb_sessiontoken;timestamp&q-signature=${signature}`,
  )
})
