'use strict'

// Differential test: the same calls, with the same environment, through the
// REFERENCE SDK (one child process per environment) and through OUR SDK,
// against the same kind of scripted gateway. Everything that is not per-call
// (timestamps, seqId, signature) must be identical: requestData bytes,
// multipart field names and values, signed header/param lists, outcomes.

const v8 = require('v8')
const { startGateway, SUCCESS } = require('./helpers/gateway')
const { runReference, cloudEnv, GATEWAY_KEYS } = require('./helpers/reference')
const { initOurs } = require('./helpers/ours')
const { capture, invoke } = require('./helpers/outcome')
const { parseAuthorization } = require('./helpers/tc3')
const { comparable } = require('./helpers/recordings')
const { generateInputs, FIXED_INPUTS } = require('./helpers/inputs')

const SEED = 20261127
const GENERATED = generateInputs(SEED, 32)
const INPUTS = [...FIXED_INPUTS, ...GENERATED]
const OPTIONS = [null, { convertCase: false }, { appid: 'wx1234567890abcdef' }]
const SAMPLE_INPUT = { type: 'CreatePostpayPackage', alias: 'x' }

const TRICKY_JSON = JSON.stringify({
  errcode: 0,
  errmsg: 'ok',
  a_b: 1,
  aB: 2,
  _x: 3,
  x_: 4,
  a__b: 5,
  '1_a': 6,
  2: 7,
  nested_list: [{ in_ner: [{ deep_key: null }] }, [{ arr_in_arr: 1 }]],
  uni_键: '\u2028é🚀\ufeff',
  f: 1.5,
  e: 1e21,
  s: 'line\nbreak "q"',
  t: true,
  empty_obj: {},
})

// Scripted answers whose outcome must be identical, except where `ours` gives
// our documented outcome instead (the recorded deviations are in
// conformance.test.js).
const ANSWERS = [
  { name: 'tricky keys json', reply: { pb: { respData: TRICKY_JSON, contentType: 'application/json' } } },
  { name: 'tricky keys json, convertCase false', options: { convertCase: false }, reply: { pb: { respData: TRICKY_JSON, contentType: 'application/json' } } },
  { name: 'tricky keys as text/plain', reply: { pb: { respData: TRICKY_JSON, contentType: 'text/plain; charset=utf-8' } } },
  { name: 'text/plain not json', reply: { pb: { respData: 'plain 🚀 text\n', contentType: 'text/plain' } } },
  { name: 'json without errcode', reply: { pb: { respData: '{"env_id":"e","x":[1,{"y_z":2}]}', contentType: 'application/json' } } },
  {
    name: 'json array',
    reply: { pb: { respData: '[1,{"a_b":2}]', contentType: 'application/json' } },
    // documented deliberate difference (README, "JSON but not an object"): the
    // reference spreads the array into index keys, ours resolves {result: array}
    ours: (ref) => {
      const { errMsg, errCode, ...spread } = ref.value
      const keys = Object.keys(spread)
      expect(keys).toEqual(keys.map((_, i) => String(i)))
      const result = keys.map((k) => spread[k])
      return { threw: false, json: JSON.stringify({ result, errMsg, errCode }) }
    },
  },
  { name: 'binary with padded content type', reply: { pb: { respData: Buffer.from([0xff, 0xd8, 0x00, 0x0a, 0x80]), contentType: ' image/jpeg ' } } },
  { name: 'wx errcode 45009', reply: { pb: { respData: '{"errcode":45009,"errmsg":"reach max api daily quota limit"}', contentType: 'application/json' } } },
  { name: 'wx errcode with extra fields', reply: { pb: { respData: '{"errcode":-501000,"errmsg":"x","env_id":"e"}', contentType: 'text/plain' } } },
  { name: 'pb errorCode -604102', reply: { pb: { errorCode: -604102, respData: '{"errcode":0}', contentType: 'application/json' } } },
  { name: 'pb errorCode -604104', reply: { pb: { errorCode: -604104 } } },
  {
    name: 'pb errorCode -604100',
    reply: { pb: { errorCode: -604100 } },
    // documented deliberate difference (README, "-604100 names the API"): errCode, errMsg
    // and keys as the reference's; the message adds the API's name after its text
    ours: (ref) => {
      const same = comparable(ref)
      expect(same.errMsg).toBe('system error: error code: -604100')
      const hint =
        "the platform has no API named openapi.tcb.createenvandresource: check its spelling (names are case-sensitive), and that WeChat's page for it says it supports cloud calls (本接口支持云调用)"
      return { ...same, message: `${same.message} | ${hint}` }
    },
  },
  {
    name: 'gateway EXCEED_REQUEST_LIMIT',
    reply: { raw: '{"code":"EXCEED_REQUEST_LIMIT","message":"slow down","requestId":"r"}', ct: 'application/json; charset=utf-8' },
  },
  { name: 'gateway INVALIID_ENV', reply: { raw: '{"code":"INVALIID_ENV","message":"no such env","requestId":"r"}', ct: 'application/json; charset=utf-8' } },
]

