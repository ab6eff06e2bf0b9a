'use strict'
// The JavaScript–Rust contract (the option names, the default and longest
// timeout) is defined once in the core and read by the JavaScript layer
// through the addon's contract(), on first use: these tests tie what
// JavaScript does to what the core decides.

const path = require('path')
const { execFileSync } = require('child_process')
const sdk = require('../index.js')
const { contract } = require('../lib/load.js')

const ROOT = path.join(__dirname, '..')

test('require() does not load the addon; the first use does', () => {
  // A child process: this file's module registry has the addon loaded already.
  const script = `
    const loaded = () => Object.keys(require.cache).some((f) => f.endsWith('.node') || f.endsWith('binding.js'))
    const sdk = require(${JSON.stringify(ROOT)})
    const atRequire = loaded()
    sdk.init({ accessToken: async () => 't' })
    console.log(JSON.stringify([atRequire, loaded()]))
  `
  const out = execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' })
  expect(JSON.parse(out)).toEqual([false, true])
})

test('init() loads the addon beside index.js itself: neither the generated loader nor lib/load.js is compiled on the way (~1.3 ms of a cold start)', () => {
  const script = `
    const sdk = require(${JSON.stringify(ROOT)})
    sdk.init({ accessToken: 't' })
    console.log(JSON.stringify(Object.keys(require.cache).map((f) => require('path').relative(${JSON.stringify(ROOT)}, f)).sort()))
  `
  const env = { PATH: process.env.PATH }
  const loaded = JSON.parse(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8', env }))
  const addon = require('../lib/load.js').platformName()
  expect(loaded).toEqual(['index.js', 'lib/errors.js', `wx-cloud-openapi.${addon}.node`])
})

test('require() loads only index.js and the error class (package.json is read as a file); getWXContext and signature load their modules on first use', () => {
  // A child process: this file's module registry has every module loaded already.
  const script = `
    const loaded = () => Object.keys(require.cache).map((f) => require('path').relative(${JSON.stringify(ROOT)}, f)).sort()
    const sdk = require(${JSON.stringify(ROOT)})
    const atRequire = loaded()
    const context = sdk.getWXContext()
    const sig = sdk.signature({ type: 'midas', params: ['openid'], secret: 's3cret' })
    const cloud = new sdk.Cloud()
    console.log(JSON.stringify({ atRequire, after: loaded(), context, sig, cloudSig: cloud.signature({ type: 'other' }) === undefined }))
  `
  const env = { ...process.env }
  delete env.WX_CONTEXT_KEYS
  const out = JSON.parse(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8', env }))
  expect(out.atRequire).toEqual(['index.js', 'lib/errors.js'])
  expect(out.after).toEqual(['index.js', 'lib/errors.js', 'lib/midas-signature.js', 'lib/wx-context.js'])
  expect(out.context).toEqual({})
  // The secret is not enumerable: the value shows only its type and params.
  expect(out.sig).toEqual({ type: 'midas', params: ['openid'] })
  expect(out.cloudSig).toBe(true)
})

test('the default timeout is the core one', () => {
  // JavaScript keeps no timeout of its own (the core times the token functions too).
  const { defaultTimeoutMs } = contract()
  const shown = sdk.explainConfig({ accessToken: 't' }).settings.find((s) => s.name === 'timeout')
  expect(shown).toEqual({ name: 'timeout', value: `${defaultTimeoutMs}ms`, source: 'default' })
})

test('the longest timeout is the core one, in init() and in the event handler', () => {
  const { maxTimeoutMs } = contract()
  expect(sdk.explainConfig({ accessToken: 't', timeout: maxTimeoutMs }).ok).toBe(true)
  const over = sdk.explainConfig({ accessToken: 't', timeout: maxTimeoutMs + 1 })
  expect(over.ok).toBe(false)
  expect(over.errMsg).toContain(`between 1 and ${maxTimeoutMs}`)
  const handlerOptions = {
    componentAppid: 'wx0contractcomp01',
    componentAppsecret: 's',
    token: 't',
    encodingAesKey: 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG',
    store: sdk.memoryStore(),
  }
  expect(() => sdk.createComponentEventHandler({ ...handlerOptions, timeout: maxTimeoutMs + 1 })).toThrow(`between 1 and ${maxTimeoutMs}`)
  expect(() => sdk.createComponentEventHandler({ ...handlerOptions, timeout: maxTimeoutMs })).not.toThrow()
})

test('each option that takes a function reaches the core as a function, other functions do not', () => {
  const takeFunctions = ['accessToken', 'authorizerAccessToken', 'getComponentVerifyTicket', 'onAuthorizerRefreshToken', 'getAuthorizerRefreshToken']
  for (const name of takeFunctions) {
    expect(contract().options).toContain(name)
    const x = sdk.explainConfig({ mode: 'https', appid: 'wx0contract0001', secret: 's', [name]: () => 't' })
    // A function where the core takes none would be named ("must be a string / a function, got …").
    expect(`${name}: ${x.errMsg}`).not.toMatch(/must be|got an object/)
  }
  const token = sdk.explainConfig({ accessToken: async () => 't' }).settings.find((s) => s.name === 'accessToken')
  expect(token.value).toBe('(a function, called before each call)')
  // A function given for an option the core reads as a value is left out of what the core gets.
  const dropped = sdk.explainConfig({ accessToken: 't', region: () => 'ap-shanghai', logger: () => {} })
  expect(dropped.ok).toBe(true)
  // A callback given without the options it needs is named by the core.
  expect(sdk.explainConfig({ getComponentVerifyTicket: () => 't' }).errMsg).toMatch(/`componentAppid` is required with `getComponentVerifyTicket`/)
})

test('the CLI help (printed without loading the addon) states the core default timeout', () => {
  const help = execFileSync(process.execPath, [path.join(ROOT, 'cli.js'), 'call', '--help'], { encoding: 'utf8' })
  expect(help).toContain(`--timeout MS                ms a call may take (default ${contract().defaultTimeoutMs})`)
})
