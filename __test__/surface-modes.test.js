'use strict'

// The cloud.openapi surface in every mode: the same params through the cloud
// call (gateway door), HTTPS (app token) and third-party (authorizer token)
// against the emulator give the same results and the same errors, for the
// mini-program APIs the emulator serves (images, media uploads, messages,
// content checks, links, phone numbers) and tcb.createenvandresource. The
// HTTPS modes reach them at the paths of the path table (the emulator's HTTPS
// door answers only there), send media as multipart/form-data, and resolve an
// image as { contentType, buffer, errMsg, errCode: 0 } like the cloud call.

const sdk = require('../index.js')
const { APP, COMPONENT, MODES, modeClient } = require('./helpers/emu-modes')
const { normalize } = require('./helpers/outcome')

jest.setTimeout(60000)

const PNG = Buffer.from('89504e470d0a1a0a0000000d4948445200000001000000010806000000', 'hex')
const RISKY = '特3456书yuuo莞6543李zxcz蒜7782法fgnv级'
const media = (extra = {}) => ({ contentType: 'image/png', value: PNG, ...extra })

// [api, params, expected errCode (0: resolves)]
const CASES = [
  ['wxacode.getUnlimited', { scene: 'a=1&b=2', page: 'pages/index/index', width: 280, isHyaline: true }, 0],
  ['wxacode.getUnlimited', { scene: 'x'.repeat(33) }, 40169],
  ['wxacode.getUnlimited', { scene: 'a b' }, 40129],
  ['wxacode.getUnlimited', { scene: 'a=1', page: '/pages/x' }, 41030],
  ['wxacode.get', { path: 'pages/index/index?x=1', width: 430 }, 0],
  ['wxacode.get', { path: '' }, 40159],
  ['wxacode.createQRCode', { path: 'pages/a/a' }, 0],
  ['wxacode.createQRCode', {}, 40159],
  [
    'subscribeMessage.send',
    { touser: 'oUser1', templateId: 'tmpl-1', page: 'index', data: { thing1: { value: '你好' }, number2: { value: 3 } }, miniprogramState: 'developer' },
    0,
  ],
  ['subscribeMessage.send', { touser: 'oUser1', data: {} }, 40037],
  ['subscribeMessage.send', { templateId: 't', data: {} }, 40003],
  ['subscribeMessage.send', { touser: 'o', templateId: 't', data: { a: 1 } }, 47003],
  ['security.msgSecCheck', { content: 'hello 🚀' }, 0],
  ['security.msgSecCheck', { content: `x${RISKY}` }, 87014],
  ['security.imgSecCheck', { media: media() }, 0],
  ['security.imgSecCheck', { media: media({ value: Buffer.from(`GIF89a ${RISKY}`), contentType: 'image/gif' }) }, 87014],
  ['security.imgSecCheck', {}, 41005],
  ['customerServiceMessage.uploadTempMedia', { type: 'image', media: media() }, 0],
  ['customerServiceMessage.uploadTempMedia', { type: 'voice', media: media() }, 40004],
  ['customerServiceMessage.uploadTempMedia', { type: 'image' }, 41005],
  ['customerServiceMessage.send', { touser: 'oUser1', msgtype: 'text', text: { content: 'hi' } }, 0],
  ['customerServiceMessage.send', { touser: 'oUser1', msgtype: 'video' }, 40008],
  ['urlscheme.generate', { jumpWxa: { path: 'pages/a/a', query: 'x=1', envVersion: 'release' }, isExpire: true, expireType: 1, expireInterval: 30 }, 0],
  ['urlscheme.generate', { jumpWxa: { path: 'pages/a/a?x=1' } }, 40165],
  ['urllink.generate', { path: 'pages/a/a', query: 'x=1', expireType: 1, expireInterval: 1 }, 0],
  ['urllink.generate', { expireType: 7 }, 40097],
  ['phonenumber.getPhoneNumber', { code: 'e31968a7f94cc5ee25fafc2aef2773f0bb8c3937b22520eb8ee345274d00c144' }, 0],
  ['phonenumber.getPhoneNumber', { code: '' }, 40029],
  ['tcb.createenvandresource', { type: 'CreatePostpayPackage', alias: 'modes-env' }, 0],
  ['tcb.createenvandresource', { type: 'Other', alias: 'x' }, 40097],
]