// Beyond the seed's API: other API names (camelCase methods among them),
// media params (with and without fileName, snake_case content_type, unknown
// and parameterised mime types), Dates and non-media Buffers inside params,
// binary answers; each also through openapi({ appid }) and, where the key
// handling differs, convertCase: false.
const PNG = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex')
const JPEG = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10])
const IMAGE_ANSWER = { pb: { respData: Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x00, 0xff]), contentType: 'image/png' } }
const JSON_ANSWER = (obj) => ({ pb: { respData: JSON.stringify({ errcode: 0, errmsg: 'ok', ...obj }), contentType: 'application/json' } })
const API_CALLS = [
  {
    name: 'wxacode.getUnlimited, a binary answer',
    api: 'wxacode.getUnlimited',
    input: {
      scene: 'a=1&b=2',
      page: 'pages/index/index',
      checkPath: false,
      envVersion: 'trial',
      width: 430,
      autoColor: false,
      lineColor: { r: 0, g: 0, b: 0 },
      isHyaline: true,
    },
    reply: IMAGE_ANSWER,
  },
  {
    name: 'subscribeMessage.send',
    api: 'subscribeMessage.send',
    input: {
      touser: 'oUser1',
      templateId: 'tmpl-1',
      page: 'pages/a/a',
      miniprogramState: 'developer',
      lang: 'zh_CN',
      data: { thing1: { value: '到货' }, time2: { value: '2026-11-28 10:00' } },
    },
    reply: JSON_ANSWER({ msgid: 123456789012 }),
  },
  {
    name: 'security.imgSecCheck, media without fileName',
    api: 'security.imgSecCheck',
    input: { media: { contentType: 'image/png', value: PNG } },
    reply: JSON_ANSWER({}),
  },
  {
    name: 'media with fileName (dropped by case conversion) and a snake_case content_type',
    api: 'security.imgSecCheck',
    input: { media: { contentType: 'image/jpeg', value: JPEG, fileName: 'photo.jpeg' }, otherMedia: { content_type: 'image/gif', value: PNG } },
    reply: JSON_ANSWER({}),
  },
  {
    name: 'media with fileName, convertCase false',
    api: 'security.imgSecCheck',
    options: { convertCase: false },
    input: { media: { contentType: 'image/jpeg', value: JPEG, fileName: 'photo.jpeg' }, otherMedia: { contentType: 'image/png', value: PNG, fileName: '' } },
    reply: JSON_ANSWER({}),
  },
  {
    name: 'media with an unknown mime type and with parameters',
    api: 'security.imgSecCheck',
    input: {
      media: { contentType: 'application/x-made-up', value: PNG },
      second: { contentType: 'image/jpeg; charset=binary', value: JPEG },
      third: { contentType: 'IMAGE/PNG', value: PNG },
    },
    reply: JSON_ANSWER({}),
  },
  {
    name: 'media beside plain params, and a nested media-like object (plain JSON)',
    api: 'customerServiceMessage.uploadTempMedia',
    input: { type: 'image', media: { contentType: 'image/png', value: PNG }, nested: { inner: { contentType: 'image/png', value: PNG } } },
    reply: JSON_ANSWER({ type: 'image', media_id: 'm1', created_at: 1700000000 }),
  },
  {
    name: 'Dates and non-media Buffers inside params',
    api: 'tcb.createenvandresource',
    input: {
      type: 'CreatePostpayPackage',
      alias: 'dates',
      when: new Date(Date.UTC(2026, 10, 28, 1, 2, 3, 4)),
      raw: Buffer.from('hi'),
      nested: { at: new Date(0), list: [Buffer.from([1, 2]), new Date(86400000)], camelKey: { deepBuf: Buffer.alloc(0) } },
      notMedia: { contentType: 'image/png', value: 'not a buffer' },
    },
    reply: SUCCESS,
  },
  {
    name: 'a binary answer with a parameterised content type',
    api: 'wxacode.get',
    input: { path: 'pages/index/index', width: 280 },
    reply: { pb: { respData: JPEG, contentType: 'image/jpeg; charset=binary' } },
  },
]

