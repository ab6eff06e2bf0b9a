'use strict'

// Replays every recorded case of the reference SDK (../shared/conformance/
// wx-server-sdk-4.0.2.json) against OUR SDK (../index.js) through the scripted
// gateway, with the environment of a cloud function (helpers/reference.js
// cloudEnv) given to ours as `processEnv`.

const { startGateway, SUCCESS } = require('./helpers/gateway')
const { cloudEnv, GATEWAY_KEYS, SECRET_ID } = require('./helpers/reference')
const { initOurs } = require('./helpers/ours')
const { capture, invoke } = require('./helpers/outcome')
const { parseAuthorization } = require('./helpers/tc3')
const { recording, comparable, expectedFrom, cloudSdkMessage, byName } = require('./helpers/recordings')

const API = 'openapi.tcb.createenvandresource'
const SAMPLE_INPUT = { type: 'CreatePostpayPackage', alias: 'x' } // the input of sample_wire

// Where we deliberately differ from reference defects (spec section 9): the
// outcome OUR SDK must produce instead. `check` gets (outcome, gateway, request).
const DEVIATIONS = {
  // reference resolves an empty 200 body as success with an empty buffer
  'empty-200': () => {
    const errMsg = `${API}:fail empty response from the gateway`
    return { threw: true, ctor: 'CloudSDKError', errCode: -601001, errMsg, message: cloudSdkMessage(-601001, errMsg), keys: ['errCode', 'errMsg'] }
  },
  // reference returns bignumber.js internals {s, e, c}: we resolve a JS number
  'errcode-zero-string-json-in-pb': (c) => {
    const bigNum = JSON.parse(c.gateway.pb.respData).big_num
    expect(typeof bigNum).toBe('number')
    return { threw: false, json: JSON.stringify({ bigNum, errMsg: `${API}:ok`, errCode: 0 }) }
  },
  // reference embeds the full request URL (query with env and seqId); we show it without the query
  'http-500': (c, gw) => httpError(c, gw),
  'http-502-empty': (c, gw) => httpError(c, gw),
  // reference: errMsg without the 'openapi.' prefix and protobufjs's decoder message
  'garbage-200': (_c, _gw, outcome) => {
    const prefix = `${API}:fail unknown wx response received: invalid protobuf`
    expect(typeof outcome.errMsg).toBe('string')
    expect(outcome.errMsg.startsWith(prefix)).toBe(true)
    const errMsg = outcome.errMsg
    return { threw: true, ctor: 'CloudSDKError', errCode: -601001, errMsg, message: cloudSdkMessage(-601001, errMsg), keys: ['errCode', 'errMsg'] }
  },
  // the reference's message names no API: ours adds it after the recorded text (errCode, errMsg, keys as recorded)
  'pb-errorCode-not-found': (c) => {
    const expected = expectedFrom(c.result)
    const hint = `the platform has no API named ${API}: check its spelling (names are case-sensitive), and that WeChat's page for it says it supports cloud calls (本接口支持云调用)`
    return { ...expected, message: `${expected.message} | ${hint}` }
  },
}

function httpError(c, gw) {
  const url = `[${gw.url}]`
  const strip = (s) => s.replace(/\[http:\/\/127\.0\.0\.1:\d+\/admin\?[^\]]*\]/, url)
  const expected = expectedFrom(c.result)
  expect(strip(expected.errMsg)).not.toBe(expected.errMsg) // the recording does embed a URL with a query
  return { ...expected, errMsg: strip(expected.errMsg), message: strip(expected.message) }
}

test('every deviation names a recorded case', () => {
  for (const name of Object.keys(DEVIATIONS)) expect(byName(recording.responses, name).name).toBe(name)
})

