'use strict'

// A hostile HTTP/1.1 server on 127.0.0.1 written on raw TCP (net), so that
// it can misbehave in ways a real HTTP server library never would. Every
// connection gets the current `behaviour`; the server counts connections
// and complete requests (what may have been processed), so a test can prove
// that nothing was sent twice.
//
//   const s = await startHostile()
//   s.set({ kind: 'status', status: 503 })
//   s.url          // http://127.0.0.1:PORT
//   s.stats()      // { connections, requests }
//
// Behaviours ({ kind, ... }):
//   close         destroy the socket as soon as it is accepted (FIN)
//   reset-before  RST as soon as it is accepted, before reading anything
//   reset-after   read the whole request (counted), then RST
//   silent        read the whole request (counted), never answer
//   trickle       read it, send headers announcing a body, then 1 byte per
//                 `everyMs` forever
//   reply         read it, answer { status, contentType, body, headers,
//                 chunked, keepAlive } (body: Buffer or string; keepAlive
//                 false closes after the answer)
//   huge          read it, answer `size` bytes of `fill` (chunked unless
//                 `declare` is set, in which case Content-Length says `size`
//                 and only `send` bytes are written before closing)
//   raw           read it, write `bytes` verbatim and close
//   idle-close    answer normally (reply), then close the connection after
//                 `idleMs` of idleness (a keep-alive connection the server
//                 drops between calls, like a frozen and thawed function)
//
// A connection the server drops between requests (idle-close, dropAll) is
// half-closed: FIN now, and the socket is kept until the client closes its
// side, so `drained()` can tell when the client has seen every close. A
// request that arrives on it meanwhile gets what a closed socket gives, an
// RST, and is not counted (it was never processed).

const net = require('net')
const { listenOnLoopback } = require('./listen')

/** Length of a complete HTTP/1.1 request at the start of `buf`, or -1. */
function requestLength(buf) {
  const end = buf.indexOf('\r\n\r\n')
  if (end < 0) return -1
  const head = buf.subarray(0, end).toString('latin1')
  const m = /\r\ncontent-length:\s*(\d+)/i.exec(head)
  const body = m ? Number(m[1]) : 0
  if (/\r\ntransfer-encoding:\s*chunked/i.test(head)) {
    // Chunked bodies are not sent by the clients under test; treat the
    // terminating chunk as the end.
    const term = buf.indexOf('\r\n0\r\n\r\n', end)
    return term < 0 ? -1 : term + 7
  }
  return buf.length >= end + 4 + body ? end + 4 + body : -1
}

function head(status, headers) {
  const lines = [`HTTP/1.1 ${status} ${status === 200 ? 'OK' : 'Status'}`]
  for (const [k, v] of Object.entries(headers)) lines.push(`${k}: ${v}`)
  return Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1')
}

function writeReply(socket, b) {
  const body = Buffer.isBuffer(b.body) ? b.body : Buffer.from(b.body === undefined ? '' : String(b.body), 'utf8')
  const headers = { 'content-type': b.contentType === undefined ? 'application/json' : b.contentType, ...(b.headers || {}) }
  if (b.contentType === null) delete headers['content-type']
  if (b.keepAlive === false) headers.connection = 'close'
  if (b.chunked) {
    headers['transfer-encoding'] = 'chunked'
    socket.write(head(b.status || 200, headers))
    if (body.length) socket.write(`${body.length.toString(16)}\r\n`)
    if (body.length) socket.write(body)
    if (body.length) socket.write('\r\n')
    socket.write('0\r\n\r\n')
  } else {
    headers['content-length'] = body.length
    socket.write(Buffer.concat([head(b.status || 200, headers), body]))
  }
  if (b.keepAlive === false) socket.end()
}