// Environments: the recorded one, and variants exercising the token fields.
const ENVS = {
  base: (url) => cloudEnv(url),
  tokens: (url) =>
    cloudEnv(url, {
      TENCENTCLOUD_SESSIONTOKEN: undefined,
      TENCENTCLOUD_REGION: undefined,
      TCB_CONTEXT_KEYS: 'TCB_ENV,TCB_SEQID,TCB_SESSIONTOKEN,TCB_SOURCE,TCB_TRACELOG',
      WX_CONTEXT_KEYS: 'WX_API_TOKEN',
      WX_API_TOKEN: 'wx-api-token',
      TCB_SESSIONTOKEN: 'tcb-sess',
      TCB_SOURCE: 'wx_devtools',
      TCB_SEQID: 'req-42',
      TCB_TRACELOG: 'trace-abc',
    }),
  timer: (url) =>
    cloudEnv(url, {
      TRIGGER_SRC: 'timer',
      WX_TRIGGER_API_TOKEN_V0: 'trigger-token',
      WX_CONTEXT_KEYS: 'WX_API_TOKEN',
      WX_API_TOKEN: 'api-token',
      TENCENTCLOUD_REGION: 'ap-guangzhou',
    }),
  cloudbaseToken: (url) =>
    cloudEnv(url, {
      TCB_CONTEXT_KEYS: 'TCB_ENV,WX_CLOUDBASE_ACCESSTOKEN',
      TCB_ENV: undefined,
      SCF_NAMESPACE: 'ns-env-9',
      WX_CLOUDBASE_ACCESSTOKEN: 'cb-token',
    }),
  // which environment id (spec section 2): given to init as a string or as
  // DYNAMIC_CURRENT_ENV (always on SCF: off it the reference probes a cloud
  // metadata host). Not here: init({env: {default: …}}), which the spec says
  // uses `default` but which makes the reference 4.0.2 reject every openapi
  // call with "-501001 resource system error. source.on is not a function"
  // (it puts the object itself into the envName form field).
  initEnvString: (url) => cloudEnv(url),
  dynamicEnv: (url) => cloudEnv(url, { TCB_ENV: 'dyn-env-7', TCB_CONTEXT_KEYS: 'TCB_ENV' }),
}
const INIT = {
  initEnvString: { config: { env: 'explicit-env-1' } },
  dynamicEnv: { config: {}, dynamicEnv: true },
}

function plan() {
  const runs = Object.fromEntries(Object.keys(ENVS).map((name) => [name, []]))
  INPUTS.forEach((input, i) => {
    for (const options of OPTIONS) {
      runs.base.push({ name: `input #${i} ${options ? JSON.stringify(options) : 'default'}`, input, options, reply: SUCCESS })
    }
  })
  for (const a of ANSWERS) runs.base.push({ name: `answer: ${a.name}`, input: SAMPLE_INPUT, options: a.options || null, reply: a.reply, ours: a.ours })
  for (const c of API_CALLS) {
    for (const options of [c.options || null, { appid: 'wx1234567890abcdef', ...(c.options || {}) }]) {
      runs.base.push({ name: `api ${c.api}: ${c.name} ${options ? JSON.stringify(options) : 'default'}`, api: c.api, input: c.input, options, reply: c.reply })
    }
  }
  for (const env of Object.keys(ENVS).filter((name) => name !== 'base')) {
    for (const [i, input] of [FIXED_INPUTS[0], FIXED_INPUTS[3]].entries()) {
      for (const options of OPTIONS) runs[env].push({ name: `fixed #${i} ${options ? JSON.stringify(options) : 'default'}`, input, options, reply: SUCCESS })
    }
  }
  return runs
}

