'use strict'
// The `wx-cloud-emulator` binary of a checkout (crates/emulator, release
// build) as a bench server: built on demand, started on a free port, its
// cloud-function environment read from the `export` lines of its banner.
//
//   const { buildEmulatorBinary, startEmulatorBinary } = require('./emulator-bin')
//   const bin = buildEmulatorBinary(checkoutDir)      // path of the binary
//   const server = await startEmulatorBinary(bin)     // {pid, info: {url, cloudEnv}, stop()}
//
// Every binary is started with the same gateway secret pair, so one
// recorded request (bench/run.js recordRequest) is valid for all of them.

const fs = require('fs')
const { spawn } = require('child_process')
const { cargoBuildRelease } = require('./common')

const SECRET_ID = 'AKIDbenchemulator'
const SECRET_KEY = 'bench-emulator-secret-key'

/** `cargo build --release` of the binary in `checkout`; returns its path. */
function buildEmulatorBinary(checkout, log = () => {}) {
  return cargoBuildRelease(checkout, 'wx-cloud-emulator', ['--bin', 'wx-cloud-emulator'], log)
}

/** Undo the banner's shell quoting ('…' with '\'' for a quote). */
function unquote(v) {
  if (!v.startsWith("'")) return v
  return v.slice(1, -1).replace(/'\\''/g, "'")
}

/**
 * Start the binary at `bin`; resolves {pid, info: {url, cloudEnv}, stop()}.
 * `under`: a command line that runs it (e.g. valgrind and its options),
 * whose process is then the binary's (valgrind runs it in its own process).
 */
function startEmulatorBinary(bin, under = []) {
  return new Promise((resolve, reject) => {
    const argv = [...under, bin, '--secret-id', SECRET_ID, '--secret-key', SECRET_KEY]
    const child = spawn(argv[0], argv.slice(1), {
      env: { PATH: process.env.PATH },
      stdio: ['ignore', 'pipe', 'inherit'],
    })
    let out = ''
    const onData = (c) => {
      out += c
      const lines = out.split('\n')
      // The banner ends with the WX_API_BASE_URL export line.
      if (!lines.some((l) => l.startsWith('export WX_API_BASE_URL='))) return
      child.stdout.off('data', onData)
      child.stdout.resume()
      const cloudEnv = {}
      for (const l of lines) {
        const m = l.match(/^export ([A-Z_0-9]+)=(.*)$/)
        if (m && m[1] !== 'WX_API_BASE_URL') cloudEnv[m[1]] = unquote(m[2])
      }
      // The banner does not print a secret key it was given.
      cloudEnv.TENCENTCLOUD_SECRETKEY = SECRET_KEY
      const url = (lines.find((l) => l.startsWith('# wx-cloud-openapi emulator listening on ')) || '').split(' ').pop()
      resolve({
        pid: child.pid,
        info: { url, cloudEnv },
        stop: () =>
          new Promise((res) => {
            if (child.exitCode !== null) return res()
            child.on('close', res)
            child.kill('SIGTERM')
            setTimeout(() => child.kill('SIGKILL'), 8000).unref()
          }),
      })
    }
    child.stdout.on('data', onData)
    child.on('error', reject)
    child.on('close', (code) => reject(new Error(`${bin} exited (${code}) before it was ready`)))
  })
}

/**
 * CPU time a process has used, in nanoseconds: the task clock of each of its
 * threads (/proc/PID/task/TID/schedstat), summed. Threads that ended are not
 * counted; the emulator's runtime threads live as long as it does.
 */
function cpuNsOf(pid) {
  let ns = 0
  for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
    try {
      ns += Number(fs.readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0])
    } catch (_) {
      // the thread ended between the listing and the read
    }
  }
  return ns
}

/**
 * `cargo build --release` of the bare server (crates/emulator/examples/bare_server.rs:
 * the emulator's server stack doing none of its work) in `checkout`; returns its path.
 */
function buildBareServer(checkout, log = () => {}) {
  return cargoBuildRelease(checkout, 'wx-cloud-emulator', ['--example', 'bare_server'], log)
}

/**
 * Start the bare server at `bin`, answering every request with the bytes of
 * `answerFile` as `contentType`; resolves {pid, url, stop()}.
 */
function startBareServer(bin, answerFile, contentType) {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, [answerFile, contentType], { env: { PATH: process.env.PATH }, stdio: ['ignore', 'pipe', 'inherit'] })
    let out = ''
    const onData = (c) => {
      out += c
      const m = out.match(/^listening on (\S+)\n/m)
      if (!m) return
      child.stdout.off('data', onData)
      child.stdout.resume()
      resolve({
        pid: child.pid,
        url: m[1],
        stop: () =>
          new Promise((res) => {
            if (child.exitCode !== null) return res()
            child.on('close', res)
            child.kill('SIGKILL')
          }),
      })
    }
    child.stdout.on('data', onData)
    child.on('error', reject)
    child.on('close', (code) => reject(new Error(`${bin} exited (${code}) before it was ready`)))
  })
}

module.exports = { buildEmulatorBinary, startEmulatorBinary, buildBareServer, startBareServer, cpuNsOf, SECRET_ID, SECRET_KEY }
