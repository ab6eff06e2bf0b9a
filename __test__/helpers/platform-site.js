'use strict'
// A third-party platform's event URL for the tests: node `http` on
// loopback, the raw body and the query to `handle` (the event handler),
// `success` when it resolves, the errCode (status 400) when it rejects.
// Records what came in (`requests`), what the handler returned (`events`)
// and what it threw (`errors`).

const http = require('http')

async function startPlatformSite(handle) {
  const seen = { events: [], errors: [], requests: [] }
  const server = http.createServer((req, res) => {
    const chunks = []
    req.on('data', (c) => chunks.push(c))
    req.on('end', async () => {
      const body = Buffer.concat(chunks)
      seen.requests.push({ url: req.url, body })
      try {
        seen.events.push(await handle({ query: req.url, body }))
        res.end('success')
      } catch (e) {
        seen.errors.push(e)
        res.statusCode = 400
        res.end(String(e.errCode))
      }
    })
  })
  // Idle connections outlive our client's pool (30 s): Node's default of
  // 5 s would close one just as a call reuses it, and that POST fails
  // (docs/emulator.md, "idle keep-alive connection").
  server.keepAliveTimeout = 120000
  await new Promise((r) => server.listen(0, '127.0.0.1', r))
  seen.url = `http://127.0.0.1:${server.address().port}/wechat/component`
  seen.close = () => new Promise((r) => server.close(r))
  return seen
}

module.exports = { startPlatformSite }
