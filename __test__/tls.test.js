'use strict'
// TLS (crates/core/src/tls.rs): server certificates are checked by the platform's
// verifier, which reads the system's root certificates on the first TLS
// handshake, not when the HTTP client is built. So:
// - an HTTPS call to a server whose CA is trusted works, and one whose CA is
//   not is refused with the reason;
// - a cloud call over plain HTTP needs no root certificates at all (it used
//   to fail when they could not be read, and paid ~3 ms to read them on the
//   first call of every process).
// Each case runs in a fresh process, because the roots are read once per
// process from SSL_CERT_FILE / SSL_CERT_DIR (as OpenSSL does).

const { execFileSync, spawn } = require('child_process')
const fs = require('fs')
const http = require('http')
const https = require('https')
const os = require('os')
const path = require('path')
const sdk = require('../index.js')
const { APP, modeOptions } = require('./helpers/emu-modes.js')

const ROOT = path.join(__dirname, '..')
const PARAMS = { type: 'CreatePostpayPackage', alias: 'tls' }

let dir, emu, server, baseUrl

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

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wx-tls-'))
  const [caKey, caCert] = makeCa('test-ca')
  makeCa('other-ca')
  // A server certificate for 127.0.0.1, signed by test-ca.
  const key = path.join(dir, 'server.key')
  const csr = path.join(dir, 'server.csr')
  const cert = path.join(dir, 'server.pem')
  const ext = path.join(dir, 'server.ext')
  fs.writeFileSync(ext, 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n')
  execFileSync('openssl', ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', csr, '-subj', '/CN=127.0.0.1'], { stdio: 'ignore' })
  execFileSync('openssl', ['x509', '-req', '-in', csr, '-CA', caCert, '-CAkey', caKey, '-CAcreateserial', '-out', cert, '-days', '2', '-extfile', ext], {
    stdio: 'ignore',
  })

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
