'use strict'

// Proves the harness itself: the independent TC3 implementation reproduces the
// signature vectors, and the REFERENCE SDK, run in a child process against the
// scripted gateway, reproduces every recording. If these fail, the other
// suites' verdicts about our SDK mean nothing.

const { startGateway, SUCCESS } = require('./helpers/gateway')
const { runReference, cloudEnv, GATEWAY_KEYS } = require('./helpers/reference')
const { sign, verify } = require('./helpers/tc3')
const { decodeCommApiData, encodeCommOpenApiResp, decodeCommOpenApiResp } = require('./helpers/protobuf')
const { parseMultipart } = require('./helpers/multipart')
const { recording, signatureVectors, comparable, expectedFrom } = require('./helpers/recordings')

const SAMPLE_INPUT = { type: 'CreatePostpayPackage', alias: 'x' }

describe('TC3-HMAC-SHA256 verifier (helpers/tc3.js)', () => {
  test.each(signatureVectors.vectors.map((v) => [v.name, v]))('reproduces vector %s', (_name, v) => {
    const fields = Object.entries(v.params).map(([name, val]) =>
      typeof val === 'object' ? { name, data: Buffer.from(val.hex, 'hex'), binary: true } : { name, data: Buffer.from(val), binary: false },
    )
    const s = sign({ method: v.method, url: v.url, headers: v.headers, fields, secretId: v.secretId, secretKey: v.secretKey, timestamp: v.timestamp })
    expect(s.authorization).toBe(v.expected_authorization)
    if (v.intermediate) {
      expect(s.canonicalRequest).toBe(v.intermediate.canonical_request)
      expect(s.hashedPayload).toBe(v.intermediate.hashed_payload)
      expect(s.stringToSign).toBe(v.intermediate.string_to_sign)
      expect(s.kDate.toString('hex')).toBe(v.intermediate.secret_date_hex)
      expect(s.kService.toString('hex')).toBe(v.intermediate.secret_service_hex)
      expect(s.kSigning.toString('hex')).toBe(v.intermediate.secret_signing_hex)
      expect(s.signature).toBe(v.intermediate.signature_hex)
    }
  })
})

describe('protobuf and multipart helpers', () => {
  test('CommOpenApiResp round-trips, negative int32 included', () => {
    const msg = {
      respData: Buffer.from('\u0089PNG'),
      contentType: 'image/png',
      errorCode: -604101,
      httpCode: 200,
      svrkitErrorCode: -1,
      headers: [{ key: 'k', value: 'v' }],
    }
    expect(decodeCommOpenApiResp(encodeCommOpenApiResp(msg))).toEqual(msg)
  })

  test('decodes the recorded requestData of every request case', () => {
    for (const c of recording.requests) {
      const d = decodeCommApiData(Buffer.from(c.requestData_hex, 'hex'))
      expect(d.apiType).toBe(0)
      expect(d.fieldOrder.slice(0, 2)).toEqual([1, 2])
      expect(d.appid).toBe(c.options ? c.options.appid : undefined)
      for (const p of d.openapiData.pairs) expect(() => JSON.parse(p.value.toString('utf8'))).not.toThrow()
    }
    const basic = decodeCommApiData(Buffer.from(recording.requests[0].requestData_hex, 'hex'))
    expect(basic.openapiData.pairs.map((p) => [p.key, p.value.toString()])).toEqual([
      ['type', JSON.stringify(recording.requests[0].input.type)],
      ['alias', JSON.stringify(recording.requests[0].input.alias)],
    ])
  })

  test('multipart parser keeps order and raw bytes, rejects a truncated body', () => {
    const ct = 'multipart/form-data; boundary=XyZ'
    const body = Buffer.concat([
      Buffer.from('--XyZ\r\nContent-Disposition: form-data; name="a"\r\n\r\n\r\n--XyZ\r\n'),
      Buffer.from('Content-Disposition: form-data; name="bin"\r\nContent-Type: application/octet-stream\r\n\r\n'),
      Buffer.from([0, 13, 10, 45, 45, 255]),
      Buffer.from('\r\n--XyZ--\r\n'),
    ])
    const parts = parseMultipart(body, ct)
    expect(parts.map((p) => p.name)).toEqual(['a', 'bin'])
    expect(parts[0].data.length).toBe(0)
    expect(parts[1].data.toString('hex')).toBe('000d0a2d2dff')
    expect(parts[1].headers['content-type']).toBe('application/octet-stream')
    expect(() => parseMultipart(body.subarray(0, body.length - 12), ct)).toThrow()
  })
})

