'use strict'

// Credentials and init order. Without a secret pair the reference rejects from
// an un-awaited promise (an unhandled rejection that kills the process, after
// which it would even send a request signed with "undefined"); ours must reject
// the call itself with a CloudSDKError naming the missing variables, and never
// crash. Calling openapi before init must behave exactly like the reference.

const { startGateway, SUCCESS } = require('./helpers/gateway')
const { runSdk, runReference, cloudEnv, GATEWAY_KEYS } = require('./helpers/reference')
const { loadOurs, initOurs, OURS } = require('./helpers/ours')
const { capture, invoke } = require('./helpers/outcome')
const { parseAuthorization } = require('./helpers/tc3')
const { comparable } = require('./helpers/recordings')

const INPUT = { type: 'CreatePostpayPackage', alias: 'x' }
const ID = 'TENCENTCLOUD_SECRETID'
const KEY = 'TENCENTCLOUD_SECRETKEY'

let gw
beforeAll(async () => {
  gw = await startGateway({ keys: { ...GATEWAY_KEYS, AKIDexplicit: 'explicitkey' } })
})
afterAll(() => gw?.close())
beforeEach(() => gw.reset())

// Collects unhandled rejections while `fn` runs and for a short while after.
// They are listened for on the real process (see helpers/environment.js); jest
// itself also fails a test during which one happens.
async function watchUnhandled(fn) {
  const host = globalThis.hostProcess
  if (!host) throw new Error('run with jest.config.js (testEnvironment helpers/environment.js provides hostProcess)')
  const seen = []
  const onRejection = (reason) => seen.push(reason)
  host.on('unhandledRejection', onRejection)
  try {
    const result = await fn()
    await new Promise((resolve) => setTimeout(resolve, 50))
    return { result, seen }
  } finally {
    host.off('unhandledRejection', onRejection)
  }
}

const without = (...names) => cloudEnv(gw.url, Object.fromEntries(names.map((n) => [n, undefined])))

describe('missing credentials (ours)', () => {
  test('the watcher listens on the real process (where unhandledRejection is emitted)', () => {
    expect(globalThis.hostProcess).toBeDefined()
    expect(globalThis.hostProcess).not.toBe(process)
    expect(typeof globalThis.hostProcess.listenerCount('unhandledRejection')).toBe('number')
  })

  test.each([
    ['neither id nor key', [ID, KEY], [ID, KEY]],
    ['only the id', [KEY], [KEY]],
    ['only the key', [ID], [ID]],
  ])('%s: rejects with a CloudSDKError naming what is missing', async (_name, removed, named) => {
    const cloud = initOurs(without(...removed))
    const { result: err, seen } = await watchUnhandled(() =>
      invoke(cloud, INPUT).then(
        (v) => ({ resolved: v }),
        (e) => e,
      ),
    )
    expect(seen).toEqual([])
    expect(err).toBeInstanceOf(Error)
    expect(err).toBeInstanceOf(cloud.CloudSDKError)
    expect(err.constructor.name).toBe('CloudSDKError')
    expect(typeof err.errCode).toBe('number')
    expect(typeof err.errMsg).toBe('string')
    for (const name of named) expect(err.message).toContain(name)
    expect(gw.requests).toHaveLength(0) // nothing is sent without a secret pair
  })

  test('a crash-free rejection in a child process: exit code 0, the error reported', async () => {
    loadOurs() // clear failure when index.js is missing
    const env = without(ID, KEY)
    // guard: false -- no unhandledRejection/uncaughtException handler in the child
    const r = await runSdk({
      module: OURS,
      env,
      guard: false,
      steps: [
        { op: 'init', config: { processEnv: env } },
        { op: 'call', input: INPUT, options: null },
      ],
    })
    expect({ code: r.code, signal: r.signal, fatal: r.fatal }).toEqual({ code: 0, signal: null, fatal: undefined })
    expect(r.stdout).toContain('@@OUTCOMES@@')
    const call = r.outcomes[1]
    expect(call).toMatchObject({ threw: true, sync: false, ctor: 'CloudSDKError', errCode: expect.any(Number) })
    expect(call.message).toContain(ID)
    expect(call.message).toContain(KEY)
    expect(gw.requests).toHaveLength(0)
  })

  test('for comparison, the reference: unguarded it dies of the unhandled rejection', async () => {
    const env = without(ID, KEY)
    const r = await runSdk({
      env,
      guard: false,
      steps: [
        { op: 'init', config: {} },
        { op: 'call', input: INPUT, options: null },
      ],
    })
    expect(r.code).not.toBe(0)
    expect(r.outcomes).toBeUndefined()
    expect(r.stderr).toMatch(/missing secretId or secretKey/)
  })

  test('for comparison, the reference guarded: the rejection escapes as unhandled, the call itself goes on', async () => {
    const env = without(ID, KEY)
    const r = await runSdk({
      env,
      guard: true,
      steps: [
        { op: 'init', config: {} },
        { op: 'call', input: INPUT, options: null },
      ],
    })
    expect(r.code).toBe(0)
    expect(r.unhandled).toEqual([expect.objectContaining({ kind: 'unhandledRejection', message: expect.stringMatching(/missing secretId or secretKey/) })])
    // and it still sent the request, signed for secretId "undefined"
    expect(gw.requests).toHaveLength(1)
    expect(parseAuthorization(gw.requests[0].headers.authorization).secretId).toBe('undefined')
    expect(gw.requests[0].signature.ok).toBe(false)
  })
})