const RUNS = plan()
const results = {} // env -> [{call, ref: {outcome, requests}, ours: {outcome, requests}}]

// Phase 1 (all environments in parallel): the reference, one child process
// per environment, each against its own gateway.
async function runReferenceEnv(envName, calls, gateways) {
  const gw = await startGateway({ keys: GATEWAY_KEYS })
  gateways.push(gw) // closed by afterAll even when a later step throws
  const env = ENVS[envName](gw.url)
  gw.queue(...calls.map((c) => c.reply))
  const init = INIT[envName] || { config: {} }
  const ref = await runReference({ env, init: init.config, dynamicEnv: init.dynamicEnv, calls })
  if (ref.code !== 0 || ref.unhandled.length) throw new Error(`reference child: exit ${ref.code}, ${JSON.stringify(ref.unhandled)}`)
  if (gw.requests.length !== calls.length) throw new Error(`reference sent ${gw.requests.length} requests for ${calls.length} calls`)
  const out = calls.map((call, i) => ({ call, ref: { outcome: ref.outcomes[i], requests: [gw.requests[i]] } }))
  gw.reset()
  return { gw, env, init, out }
}

// Phase 2 (one environment after the other): ours, same environment, same gateway.
async function runOursEnv({ gw, env, init, out }) {
  const cloud = initOurs(env, init.config, { dynamicEnv: init.dynamicEnv })
  for (const r of out) {
    gw.queue(r.call.reply)
    // a copy made as the reference's child gets it (Buffers stay Buffers)
    const input = v8.deserialize(v8.serialize(r.call.input))
    const outcome = await capture(() => invoke(cloud, input, r.call.options, r.call.api))
    r.ours = { outcome, requests: gw.requests.slice() }
    gw.reset()
  }
}

const SAME_HEADERS = ['host', 'x-tcb-source', 'x-tcb-region', 'x-tcb-tracelog', 'x-signature-expires']

function compare(envName, index) {
  const { call, ref, ours } = results[envName][index]
  // one request per call (on failure, show what the call gave instead)
  expect({ requests: ours.requests.length, outcome: ours.outcome }).toMatchObject({ requests: 1 })
  const a = ref.requests[0]
  const b = ours.requests[0]
  expect(b.parseError).toBeNull()
  expect(b.signature).toMatchObject({ ok: true })
  expect(a.signature).toMatchObject({ ok: true })
  // requestData first: the most useful failure message
  expect(b.fields.requestData).toBe(a.fields.requestData)
  expect(b.requestData).toEqual(a.requestData)
  expect(b.fieldNames).toEqual(a.fieldNames)
  expect(b.fields).toEqual(a.fields)
  expect(b.parts.map((p) => p.headers['content-type'])).toEqual(a.parts.map((p) => p.headers['content-type']))
  expect(b.path).toBe(a.path)
  expect(Object.keys(b.query)).toEqual(Object.keys(a.query))
  expect(b.query.env).toBe(a.query.env)
  const seqPrefix = (s) => s.replace(/[0-9a-f]+_[0-9a-f]+$/, '')
  expect(seqPrefix(b.query.seqId)).toBe(seqPrefix(a.query.seqId))
  expect(b.query.seqId).toMatch(/[0-9a-f]+_[0-9a-f]+$/)
  for (const h of SAME_HEADERS) expect([h, b.headers[h]]).toEqual([h, a.headers[h]])
  const authA = parseAuthorization(a.headers.authorization)
  const authB = parseAuthorization(b.headers.authorization)
  expect(authB.signedParams).toEqual(authA.signedParams)
  expect(authB.signedHeaders).toEqual(authA.signedHeaders)
  expect(comparable(ours.outcome)).toEqual(call.ours ? call.ours(ref.outcome) : comparable(ref.outcome))
}