describe('the reference SDK reproduces the recordings through the scripted gateway', () => {
  let gw
  let ref
  const nReq = recording.requests.length
  const nResp = recording.responses.length

  beforeAll(async () => {
    gw = await startGateway({ keys: GATEWAY_KEYS })
    const calls = [...recording.requests.map((c) => ({ input: c.input, options: c.options })), ...recording.responses.map(() => ({ input: SAMPLE_INPUT }))]
    gw.queue(...recording.requests.map(() => SUCCESS), ...recording.responses.map((c) => c.gateway))
    ref = await runReference({ env: cloudEnv(gw.url), calls })
  })
  afterAll(() => gw?.close())

  test('one request per call, no unhandled rejection, child exits 0', () => {
    expect(ref.code).toBe(0)
    expect(ref.unhandled).toEqual([])
    expect(gw.requests).toHaveLength(nReq + nResp)
    expect(gw.pending()).toBe(0)
  })

  test.each(recording.requests.map((c, i) => [c.name, c, i]))('request %s', (_n, c, i) => {
    const q = gw.requests[i]
    expect(q.fields.requestData).toBe(c.requestData_hex)
    expect(q.fields.action).toBe(c.action)
    expect(q.fields.apiName).toBe(c.apiName)
    expect(comparable(ref.outcomes[i])).toEqual(expectedFrom(c.result))
  })

  test.each(recording.responses.map((c, j) => [c.name, c, j]))('response %s', (_n, c, j) => {
    const i = nReq + j
    const expected = expectedFrom(c.result)
    if (/^http-/.test(c.name)) {
      // the recorded message embeds the recorder's URL (port, seqId): put ours in
      const url = `[http://127.0.0.1:${gw.port}${gw.requests[i].url}]`
      expected.errMsg = expected.errMsg.replace(/\[http:\/\/127\.0\.0\.1:\d+\/admin\?[^\]]*\]/, url)
      expected.message = expected.message.replace(/\[http:\/\/127\.0\.0\.1:\d+\/admin\?[^\]]*\]/, url)
    }
    expect(comparable(ref.outcomes[i])).toEqual(expected)
    if (c.value_json_in_order) expect(ref.outcomes[i].json).toBe(c.value_json_in_order)
  })

  test('sample_wire: field names, field values, header names', () => {
    const sample = recording.sample_wire
    const q = gw.requests[nReq] // first response case, input SAMPLE_INPUT
    expect(q.fieldNames).toEqual(sample.fieldNames)
    expect(q.fields).toEqual(sample.fields)
    expect(Object.keys(q.headers).sort()).toEqual(Object.keys(sample.headers).sort())
    expect(q.path).toBe(sample.url.split('?')[0])
    expect(Object.keys(q.query)).toEqual(['env', 'seqId'])
    expect(q.parts.find((p) => p.name === 'requestData').headers['content-type']).toBe('application/octet-stream')
  })

  test('the independent verifier accepts every reference request', () => {
    for (const q of gw.requests) expect(q.signature).toMatchObject({ ok: true })
  })

  test('the verifier rejects a tampered body, a wrong key and a changed query', () => {
    const q = gw.requests[0]
    const tampered = { ...q, parts: q.parts.map((p) => (p.name === 'requestData' ? { ...p, data: Buffer.concat([p.data, Buffer.from([0])]) } : p)) }
    expect(verify(tampered, GATEWAY_KEYS).ok).toBe(false)
    expect(verify(q, { AKIDtest: 'wrong' }).ok).toBe(false)
    expect(verify({ ...q, url: q.url.replace('env=', 'env=x') }, GATEWAY_KEYS).ok).toBe(false)
    const emptied = { ...q, parts: q.parts.map((p) => (p.name === 'sessionToken' ? { ...p, data: Buffer.alloc(0) } : p)) }
    expect(verify(emptied, GATEWAY_KEYS)).toMatchObject({ ok: false, reason: expect.stringMatching(/SignedParams/) })
    expect(verify(q, GATEWAY_KEYS)).toMatchObject({ ok: true })
  })
})
