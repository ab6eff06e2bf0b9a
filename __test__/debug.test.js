'use strict'
// Debug logging: `init({ debug: true })` or `DEBUG=wx-cloud-openapi` prints
// exactly one redacted line per call (API, mode, elapsed time, errCode,
// request id) in every mode; without them nothing at all is printed.

const path = require('path')
const { spawn } = require('child_process')
const sdk = require('..')
const { APP, COMPONENT, modeOptions } = require('./helpers/emu-modes')

const API = 'openapi.tcb.createenvandresource'
const TICKET = 'ticket@@@debug-test'
// The HTTPS modes add the method and path, and whether the path table gave them.
const LINE = /^\[wx-cloud-openapi\] (\S+) mode=(\w+) elapsed=(\d+)ms errCode=(-?\d+) (seqId|rid)=(\S*) sends=(\d+) busyRetries=(\d+)(?: path=(.+))?$/

let emu
let printed // everything written to stderr / the console during a test
const secrets = new Set([APP.secret, COMPONENT.componentAppsecret, COMPONENT.authorizerRefreshToken, TICKET, 'emulator-test-secret-key'])

beforeAll(async () => {
  emu = await sdk.startEmulator()
})
afterAll(() => emu.close())

beforeEach(() => {
  printed = []
  const record = (...args) => {
    printed.push(args.map(String).join(' '))
  }
  for (const m of ['error', 'warn', 'log', 'info', 'debug']) jest.spyOn(console, m).mockImplementation(record)
  jest.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
    record(String(chunk))
    return true
  })
})
afterEach(() => jest.restoreAllMocks())

async function fetchToken() {
  const res = await fetch(`${emu.httpsBaseUrl}/cgi-bin/stable_token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ grant_type: 'client_credential', ...APP }),
  })
  const { access_token: token } = await res.json()
  secrets.add(token)
  return token
}

/** Options of one mode pointed at the emulator (`extra` merged in). */
function options(mode, extra = {}) {
  if (mode === 'https-token') {
    return { apiBaseUrl: emu.httpsBaseUrl, processEnv: {}, accessToken: () => fetchToken(), ...extra }
  }
  return { ...modeOptions(mode, emu, { ticket: TICKET, onRotated: async (t) => secrets.add(t) }), ...extra }
}

async function call(opts, alias = 'dbg') {
  const c = new sdk.Cloud()
  c.init(opts)
  try {
    return await c.openapi.tcb.createenvandresource({ type: 'CreatePostpayPackage', alias })
  } catch (e) {
    return e
  }
}

const wireMode = { cloud: 'cloud', https: 'https', 'https-token': 'https', thirdparty: 'thirdparty' }

describe.each(Object.keys(wireMode))('%s mode', (mode) => {
  test('debug: true → one line per call, success and failure', async () => {
    const ok = await call(options(mode, { debug: true }))
    expect(ok.errCode).toBe(0)
    const failed = await call(options(mode, { debug: true }), 'not a valid alias!')
    expect(failed.errCode).toBe(40097)
    expect(printed).toHaveLength(2)
    const [a, b] = printed.map((l) => l.match(LINE))
    expect(a).not.toBeNull()
    expect(b).not.toBeNull()
    expect(a.slice(1, 3)).toEqual([API, wireMode[mode]])
    expect(a[4]).toBe('0')
    expect(b[4]).toBe('40097')
    if (mode === 'cloud') {
      expect(a[5]).toBe('seqId')
      expect(a[6]).toMatch(/^[0-9a-f]+_[0-9a-f]+$/)
      expect(b[6]).not.toBe(a[6])
    } else {
      // WeChat gives a request id (rid) only inside error messages; the emulator gives none.
      expect(a.slice(5, 7)).toEqual(['rid', '-'])
    }
    for (const m of [a, b]) expect(m[9]).toBe(mode === 'cloud' ? undefined : 'POST /tcb/createenvandresource (path table)')
    for (const line of printed) for (const s of secrets) expect(line).not.toContain(s)
  })

  test('DEBUG patterns as the debug package reads them: wildcards turn it on, an exclusion off', async () => {
    const base = options(mode)
    for (const value of ['wx-cloud-*', '*', 'express:*,wx-*']) {
      printed.length = 0
      expect((await call({ ...base, processEnv: { ...base.processEnv, DEBUG: value } })).errCode).toBe(0)
      expect({ value, lines: printed.length }).toEqual({ value, lines: 1 })
    }
    printed.length = 0
  })

  test('DEBUG=wx-cloud-openapi in the environment turns it on; nothing is printed otherwise', async () => {
    const base = options(mode)
    const withDebug = (value) => ({ ...base, processEnv: { ...base.processEnv, DEBUG: value } })
    expect((await call(withDebug('other,wx-cloud-openapi'))).errCode).toBe(0)
    expect(printed).toHaveLength(1)
    expect(printed[0]).toMatch(LINE)
    printed.length = 0
    expect((await call(base)).errCode).toBe(0)
    expect((await call(base, 'bad alias!')).errCode).toBe(40097)
    expect((await call(withDebug('wx-cloud'))).errCode).toBe(0)
    expect((await call(withDebug('*,-wx-cloud-*'))).errCode).toBe(0)
    expect((await call({ ...withDebug('wx-cloud-openapi'), debug: false })).errCode).toBe(0)
    // debug: false does not override DEBUG (either one turns it on)
    expect(printed).toHaveLength(1)
  })
})

test('busy retries and mode "none" show in the line', async () => {
  emu.injectFault({ api: 'tcb.createenvandresource', kind: 'errcode', errcode: -1, times: 1 })
  const res = await call(options('cloud', { debug: true, retry: { onBusy: 1 } }))
  expect(res.errCode).toBe(0)
  expect(printed).toHaveLength(1)
  expect(printed[0]).toMatch(/ mode=cloud .* errCode=0 seqId=\S+ sends=2 busyRetries=1$/)
  printed.length = 0
  const none = await call({ debug: true, processEnv: {} })
  expect(none.errCode).toBe(-501006)
  expect(printed).toHaveLength(1)
  expect(printed[0]).toMatch(/ mode=none elapsed=\d+ms errCode=-501006 rid=- sends=0 busyRetries=0$/)
})

test('a process that calls without debug writes nothing to stdout or stderr', async () => {
  const script = `
    const sdk = require(${JSON.stringify(path.join(__dirname, '..'))})
    const env = JSON.parse(process.argv[1])
    const c = new sdk.Cloud()
    c.init({ processEnv: env })
    c.openapi.tcb.createenvandresource({ type: 'CreatePostpayPackage', alias: 'quiet' })
      .then(() => c.openapi.tcb.createenvandresource({ type: 'CreatePostpayPackage', alias: 'bad alias!' }))
      .catch((e) => { process.exitCode = e.errCode === 40097 ? 0 : 1 })`
  const { code, out } = await new Promise((resolve) => {
    const child = spawn(process.execPath, ['-e', script, JSON.stringify(emu.cloudEnv())], { env: {} })
    let out = ''
    child.stdout.on('data', (d) => (out += d))
    child.stderr.on('data', (d) => (out += d))
    child.on('close', (c) => resolve({ code: c, out }))
  })
  expect(out).toBe('')
  expect(code).toBe(0)
})
