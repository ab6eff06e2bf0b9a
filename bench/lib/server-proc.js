'use strict'
// A server in its own process, so that it never shares an event loop with
// the client being measured. Prints `@@READY@@ {json}` once listening and
// serves until stdin closes (the orchestrator's end) or SIGTERM.
//
//   node server-proc.js emulator       the embedded emulator (Rust, signature checked)
//   node server-proc.js fixed FILE     a minimal gateway in node `http` answering
//                                      the fixed answer stored in FILE (JSON:
//                                      {status, contentType, bodyBase64})

const http = require('http')
const fs = require('fs')
const { ROOT } = require('./common')

function ready(info) {
  process.stdout.write(`@@READY@@ ${JSON.stringify({ pid: process.pid, ...info })}\n`)
}

async function main() {
  const kind = process.argv[2]
  let close
  if (kind === 'emulator') {
    const cloud = require(ROOT)
    const emu = await cloud.startEmulator()
    close = () => emu.close()
    ready({ url: emu.url, httpsBaseUrl: emu.httpsBaseUrl, cloudEnv: emu.cloudEnv() })
  } else if (kind === 'fixed') {
    const answer = JSON.parse(fs.readFileSync(process.argv[3], 'utf8'))
    const body = Buffer.from(answer.bodyBase64, 'base64')
    const headers = { 'content-type': answer.contentType, 'content-length': body.length }
    const server = http.createServer((req, res) => {
      // drain the request body, then answer; nothing is parsed or checked
      req.on('data', () => {})
      req.on('end', () => {
        res.writeHead(answer.status, headers)
        res.end(body)
      })
    })
    server.keepAliveTimeout = 60000
    server.headersTimeout = 65000
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
    close = () =>
      new Promise((resolve) => {
        server.close(resolve)
        server.closeAllConnections()
      })
    ready({ url: `http://127.0.0.1:${server.address().port}` })
  } else {
    throw new Error(`unknown server kind ${kind}`)
  }
  const stop = () => Promise.resolve(close()).finally(() => process.exit(0))
  process.stdin.on('end', stop)
  process.stdin.resume()
  process.on('SIGTERM', stop)
}

main().catch((e) => {
  console.error(e?.stack)
  process.exit(1)
})