// The app a mode calls as (phone numbers' watermark names it).
const APP_OF = { cloud: APP.appid, https: APP.appid, thirdparty: COMPONENT.authorizerAppid }

let emu
const clients = {}
const outcomes = {} // `${mode} ${index}` -> outcome
const debugLines = []
let statsAfterCases

async function outcome(cloud, api, params) {
  let fn = cloud.openapi
  for (const part of api.split('.')) fn = fn[part]
  try {
    return { ok: true, value: normalize(await fn(params)) }
  } catch (e) {
    return { ok: false, ctor: e.constructor.name, errCode: e.errCode, errMsg: e.errMsg, message: e.message }
  }
}

// What may differ between modes: the documented timestamps, the caller's
// app in a watermark, and the environment id created.
function comparable(o, mode) {
  if (!o.ok) {
    // WeChat's request id (` rid: …`) differs from answer to answer.
    const e = { ...o }
    for (const k of ['errMsg', 'message']) {
      if (typeof e[k] === 'string') e[k] = e[k].replace(/ rid: [0-9a-f-]+$/, ' rid: *')
    }
    return e
  }
  const v = JSON.parse(JSON.stringify(o.value))
  if (typeof v.createdAt === 'number') v.createdAt = 'timestamp'
  if (v.phoneInfo) {
    expect(v.phoneInfo.watermark.appid).toBe(APP_OF[mode])
    expect(Math.abs(v.phoneInfo.watermark.timestamp - Date.now() / 1000)).toBeLessThan(600)
    v.phoneInfo.watermark = 'watermark'
  }
  if (typeof v.envid === 'string') v.envid = v.envid.replace(/-[^-]+$/, '-*')
  return { ok: true, value: v }
}

// The clients log a debug line per call: collected for the whole file (the
// tests read them), so that none lands in the log of a passing run.
const origError = console.error
beforeAll(async () => {
  emu = await sdk.startEmulator()
  console.error = (...args) => {
    const line = args.map(String).join(' ')
    if (line.startsWith('[wx-cloud-openapi]')) debugLines.push(line)
    else origError(...args)
  }
  for (const mode of MODES) {
    clients[mode] = modeClient(mode, emu, { debug: true, timeout: 20000 })
    for (const [i, [api, params]] of CASES.entries()) {
      outcomes[`${mode} ${i}`] = await outcome(clients[mode], api, params)
    }
  }
  statsAfterCases = emu.stats()
})
afterAll(() => {
  console.error = origError
})
afterAll(() => emu?.close())

test('the cases cover at least ten APIs, each with a success and an error', () => {
  const apis = new Set(CASES.map((c) => c[0]))
  expect(apis.size).toBeGreaterThanOrEqual(10)
  for (const api of apis) {
    expect([api, CASES.some((c) => c[0] === api && c[2] === 0)]).toEqual([api, true])
    expect([api, CASES.some((c) => c[0] === api && c[2] !== 0)]).toEqual([api, true])
  }
})

describe.each(CASES.map((c, i) => [`${c[0]} ${JSON.stringify(c[1]).slice(0, 60)}`, i]))('%s', (_name, i) => {
  const [api, , errCode] = CASES[i]
  test(`errCode ${errCode} in every mode, the same outcome`, () => {
    const cloud = outcomes[`cloud ${i}`]
    if (errCode === 0) {
      expect(cloud).toMatchObject({ ok: true, value: { errMsg: `openapi.${api}:ok`, errCode: 0 } })
    } else {
      expect(cloud).toMatchObject({ ok: false, ctor: 'CloudSDKError', errCode })
    }
    for (const mode of ['https', 'thirdparty']) {
      expect([mode, comparable(outcomes[`${mode} ${i}`], mode)]).toEqual([mode, comparable(cloud, 'cloud')])
    }
  })
})

