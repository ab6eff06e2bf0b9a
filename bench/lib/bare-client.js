'use strict'
// The bare client (crates/core/examples/bare_client.rs) as a bench client:
// the core's transport on the addon's runtime and allocator, posting one
// prepared body from `concurrency` tasks, with no Node and none of a call's
// work. Its CPU per call is the floor under ours on this machine, in the
// same run, against the same server.
//
//   const { buildBareClient, runBareClient } = require('./bare-client')
//   const bin = buildBareClient(checkoutDir)
//   const r = await runBareClient(bin, { request: FILE, concurrency, warmupMs, durationMs })
//   // r: the fields of client.js's result (callsPerSec, started, failures, clientCpuUsPerCall, ...)

const fs = require('fs')
const os = require('os')
const path = require('path')
const { spawn } = require('child_process')
const { cargoBuildRelease } = require('./common')

/** `cargo build --release` of the bare client in `checkout`; returns its path. */
function buildBareClient(checkout, log = () => {}) {
  return cargoBuildRelease(checkout, 'wx-cloud-core', ['--example', 'bare_client'], log)
}

/**
 * One run of the bare client at `bin`: `spec.request` is a recorded request
 * (bench/lib/record.js: {url, headers, bodyBase64}); its URL, body and
 * content type are posted. Resolves the binary's JSON report.
 */
function runBareClient(bin, spec, timeoutMs = 60000) {
  const rec = JSON.parse(fs.readFileSync(spec.request, 'utf8'))
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wxco-bare-client-'))
  const bodyFile = path.join(dir, 'body.bin')
  fs.writeFileSync(bodyFile, Buffer.from(rec.bodyBase64, 'base64'))
  const args = [rec.url, bodyFile, rec.headers['content-type'], spec.concurrency, spec.warmupMs, spec.durationMs].map(String)
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { env: { PATH: process.env.PATH }, stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    let err = ''
    child.stdout.on('data', (c) => (out += c))
    child.stderr.on('data', (c) => (err += c))
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
    child.on('error', reject)
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      fs.rmSync(dir, { recursive: true, force: true })
      const line = out.trim().split('\n').pop()
      try {
        resolve(JSON.parse(line))
      } catch (_) {
        reject(new Error(`bare client: no result (code ${code}, signal ${signal})\n${err.slice(-2000)}`))
      }
    })
  })
}

module.exports = { buildBareClient, runBareClient }