async function startHostile(initial = { kind: 'reply', body: '{}' }) {
  let behaviour = initial
  let connections = 0
  let requests = 0
  const sockets = new Set()
  const timers = new Set()
  const later = (ms, fn) => {
    const t = setTimeout(() => {
      timers.delete(t)
      fn()
    }, ms)
    timers.add(t)
    return t
  }
  const every = (ms, fn) => {
    const t = setInterval(fn, ms)
    timers.add(t)
    return t
  }

  /** Close a connection between requests (see the top of this file). */
  const drop = (sock) => {
    sock.droppedByServer = true
    sock.end()
  }

  const server = net.createServer((socket) => {
    connections++
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    socket.on('error', () => {})
    if (behaviour.kind === 'close') return socket.destroy()
    if (behaviour.kind === 'reset-before') return socket.resetAndDestroy()
    let buf = Buffer.alloc(0)
    let idle = null
    socket.on('data', (chunk) => {
      if (socket.droppedByServer) return socket.resetAndDestroy()
      buf = Buffer.concat([buf, chunk])
      for (;;) {
        const len = requestLength(buf)
        if (len < 0) return
        buf = buf.subarray(len)
        requests++
        if (idle) clearTimeout(idle)
        // the behaviour at the time of the request (a kept-alive connection
        // may have been opened under another)
        onRequest(socket, behaviour)
      }
    })
    function onRequest(sock, beh) {
      switch (beh.kind) {
        case 'close':
          return sock.destroy()
        case 'reset-before':
        case 'reset-after':
          return sock.resetAndDestroy()
        case 'silent':
          return undefined
        case 'trickle': {
          sock.write(head(200, { 'content-type': 'application/json', 'content-length': 1000000 }))
          const t = every(beh.everyMs || 50, () => {
            if (sock.destroyed) return clearInterval(t)
            sock.write('{')
          })
          sock.on('close', () => {
            clearInterval(t)
            timers.delete(t)
          })
          return undefined
        }
        case 'huge': {
          const fill = Buffer.alloc(1 << 20, beh.fill || 'x')
          if (beh.declare) {
            sock.write(head(200, { 'content-type': beh.contentType || 'application/octet-stream', 'content-length': beh.size }))
            sock.write(fill.subarray(0, Math.min(beh.send || 0, fill.length)))
            return later(50, () => sock.destroy())
          }
          sock.write(head(200, { 'content-type': beh.contentType || 'application/octet-stream', 'transfer-encoding': 'chunked' }))
          let left = beh.size
          const pump = () => {
            while (left > 0 && !sock.destroyed) {
              const n = Math.min(left, fill.length)
              left -= n
              sock.write(`${n.toString(16)}\r\n`)
              sock.write(fill.subarray(0, n))
              if (!sock.write('\r\n')) return sock.once('drain', pump)
            }
            if (!sock.destroyed) sock.write('0\r\n\r\n')
          }
          return pump()
        }
        case 'raw':
          // these exact bytes, then close
          sock.end(beh.bytes)
          return undefined
        case 'idle-close':
          writeReply(sock, beh)
          idle = later(beh.idleMs || 0, () => drop(sock))
          return undefined
        default:
          return writeReply(sock, beh)
      }
    }
  })
  const port = await listenOnLoopback(server)
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    /** New behaviour; open connections are closed, so that it applies from a fresh start. */
    async set(b) {
      behaviour = b
      if (sockets.size) {
        for (const s of sockets) s.destroy()
        await new Promise((r) => setTimeout(r, 20))
      }
    },
    stats: () => ({ connections, requests }),
    resetStats() {
      connections = 0
      requests = 0
    },
    /** Drop every open connection (as a thawed function's peer would have). */
    dropAll() {
      for (const s of sockets) drop(s)
    },
    /**
     * Resolves once no connection is open: every one the server dropped has
     * been closed by the client too, so the client has seen each close and
     * its pool holds none of them. What a test waits for between calls
     * instead of a time that only a quiet machine keeps to.
     */
    drained(limitMs = 20000) {
      const start = Date.now()
      return new Promise((resolve, reject) => {
        const check = () => {
          if (sockets.size === 0) return resolve()
          if (Date.now() - start > limitMs) {
            return reject(new Error(`the client kept ${sockets.size} connection(s) open for ${limitMs} ms after the server closed them`))
          }
          setTimeout(check, 2)
        }
        check()
      })
    },
    openSockets: () => sockets.size,
    close: () =>
      new Promise((resolve) => {
        for (const t of timers) clearTimeout(t)
        for (const s of sockets) s.destroy()
        server.close(() => resolve())
      }),
  }
}

/**
 * A port whose listen backlog is full, so that a new connection's SYN is
 * dropped and `connect()` hangs (a connect timeout), all on loopback. A
 * Python child listens with backlog 0 and never accepts; a few filler
 * connections fill the accept queue. Resolves to null (with the reason) if
 * no Python is available or the kernel still completes the handshake.
 */
async function startFullBacklog() {
  const { spawn, spawnSync } = require('child_process')
  const py = ['python3', 'python'].find((p) => spawnSync(p, ['-c', 'pass']).status === 0)
  if (!py) return { port: null, reason: 'no python3 to hold a non-accepting listener' }
  const child = spawn(
    py,
    ['-c', 'import socket,sys,time\ns=socket.socket()\ns.bind(("127.0.0.1",0))\ns.listen(0)\nprint(s.getsockname()[1],flush=True)\nsys.stdin.read()'],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  )
  const port = await new Promise((resolve) => {
    child.stdout.once('data', (d) => resolve(Number(String(d).trim())))
    child.once('exit', () => resolve(null))
  })
  const kill = () => {
    child.stdin.end()
    child.kill()
  }
  if (!port) return { port: null, reason: 'the listener child did not start', close: kill }
  const fillers = []
  const connectOnce = () =>
    new Promise((resolve) => {
      const s = net.connect(port, '127.0.0.1')
      fillers.push(s)
      s.on('error', () => {})
      const t = setTimeout(() => resolve(false), 300)
      s.once('connect', () => {
        clearTimeout(t)
        resolve(true)
      })
    })
  // Fill the queue: stop once a connection no longer completes.
  let hangs = false
  for (let i = 0; i < 8 && !hangs; i++) hangs = !(await connectOnce())
  const close = () => {
    for (const s of fillers) s.destroy()
    kill()
  }
  if (!hangs) {
    close()
    return { port: null, reason: 'the kernel completed every handshake (no SYN drop on a full backlog)' }
  }
  return { port, close }
}

module.exports = { startHostile, startFullBacklog, requestLength }
