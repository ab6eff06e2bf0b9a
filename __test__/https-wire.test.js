'use strict'

// What the HTTPS modes put on the wire for the surface beyond JSON APIs,
// read by a plain HTTP server on loopback: the path table's method and path,
// media as multipart/form-data (part named after the param, file name,
// content type, exact bytes) with `type` in the query, GET params in the
// query, the midas signature computed for the API's path, and binary
// answers resolved as { contentType, buffer, errMsg, errCode: 0 } while a
// JSON error to an image API rejects.

const http = require('http')
const crypto = require('crypto')
const sdk = require('../index.js')
const { parseMultipart } = require('./helpers/multipart')

const TOKEN = 'wire-test-token'
let server
let base
const seen = []
let reply = () => ({ ct: 'application/json', body: '{"errcode":0,"errmsg":"ok"}' })

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const chunks = []
    req.on('data', (c) => chunks.push(c))
    req.on('end', () => {
      const url = new URL(req.url, 'http://x')
      const rec = { method: req.method, path: url.pathname, query: Object.fromEntries(url.searchParams), headers: req.headers, body: Buffer.concat(chunks) }
      seen.push(rec)
      const r = reply(rec)
      res.writeHead(r.status || 200, { 'content-type': r.ct })
      res.end(r.body)
    })
  })
  // Idle connections outlive our client's pool (30 s): Node's default of
  // 5 s would close one just as a call reuses it, and that POST fails
  // (docs/emulator.md, "idle keep-alive connection").
  server.keepAliveTimeout = 120000
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  base = `http://127.0.0.1:${server.address().port}`
})
afterAll(
  () =>
    new Promise((resolve) => {
      server.close(resolve)
      // The SDK's pool keeps its connections open: close them rather than
      // wait for its idle timeout.
      server.closeAllConnections()
    }),
)
beforeEach(() => {
  seen.length = 0
  reply = () => ({ ct: 'application/json', body: '{"errcode":0,"errmsg":"ok"}' })
})

function client() {
  const c = new sdk.Cloud()
  c.init({ accessToken: TOKEN, apiBaseUrl: base, processEnv: {} })
  return c
}

test('a media upload is one file part with its name, file name, content type and bytes; type goes in the query', async () => {
  const bytes = crypto.randomBytes(5000)
  reply = () => ({ ct: 'application/json; encoding=utf-8', body: '{"errcode":0,"errmsg":"ok","type":"image","media_id":"M1","created_at":1}' })
  const r = await client().openapi.customerServiceMessage.uploadTempMedia({ type: 'image', media: { contentType: 'image/png', value: bytes } })
  expect(r).toEqual({ type: 'image', mediaId: 'M1', createdAt: 1, errMsg: 'openapi.customerServiceMessage.uploadTempMedia:ok', errCode: 0 })
  expect(seen).toHaveLength(1)
  const [req] = seen
  expect([req.method, req.path, req.query]).toEqual(['POST', '/cgi-bin/media/upload', { access_token: TOKEN, type: 'image' }])
  expect(req.headers['content-type']).toMatch(/^multipart\/form-data; boundary=/)
  const parts = parseMultipart(req.body, req.headers['content-type'])
  expect(parts.map((p) => [p.name, p.filename, p.headers['content-type']])).toEqual([['media', 'media.png', 'image/png']])
  expect(parts[0].data.equals(bytes)).toBe(true)
})

test('fileName is the part file name; other params are text parts', async () => {
  await client().openapi.security.imgSecCheck({ media: { contentType: 'image/jpeg', value: Buffer.from('jpg'), fileName: 'photo 1.jpg' }, extraFlag: 2 })
  const [req] = seen
  expect([req.method, req.path, req.query]).toEqual(['POST', '/wxa/img_sec_check', { access_token: TOKEN }])
  const parts = parseMultipart(req.body, req.headers['content-type'])
  expect(parts.map((p) => [p.name, p.filename, p.headers['content-type'], p.data.toString()])).toEqual([
    ['extra_flag', undefined, undefined, '2'],
    ['media', 'photo 1.jpg', 'image/jpeg', 'jpg'],
  ])
})

test('a GET API sends its params in the query and no body', async () => {
  await client().openapi.subscribeMessage.getPubTemplateTitleList({ ids: '2,616', start: 0, limit: 30 })
  const [req] = seen
  expect([req.method, req.path, req.query, req.body.length]).toEqual([
    'GET',
    '/wxaapi/newtmpl/getpubtemplatetitles',
    { access_token: TOKEN, ids: '2,616', start: '0', limit: '30' },
    0,
  ])
})

