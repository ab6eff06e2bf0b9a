'use strict'

// A scripted fake cloud-base gateway on 127.0.0.1 (random port).
// Every request is recorded (method, url, headers, multipart parts with raw
// bytes, decoded requestData, whether the TC3 signature verified) and answered
// with the next scripted reply:
//   {pb: {respData, contentType, errorCode, httpCode, headers, svrkitErrorCode}}
//     -> 200, application/octet-stream, a CommOpenApiResp
//   {raw, ct, status} -> that exact body (strings as UTF-8), content-type, status

const http = require('http')
const { parseMultipart } = require('./multipart')
const { encodeCommOpenApiResp, decodeCommApiData } = require('./protobuf')
const { verify } = require('./tc3')
const { listenOnLoopback } = require('./listen')

const SUCCESS = {
  pb: {
    respData: JSON.stringify({ errcode: 0, errmsg: 'ok', envid: 'test-env-abc123' }),
    contentType: 'application/json; charset=utf-8',
  },
}

function encodeReply(reply) {
  if (reply.pb) {
    return { status: 200, ct: 'application/octet-stream', body: encodeCommOpenApiResp(reply.pb) }
  }
  const raw = reply.raw === undefined ? '' : reply.raw
  return {
    status: reply.status || 200,
    ct: reply.ct || 'application/octet-stream',
    body: Buffer.isBuffer(raw) ? raw : Buffer.from(raw, 'utf8'),
  }
}

function decodeRequest(req, body, keys) {
  const rec = {
    method: req.method,
    url: req.url,
    path: req.url.split('?')[0],
    query: Object.fromEntries(new URL(req.url, 'http://x').searchParams),
    headers: { ...req.headers },
    body,
    parts: null,
    fieldNames: null,
    fields: null,
    requestData: null,
    parseError: null,
    signature: null,
  }
  try {
    rec.parts = parseMultipart(body, req.headers['content-type'])
    rec.fieldNames = rec.parts.map((p) => p.name)
    rec.fields = {}
    for (const p of rec.parts) rec.fields[p.name] = p.name === 'requestData' ? p.data.toString('hex') : p.data.toString('utf8')
    const rd = rec.parts.find((p) => p.name === 'requestData')
    if (rd) rec.requestData = decodeCommApiData(rd.data)
    rec.signature = verify(rec, keys)
  } catch (e) {
    rec.parseError = e.message
    rec.signature = { ok: false, reason: `unparsable request: ${e.message}` }
  }
  return rec
}

// keys: {secretId: secretKey} accepted by the verifier.
async function startGateway({ keys = {} } = {}) {
  const requests = []
  const queue = []
  let fallback = SUCCESS
  const server = http.createServer((req, res) => {
    const chunks = []
    req.on('data', (c) => chunks.push(c))
    req.on('end', () => {
      const rec = decodeRequest(req, Buffer.concat(chunks), keys)
      const reply = queue.length ? queue.shift() : fallback
      rec.reply = reply
      requests.push(rec)
      const out = encodeReply(reply)
      res.writeHead(out.status, { 'content-type': out.ct, 'content-length': out.body.length })
      res.end(out.body)
    })
  })
  // Idle connections outlive our client's pool (30 s): Node's default of
  // 5 s would close one just as a call reuses it, and that POST fails
  // (docs/emulator.md, "idle keep-alive connection").
  server.keepAliveTimeout = 120000
  const port = await listenOnLoopback(server)
  return {
    port,
    url: `http://127.0.0.1:${port}/admin`,
    requests,
    // replies for the next requests, in order; afterwards `fallback` answers
    queue: (...replies) => queue.push(...replies),
    pending: () => queue.length,
    setFallback: (reply) => {
      fallback = reply
    },
    reset: () => {
      requests.length = 0
      queue.length = 0
      fallback = SUCCESS
    },
    last: () => requests[requests.length - 1],
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections?.()
        server.close(() => resolve())
      }),
  }
}

module.exports = { startGateway, SUCCESS, encodeReply }
