'use strict'
// Raw HTTP to the emulator (node's http, loopback only) and a signed cloud
// call built with the independent signer in emu-signer.js.

const http = require('http')
const { tc3Sign, encodeCommApiData, decodeCommOpenApiResp, multipart } = require('./emu-signer')

const agent = new http.Agent({ keepAlive: false })

/**
 * One request. Resolves {status, headers, body} or, when the connection is
 * closed before a complete answer, {dropped: true, error, status?, partial?}.
 */
function request(url, { method = 'GET', headers = {}, body } = {}) {
  const u = new URL(url)
  if (u.hostname !== '127.0.0.1') throw new Error('tests only talk to 127.0.0.1')
  return new Promise((resolve) => {
    const req = http.request({ host: u.hostname, port: u.port, path: u.pathname + u.search, method, headers, agent }, (res) => {
      const chunks = []
      res.on('data', (c) => chunks.push(c))
      res.on('end', () => {
        if (!res.complete) {
          resolve({ dropped: true, status: res.statusCode, partial: Buffer.concat(chunks) })
        } else {
          resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) })
        }
      })
      res.on('error', (error) => resolve({ dropped: true, error, status: res.statusCode, partial: Buffer.concat(chunks) }))
      res.on('aborted', () => {})
    })
    req.on('error', (error) => resolve({ dropped: true, error }))
    req.setTimeout(20000, () => req.destroy(new Error('test request timeout')))
    if (body !== undefined) req.write(body)
    req.end()
  })
}

/** POST JSON to a WeChat HTTPS path; resolves the parsed answer (or the raw result). */
async function wx(base, pathAndQuery, bodyObj, method = 'POST') {
  const body = bodyObj === undefined ? undefined : Buffer.from(typeof bodyObj === 'string' ? bodyObj : JSON.stringify(bodyObj))
  const r = await request(base + pathAndQuery, {
    method,
    headers: body ? { 'content-type': 'application/json', 'content-length': body.length } : {},
    body,
  })
  if (r.dropped) return r
  try {
    return { ...r, json: JSON.parse(r.body.toString('utf8')) }
  } catch (_) {
    return r
  }
}

/**
 * A signed cloud call to `{url}/admin`, shaped like wx-server-sdk's.
 * opts: apiName, params, secretId, secretKey, timestamp, envName, tamper(fields)
 * Resolves {status, gatewayError?, resp?, wechat?} or {dropped: true, ...}.
 */
async function cloudCall(url, opts) {
  const {
    apiName = 'tcb.createenvandresource',
    params = {},
    secretId,
    secretKey,
    timestamp = Math.floor(Date.now() / 1000) - 1,
    envName = 'emulator-env',
    requestData = encodeCommApiData(params),
    action = 'wx.openApi',
  } = opts
  const u = new URL(url)
  const query = `env=${encodeURIComponent(envName)}&seqId=${Date.now().toString(16)}_1`
  const fields = [
    ['action', action],
    ['apiName', apiName],
    ['requestData', requestData],
    ['envName', envName],
    ['wxCloudApiToken', ''],
    ['wxCloudbaseAccesstoken', ''],
    ['tcb_sessionToken', ''],
    ['sessionToken', 'emulator-session-token'],
    ['crossAuthorizationToken', ''],
  ]
  const { body, contentType } = multipart(fields)
  const signHeaders = {
    'content-type': contentType,
    'user-agent': 'emu-test/1',
    'x-tcb-source': ',scf',
    'x-client-timestamp': String(Date.now()),
    'x-sdk-version': 'emu-test/1',
    host: u.host,
  }
  const authorization = tc3Sign({
    url: `${url}/admin?${query}`,
    headers: signHeaders,
    params: Object.fromEntries(fields),
    secretId,
    secretKey,
    timestamp,
  })
  let sentBody = body
  if (opts.tamper) sentBody = opts.tamper(body)
  const r = await request(`${url}/admin?${query}`, {
    method: 'POST',
    headers: {
      ...signHeaders,
      authorization,
      'x-signature-expires': '600',
      'x-timestamp': String(timestamp),
      'content-length': sentBody.length,
    },
    body: sentBody,
  })
  if (r.dropped || r.status !== 200) return r
  const ct = r.headers['content-type'] || ''
  if (ct.startsWith('application/json')) return { ...r, gatewayError: JSON.parse(r.body.toString('utf8')) }
  const resp = decodeCommOpenApiResp(r.body)
  const out = { ...r, resp }
  if (resp.errorCode === 0) out.wechat = JSON.parse(resp.respData.toString('utf8'))
  return out
}

module.exports = { request, wx, cloudCall }
