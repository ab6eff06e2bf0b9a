'use strict'
// The exact request our SDK sends for one cloud call, recorded once and
// replayed by the raw Node POST client (bench/lib/client.js, mode 'raw').

const http = require('http')
const { ROOT } = require('./common')

/**
 * Record the exact request our SDK sends for one call (method, path,
 * headers, body) with a capture server, and aim it at `targetUrl`. The Host
 * header keeps the recorded value, so the signature stays valid for the
 * emulator (which signs over the Host it receives). A recorded request stays
 * valid for 600 s (the gateway's clock-skew window); it is re-recorded before
 * every run.
 */
async function recordRequest(cloudEnv, targetUrl) {
  const cloud = require(ROOT)
  let captured = null
  const server = http.createServer((req, res) => {
    const chunks = []
    req.on('data', (c) => chunks.push(c))
    req.on('end', () => {
      captured = { path: req.url, headers: { ...req.headers }, body: Buffer.concat(chunks) }
      res.writeHead(500)
      res.end()
    })
  })
  await new Promise((r) => server.listen(0, '127.0.0.1', r))
  try {
    const cnfg = JSON.parse(cloudEnv.TCB_CONTEXT_CNFG)
    const u = new URL(cnfg.URL)
    const captureUrl = `http://127.0.0.1:${server.address().port}${u.pathname}${u.search}`
    const c = new cloud.Cloud()
    c.init({
      env: cloud.DYNAMIC_CURRENT_ENV,
      processEnv: { ...cloudEnv, TCB_CONTEXT_CNFG: JSON.stringify({ ...cnfg, URL: captureUrl }) },
    })
    await c.openapi.tcb.createenvandresource({ type: 'CreatePostpayPackage', alias: 'bench' }).catch(() => {})
  } finally {
    server.close()
  }
  if (!captured) throw new Error('the capture server saw no request')
  const headers = { ...captured.headers }
  delete headers['transfer-encoding']
  headers['content-length'] = String(captured.body.length)
  headers.connection = 'keep-alive'
  return { url: new URL(captured.path, targetUrl).toString(), headers, bodyBase64: captured.body.toString('base64') }
}

module.exports = { recordRequest }