describe('our SDK', () => {
  let gw
  let cloud

  beforeAll(async () => {
    gw = await startGateway({ keys: GATEWAY_KEYS })
    cloud = initOurs(cloudEnv(gw.url))
  })
  afterAll(() => gw?.close())
  beforeEach(() => gw?.reset())

  async function callOnce(input, options, reply = SUCCESS) {
    gw.queue(reply)
    const outcome = await capture(() => invoke(cloud, structuredClone(input), options))
    expect(gw.requests).toHaveLength(1)
    expect(gw.pending()).toBe(0)
    const q = gw.requests[0]
    expect(q.parseError).toBeNull()
    expect(q.signature).toMatchObject({ ok: true })
    return { outcome, q }
  }

  describe('requests: the requestData we send is byte-identical to the reference', () => {
    test.each(recording.requests.map((c) => [c.name, c]))('%s', async (_n, c) => {
      const { outcome, q } = await callOnce(c.input, c.options)
      expect(q.fields.requestData).toBe(c.requestData_hex)
      expect(q.fields.action).toBe(c.action)
      expect(q.fields.apiName).toBe(c.apiName)
      expect(comparable(outcome)).toEqual(expectedFrom(c.result))
    })
  })

  describe('responses: our result or error for each recorded gateway answer', () => {
    test.each(recording.responses.map((c) => [c.name, c]))('%s', async (name, c) => {
      const { outcome } = await callOnce(SAMPLE_INPUT, null, c.gateway)
      const deviation = DEVIATIONS[name]
      const expected = deviation ? deviation(c, gw, outcome) : expectedFrom(c.result)
      expect(comparable(outcome)).toEqual(expected)
      if (c.value_json_in_order && !deviation) expect(outcome.json).toBe(c.value_json_in_order)
    })

    test('errors are CloudSDKError instances where the reference uses that class', async () => {
      gw.queue(byName(recording.responses, 'wx-error-40101').gateway)
      const err = await invoke(cloud, SAMPLE_INPUT).then(
        () => null,
        (e) => e,
      )
      expect(err).toBeInstanceOf(cloud.CloudSDKError)
      expect(err).toBeInstanceOf(Error)
      expect(gw.requests).toHaveLength(1)
    })
  })

  describe('sample_wire: the shape of the request on the wire', () => {
    const sample = recording.sample_wire

    test('multipart fields: names, order, values; requestData is application/octet-stream', async () => {
      const { q } = await callOnce(SAMPLE_INPUT, null)
      expect(q.fieldNames).toEqual(sample.fieldNames)
      expect(q.fieldNames).toEqual([
        'action',
        'apiName',
        'requestData',
        'envName',
        'wxCloudApiToken',
        'wxCloudbaseAccesstoken',
        'tcb_sessionToken',
        'sessionToken',
        'crossAuthorizationToken',
      ])
      // same environment as the recording (env test-env-123, session token sesstoken)
      expect(q.fields).toEqual(sample.fields)
      const rd = q.parts.find((p) => p.name === 'requestData')
      expect(rd.headers['content-type']).toBe('application/octet-stream')
      for (const p of q.parts.filter((x) => x.name !== 'requestData')) expect(p.filename).toBeUndefined()
    })

    test('URL and headers', async () => {
      const before = Date.now()
      const { q } = await callOnce(SAMPLE_INPUT, null)
      const after = Date.now()
      expect(q.method).toBe('POST')
      expect(q.path).toBe(sample.url.split('?')[0])
      expect(Object.keys(q.query)).toEqual(['env', 'seqId'])
      expect(q.query.env).toBe(new URLSearchParams(sample.url.split('?')[1]).get('env'))
      expect(q.query.seqId).toMatch(/^[0-9a-f]+_[0-9a-f]+$/)
      const h = q.headers
      expect(h['content-type']).toMatch(/^multipart\/form-data; boundary=\S+$/)
      expect(h['x-tcb-source']).toBe(sample.headers['x-tcb-source'])
      expect(h['x-tcb-region']).toBe(sample.headers['x-tcb-region'])
      expect(h['x-sdk-version']).toEqual(expect.any(String))
      expect(h['x-sdk-version']).not.toBe('')
      expect(h['x-client-timestamp']).toMatch(/^\d{13}$/)
      expect(Number(h['x-client-timestamp'])).toBeGreaterThanOrEqual(before - 2000)
      expect(Number(h['x-client-timestamp'])).toBeLessThanOrEqual(after + 1000)
      expect(h['x-signature-expires']).toBe('600')
      expect(h['x-timestamp']).toMatch(/^\d{10}$/)
      expect(Number(h['x-timestamp'])).toBeGreaterThanOrEqual(Math.floor(before / 1000) - 5)
      expect(Number(h['x-timestamp'])).toBeLessThanOrEqual(Math.ceil(after / 1000))
      const auth = parseAuthorization(h.authorization)
      const sampleAuth = parseAuthorization(sample.headers.authorization)
      expect(auth).not.toBeNull()
      expect(auth.secretId).toBe(SECRET_ID)
      expect(auth.signedParams).toEqual(sampleAuth.signedParams)
      expect(auth.signedHeaders).toEqual(sampleAuth.signedHeaders)
      expect(q.signature).toEqual({ ok: true, reason: '', auth })
    })

    test('x-tcb-region is absent when no region is known', async () => {
      const env = cloudEnv(gw.url)
      delete env.TENCENTCLOUD_REGION
      const other = initOurs(env)
      gw.queue(SUCCESS)
      const outcome = await capture(() => invoke(other, SAMPLE_INPUT))
      expect(comparable(outcome)).toEqual(expectedFrom(recording.requests[0].result))
      expect(gw.requests).toHaveLength(1)
      expect(gw.requests[0].headers['x-tcb-region']).toBeUndefined()
      expect(gw.requests[0].signature).toMatchObject({ ok: true })
      expect(parseAuthorization(gw.requests[0].headers.authorization).signedHeaders).not.toContain('x-tcb-region')
    })
  })
})
