'use strict'
// TLS (crates/core/src/tls.rs): server certificates are checked by the platform's
// verifier, which reads the system's root certificates on the first TLS
// handshake, not when the HTTP client is built. So:
// - an HTTPS call to a server whose CA is trusted works, and one whose CA is
//   not is refused with the reason;
// - a cloud call over plain HTTP needs no root certificates at all (it used
//   to fail when they could not be read, and paid ~3 ms to read them on the
//   first call of every process).
// - through the `proxy` option, an HTTPS call goes in a CONNECT tunnel, TLS
//   to the API host inside it; to an `https://` proxy, the connection to the
//   proxy is TLS too (a second TLS session inside the first), and the
//   proxy's certificate is checked like any server's.
// Each case runs in a fresh process, because the roots are read once per
// process from SSL_CERT_FILE / SSL_CERT_DIR (as OpenSSL does).

const { execFileSync, spawn } = require('child_process')
const fs = require('fs')
const http = require('http')
const https = require('https')
const net = require('net')
const os = require('os')
const path = require('path')
const sdk = require('../index.js')
const { APP, modeOptions } = require('./helpers/emu-modes.js')

const ROOT = path.join(__dirname, '..')
const PARAMS = { type: 'CreatePostpayPackage', alias: 'tls' }

let dir, emu, server, baseUrl
/** CONNECT proxies on loopback: http, https (test-ca), https (other-ca). */
let proxies = {}

/** A CA named `name` in `dir`: [key file, certificate file]. */
function makeCa(name) {
  const key = path.join(dir, `${name}.key`)
  const cert = path.join(dir, `${name}.pem`)
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      key,
      '-out',
      cert,
      '-days',
      '2',
      '-subj',
      `/CN=${name}`,
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ],
    { stdio: 'ignore' },
  )
  return [key, cert]
}