describe('credentials given to init()', () => {
  test('secretId/secretKey/sessionToken from init are used like the reference uses them', async () => {
    const env = without(ID, KEY, 'TENCENTCLOUD_SESSIONTOKEN')
    const config = { secretId: 'AKIDexplicit', secretKey: 'explicitkey', sessionToken: 'explicit-session' }
    const ref = await runReference({ env, init: config, calls: [{ input: INPUT }] })
    expect(ref.unhandled).toEqual([])
    const refReq = gw.requests[0]
    gw.reset()
    const cloud = initOurs(env, config)
    const outcome = await capture(() => invoke(cloud, INPUT))
    expect(gw.requests).toHaveLength(1)
    const q = gw.requests[0]
    expect(refReq.signature).toMatchObject({ ok: true })
    expect(q.signature).toMatchObject({ ok: true })
    expect(parseAuthorization(q.headers.authorization).secretId).toBe('AKIDexplicit')
    expect(q.fields).toEqual(refReq.fields)
    expect(q.fields.sessionToken).toBe('explicit-session')
    expect(comparable(outcome)).toEqual(comparable(ref.outcomes[0]))
  })
})

describe('openapi before init', () => {
  const CALLS = [
    { input: INPUT, options: null },
    { input: INPUT, options: { convertCase: false } },
    { input: INPUT, options: { appid: 'wx1234567890abcdef' } },
  ]

  test('calls before init fail like the reference (synchronously), and work after init', async () => {
    const env = cloudEnv(gw.url)
    const steps = [...CALLS.map((c) => ({ op: 'call', ...c })), { op: 'init', config: {} }, { op: 'call', ...CALLS[0] }]
    gw.queue(SUCCESS)
    const ref = await runSdk({ env, steps })
    expect(ref.code).toBe(0)
    expect(ref.unhandled).toEqual([])
    expect(gw.requests).toHaveLength(1) // only the call after init reaches the gateway
    gw.reset()

    // what the reference does before init: a synchronous CloudSDKError, errCode -1
    for (const o of ref.outcomes.slice(0, CALLS.length)) {
      expect(o).toMatchObject({ threw: true, sync: true, ctor: 'CloudSDKError', errCode: -1, keys: ['errCode', 'errMsg'] })
      expect(o.errMsg).toMatch(/please call init first/)
    }

    const cloud = loadOurs()
    const ours = []
    const { seen } = await watchUnhandled(async () => {
      for (const c of CALLS) ours.push(await capture(() => invoke(cloud, INPUT, c.options)))
    })
    expect(seen).toEqual([])
    expect(gw.requests).toHaveLength(0)
    ours.forEach((o, i) => {
      expect(comparable(o)).toEqual(comparable(ref.outcomes[i]))
    })

    cloud.init({ processEnv: env })
    gw.queue(SUCCESS)
    const after = await capture(() => invoke(cloud, INPUT))
    expect(comparable(after)).toEqual(comparable(ref.outcomes[CALLS.length + 1]))
    expect(gw.requests).toHaveLength(1)
  })
})