test('an image resolves { contentType, buffer, errMsg, errCode: 0 } with the bytes the emulator made from the params', async () => {
  const i = CASES.findIndex((c) => c[0] === 'wxacode.getUnlimited' && c[2] === 0)
  for (const mode of MODES) {
    const v = outcomes[`${mode} ${i}`].value
    expect(Object.keys(v)).toEqual(['contentType', 'buffer', 'errMsg', 'errCode'])
    expect(v.contentType).toBe('image/jpeg')
    const bytes = Buffer.from(v.buffer.buffer_hex, 'hex')
    expect(bytes.subarray(0, 2).toString('hex')).toBe('ffd8')
    // the params arrived, snake_cased, in every mode
    expect(bytes.toString()).toContain('"scene":"a=1&b=2"')
    expect(bytes.toString()).toContain('"is_hyaline":true')
  }
  const raw = await clients.https.openapi.wxacode.getUnlimited({ scene: 'z' })
  expect(Buffer.isBuffer(raw.buffer)).toBe(true)
})

test('an uploaded file arrives whole: the same media id in every mode, derived from its bytes', () => {
  const i = CASES.findIndex((c) => c[0] === 'customerServiceMessage.uploadTempMedia' && c[2] === 0)
  const ids = MODES.map((m) => outcomes[`${m} ${i}`].value.mediaId)
  expect(new Set(ids).size).toBe(1)
  expect(ids[0]).toMatch(/^emulator-media-[0-9a-f]{24}$/)
})

test('the HTTPS modes reach each API at its table path, and the debug line says so', () => {
  const stats = statsAfterCases
  for (const api of new Set(CASES.map((c) => c[0]))) {
    const count = stats.calls ? stats.calls[`https:${api}`] : undefined
    const n = CASES.filter((c) => c[0] === api).length
    // https and thirdparty each sent every case once
    expect([api, count]).toEqual([api, 2 * n])
  }
  const route = sdk.Cloud && require('../lib/load.js').loadBinding().apiRoute('wxacode.getUnlimited')
  expect(route).toMatchObject({ method: 'POST', path: '/wxa/getwxacodeunlimit', params: 'json' })
  const line = debugLines.find((l) => l.includes('openapi.wxacode.getUnlimited mode=https'))
  expect(line).toContain('path=POST /wxa/getwxacodeunlimit (path table)')
  const upload = debugLines.find((l) => l.includes('openapi.customerServiceMessage.uploadTempMedia mode=thirdparty'))
  expect(upload).toContain('path=POST /cgi-bin/media/upload (path table)')
})

test('an API missing from the table keeps a.b -> /a/b, and the debug line says so', async () => {
  const lines = []
  const origError = console.error
  console.error = (...args) => lines.push(args.map(String).join(' '))
  try {
    const r = await clients.https.openapi.tcb.describeenvs({})
    expect(r.errCode).toBe(0)
  } finally {
    console.error = origError
  }
  expect(lines.join('\n')).toContain('path=POST /tcb/describeenvs (not in the path table: the dotted name as the path)')
})

test('media for an API that takes none in the HTTPS modes is refused by name, before sending', async () => {
  const before = emu.stats()
  await expect(clients.https.openapi.wxacode.getUnlimited({ scene: media() })).rejects.toMatchObject({
    errCode: -501007,
    errMsg: expect.stringMatching(/^openapi\.wxacode\.getUnlimited:fail media parameter `scene` \(image\/png\): .*\/wxa\/getwxacodeunlimit/),
  })
  expect(emu.stats()).toEqual(before)
})

test("README states the path table's size", () => {
  const n = require('../lib/load.js').loadBinding().pathTableApis().length
  expect(n).toBeGreaterThanOrEqual(100)
  const readme = require('fs').readFileSync(require('path').join(__dirname, '..', 'README.md'), 'utf8')
  expect(readme).toContain(`**${n} APIs**`)
})