/** A server certificate for 127.0.0.1 named `name`, signed by the CA `[caKey, caCert]`: [key file, certificate file]. */
function serverCertificate(name, [caKey, caCert]) {
  const key = path.join(dir, `${name}.key`)
  const csr = path.join(dir, `${name}.csr`)
  const cert = path.join(dir, `${name}.pem`)
  const ext = path.join(dir, `${name}.ext`)
  fs.writeFileSync(ext, 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n')
  execFileSync('openssl', ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', csr, '-subj', '/CN=127.0.0.1'], { stdio: 'ignore' })
  execFileSync('openssl', ['x509', '-req', '-in', csr, '-CA', caCert, '-CAkey', caKey, '-CAcreateserial', '-out', cert, '-days', '2', '-extfile', ext], {
    stdio: 'ignore',
  })
  return [key, cert]
}

/**
 * A CONNECT proxy on loopback (`tls`: {key, cert} for an https:// one):
 * each tunnel granted is spliced to the host and port asked for. Resolves
 * {server, port, seen}: `seen` lists each CONNECT's target and
 * Proxy-Authorization header.
 */
async function connectProxy(tls) {
  const server = tls ? https.createServer(tls) : http.createServer()
  const seen = []
  server.on('connect', (req, socket, head) => {
    seen.push({ target: req.url, auth: req.headers['proxy-authorization'] })
    const at = req.url.lastIndexOf(':')
    const up = net.connect(Number(req.url.slice(at + 1)), req.url.slice(0, at), () => {
      socket.write('HTTP/1.1 200 Connection Established\r\n\r\n')
      if (head.length) up.write(head)
      up.pipe(socket)
      socket.pipe(up)
    })
    up.on('error', () => socket.destroy())
    socket.on('error', () => up.destroy())
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  return { server, port: server.address().port, seen }
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wx-tls-'))
  const testCa = makeCa('test-ca')
  const otherCa = makeCa('other-ca')
  const [key, cert] = serverCertificate('server', testCa)
  const [otherKey, otherCert] = serverCertificate('other-server', otherCa)
  const tlsOf = (k, c) => ({ key: fs.readFileSync(k), cert: fs.readFileSync(c) })
  proxies = {
    http: await connectProxy(null),
    https: await connectProxy(tlsOf(key, cert)),
    untrusted: await connectProxy(tlsOf(otherKey, otherCert)),
  }

  emu = await sdk.startEmulator()
  // TLS in front of the emulator's WeChat API.
  server = https.createServer({ key: fs.readFileSync(key), cert: fs.readFileSync(cert) }, (req, res) => {
    const up = http.request(emu.httpsBaseUrl + req.url, { method: req.method, headers: req.headers }, (r) => {
      res.writeHead(r.statusCode, r.headers)
      r.pipe(res)
    })
    up.on('error', () => res.destroy())
    req.pipe(up)
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  baseUrl = `https://127.0.0.1:${server.address().port}`
}, 30000)

afterAll(async () => {
  for (const p of Object.values(proxies)) {
    p.server.closeAllConnections?.()
    await new Promise((resolve) => p.server.close(resolve))
  }
  if (server) await new Promise((resolve) => server.close(resolve))
  if (emu) await emu.close()
  if (dir) fs.rmSync(dir, { recursive: true, force: true })
})

/** One call with `options` in a fresh node process with `env` added; resolves {errCode, errMsg?, envid?}. */
function callInChild(options, env) {
  const code = `
    const cloud = require('./index.js')
    cloud.init(${JSON.stringify(options)})
    cloud.openapi.tcb.createenvandresource(${JSON.stringify(PARAMS)}).then(
      (r) => console.log(JSON.stringify(r)),
      (e) => console.log(JSON.stringify({ errCode: e.errCode, errMsg: e.errMsg })))`
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', code], { cwd: ROOT, env: { PATH: process.env.PATH, ...env }, timeout: 20000 })
    let out = ''
    let err = ''
    child.stdout.on('data', (d) => (out += d))
    child.stderr.on('data', (d) => (err += d))
    child.on('close', () => {
      try {
        resolve(JSON.parse(out))
      } catch (_) {
        reject(new Error(`no result; stdout ${out} stderr ${err}`))
      }
    })
  })
}

const httpsOptions = () => ({ ...APP, apiBaseUrl: baseUrl, processEnv: {}, timeout: 10000 })
const roots = (file) => ({ SSL_CERT_FILE: file, SSL_CERT_DIR: path.join(dir, 'no-such-dir') })

test('HTTPS mode over TLS: a server certificate from a trusted CA is accepted', async () => {
  const r = await callInChild(httpsOptions(), roots(path.join(dir, 'test-ca.pem')))
  expect(r.errMsg).toBe('openapi.tcb.createenvandresource:ok')
  expect(r.errCode).toBe(0)
  expect(r.envid).toMatch(/^tls-[a-z0-9]{6}$/)
})

test('HTTPS mode over TLS: a server certificate from an untrusted CA is refused, and the reason is given', async () => {
  const r = await callInChild(httpsOptions(), roots(path.join(dir, 'other-ca.pem')))
  expect(r.errCode).toBe(-501001)
  expect(r.errMsg).toMatch(/certificate/i)
  expect(r.errMsg).toMatch(/UnknownIssuer/)
})

test('root certificates that cannot be read: an HTTPS call fails and says so', async () => {
  const r = await callInChild(httpsOptions(), roots(path.join(dir, 'no-such-file.pem')))
  expect(r.errCode).toBe(-501001)
  expect(r.errMsg).toMatch(/root certificates could not be loaded/)
})

test('root certificates that cannot be read: a cloud call over plain HTTP still works', async () => {
  const r = await callInChild(modeOptions('cloud', emu), roots(path.join(dir, 'no-such-file.pem')))
  expect(r.errMsg).toBe('openapi.tcb.createenvandresource:ok')
  expect(r.errCode).toBe(0)
})

/** The user and password of the proxies' URLs, as Proxy-Authorization sends them. */
const PROXY_USER = 'us@er:p:ss'
const proxyUrl = (scheme, p) => `${scheme}://us%40er:p%3Ass@127.0.0.1:${p.port}`
const proxyAuth = `Basic ${Buffer.from(PROXY_USER).toString('base64')}`

test.each([
  ['an http:// proxy', 'http', 'http'],
  ['an https:// proxy (TLS to the proxy, and TLS inside the tunnel)', 'https', 'https'],
])('HTTPS mode through %s: a CONNECT tunnel to the API host, TLS to it end to end', async (_, scheme, which) => {
  const proxy = proxies[which]
  proxy.seen.length = 0
  const r = await callInChild({ ...httpsOptions(), proxy: proxyUrl(scheme, proxy) }, roots(path.join(dir, 'test-ca.pem')))
  expect(r.errMsg).toBe('openapi.tcb.createenvandresource:ok')
  expect(r.errCode).toBe(0)
  expect(r.envid).toMatch(/^tls-[a-z0-9]{6}$/)
  // Each connection the call made went through the proxy: the token request
  // and the call (one kept-alive connection, or one each).
  const target = baseUrl.replace('https://', '')
  expect(proxy.seen.length).toBeGreaterThanOrEqual(1)
  for (const s of proxy.seen) expect(s).toEqual({ target, auth: proxyAuth })
})

test('HTTPS mode through an https:// proxy whose certificate is from an untrusted CA: refused, and the reason is given', async () => {
  const proxy = proxies.untrusted
  proxy.seen.length = 0
  const r = await callInChild({ ...httpsOptions(), proxy: proxyUrl('https', proxy) }, roots(path.join(dir, 'test-ca.pem')))
  expect(r.errCode).toBe(-501001)
  expect(r.errMsg).toMatch(/UnknownIssuer/)
  // The TLS session to the proxy failed before any CONNECT was sent.
  expect(proxy.seen).toEqual([])
})