test('an image resolves { contentType, buffer, errMsg, errCode: 0 }; a JSON error to it rejects', async () => {
  const png = crypto.randomBytes(300)
  reply = () => ({ ct: 'image/png', body: png })
  const r = await client().openapi.wxacode.getUnlimited({ scene: 'a=1', isHyaline: true })
  expect(Object.keys(r)).toEqual(['contentType', 'buffer', 'errMsg', 'errCode'])
  expect(r.contentType).toBe('image/png')
  expect(r.buffer.equals(png)).toBe(true)
  expect([r.errMsg, r.errCode]).toEqual(['openapi.wxacode.getUnlimited:ok', 0])
  expect([seen[0].path, JSON.parse(seen[0].body)]).toEqual(['/wxa/getwxacodeunlimit', { scene: 'a=1', is_hyaline: true }])
  reply = () => ({
    ct: 'application/json; encoding=utf-8',
    body: '{"errcode":40169,"errmsg":"invalid length for scene, or the data is not json string rid: 6543a1b2-0f1e2d3c-4b5a6978"}',
  })
  await expect(client().openapi.wxacode.getUnlimited({ scene: '' })).rejects.toMatchObject({
    constructor: sdk.CloudSDKError,
    errCode: 40169,
    errMsg: 'openapi.wxacode.getUnlimited:fail invalid length for scene, or the data is not json string rid: 6543a1b2-0f1e2d3c-4b5a6978',
  })
})

test('any answer that is not JSON or text is the binary result (a PDF from getTempMedia), as in the cloud call; text/plain that is not JSON resolves as result', async () => {
  const pdf = Buffer.concat([Buffer.from('%PDF-1.7\n'), crypto.randomBytes(200)])
  reply = () => ({ ct: 'application/pdf', body: pdf })
  const r = await client().openapi.customerServiceMessage.getTempMedia({ mediaId: 'm1' })
  expect([r.contentType, r.buffer.equals(pdf), r.errCode]).toEqual(['application/pdf', true, 0])
  expect([seen[0].method, seen[0].path, seen[0].query.media_id]).toEqual(['GET', '/cgi-bin/media/get', 'm1'])
  reply = () => ({ ct: 'text/plain; charset=utf-8', body: 'plain words\n' })
  await expect(client().openapi.customerServiceMessage.getTempMedia({ mediaId: 'm1' })).resolves.toEqual({
    result: 'plain words\n',
    errMsg: 'openapi.customerServiceMessage.getTempMedia:ok',
    errCode: 0,
  })
  // An HTML page (a proxy's) is text that is not JSON: a failure, never a success.
  reply = () => ({ ct: 'text/html', body: '<html>bad gateway</html>' })
  await expect(client().openapi.customerServiceMessage.getTempMedia({ mediaId: 'm1' })).rejects.toMatchObject({ errCode: -601001 })
})
test('the midas signature goes in the JSON body, computed over the sorted snake_cased params, org_loc and method', async () => {
  const c = client()
  const secret = 'midas-secret'
  const sig = c.signature({ type: 'midas', params: ['zoneId', 'openid', 'ts', 'offerId', 'pf'], secret })
  await c.openapi.midas.getBalanceSandbox({ openid: 'o1', offerId: '123', ts: 1507530737, zoneId: '1', pf: 'android', sig })
  const [req] = seen
  expect(req.path).toBe('/cgi-bin/midas/sandbox/getbalance')
  const body = JSON.parse(req.body)
  // The algorithm as documented, written out independently of lib/midas-signature.js.
  const source = 'offer_id=123&openid=o1&pf=android&ts=1507530737&zone_id=1&org_loc=/cgi-bin/midas/sandbox/getbalance&method=POST&secret=midas-secret'
  expect(body).toEqual({
    openid: 'o1',
    offer_id: '123',
    ts: 1507530737,
    zone_id: '1',
    pf: 'android',
    sig: crypto.createHmac('sha256', secret).update(source).digest('hex'),
  })
  expect(req.body.toString()).not.toContain(secret)
})

test("a 404 for an API the path table does not know says so and names it (a misspelt name); a known API's 404 does not", async () => {
  reply = () => ({ status: 404, ct: 'text/html', body: '<html>not found</html>' })
  const typo = await client()
    .openapi.tcb.createenvandresourse({ type: 'CreatePostpayPackage' })
    .then(
      () => null,
      (e) => e,
    )
  expect(seen.map((r) => `${r.method} ${r.path}`)).toEqual(['POST /tcb/createenvandresourse'])
  expect(typo.errCode).toBe(-501001)
  expect(typo.errMsg).toContain(
    '404 Not Found (tcb.createenvandresourse is not in the path table, so it went to POST /tcb/createenvandresourse: check the API name)',
  )
  const known = await client()
    .openapi.wxacode.getUnlimited({ scene: 'x' })
    .then(
      () => null,
      (e) => e,
    )
  expect(known.errMsg).toContain('404 Not Found |')
  expect(known.errMsg).not.toContain('path table')
})