test('plan: at least 30 generated inputs, deterministic for the seed', () => {
  expect(GENERATED.length).toBeGreaterThanOrEqual(30)
  expect(generateInputs(SEED, 32)).toEqual(GENERATED)
  expect(generateInputs(SEED + 1, 32)).not.toEqual(GENERATED)
})

test('plan: the inputs cover the edges the differential is for', () => {
  const seen = new Set()
  const walk = (v) => {
    if (v === undefined) seen.add('undefined')
    else if (v === null) seen.add('null')
    else if (typeof v === 'boolean') seen.add('boolean')
    else if (typeof v === 'number') {
      if (Object.is(v, -0)) seen.add('-0')
      if (v === 1e21) seen.add('1e21')
      if (v < 0) seen.add('negative')
      if (!Number.isInteger(v) && Number.isFinite(v)) seen.add('float')
    } else if (typeof v === 'string') {
      for (const ch of ['\u2028', '\u00ad', '\ufeff', '🚀']) if (v.includes(ch)) seen.add(ch)
    } else if (Array.isArray(v)) {
      seen.add('array')
      v.forEach(walk)
    } else if (v instanceof Date) seen.add('date')
    else {
      seen.add('object')
      const keys = Object.keys(v)
      for (const k of keys) {
        if (/^(0|[1-9]\d*)$/.test(k)) seen.add('integer-like key')
        if (/[a-z][A-Z]/.test(k)) seen.add('camel key')
        if (/_[a-z]/.test(k)) seen.add('snake key')
        if (/^[A-Z]/.test(k)) seen.add('leading-upper key')
        if (/[A-Z]/.test(k) && keys.includes(k.replace(/[A-Z]/g, (m, i) => (i ? '_' : '') + m.toLowerCase()))) seen.add('collision')
        walk(v[k])
      }
    }
  }
  INPUTS.forEach(walk)
  expect([...seen].sort()).toEqual(
    [
      'undefined',
      'null',
      'boolean',
      '-0',
      '1e21',
      'negative',
      'float',
      '\u2028',
      '\u00ad',
      '\ufeff',
      '🚀',
      'array',
      'date',
      'object',
      'integer-like key',
      'camel key',
      'snake key',
      'leading-upper key',
      'collision',
    ].sort(),
  )
  expect(OPTIONS).toEqual([null, { convertCase: false }, { appid: expect.any(String) }])
})

test('the media file extension table is mime-db as the reference has it', () => {
  const fs = require('fs')
  const path = require('path')
  const db = require(require.resolve('mime-db', { paths: [path.dirname(require.resolve('wx-server-sdk'))] }))
  const expected = Object.entries(db)
    .filter(([, v]) => v.extensions?.length)
    .map(([k, v]) => `${k} ${v.extensions[0]}`)
  const ours = fs
    .readFileSync(path.join(__dirname, '..', 'crates', 'core', 'src', 'call', 'mime_extensions.txt'), 'utf8')
    .trimEnd()
    .split('\n')
  expect(ours).toEqual(expected)
})

describe('reference vs ours', () => {
  const gateways = []
  beforeAll(async () => {
    const names = Object.keys(RUNS)
    const runs = await Promise.all(names.map((n) => runReferenceEnv(n, RUNS[n], gateways)))
    runs.forEach((r, i) => {
      results[names[i]] = r.out
    })
    for (const r of runs) await runOursEnv(r)
  })
  afterAll(() => Promise.all(gateways.map((gw) => gw.close())))

  for (const envName of Object.keys(RUNS)) {
    describe(`environment ${envName}`, () => {
      test.each(RUNS[envName].map((c, i) => [c.name, i]))('%s', (_name, i) => compare(envName, i))
    })
  }
})
