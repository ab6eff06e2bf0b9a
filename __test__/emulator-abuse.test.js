'use strict'

// The emulator under abuse: malformed multipart, oversized bodies,
// slowloris clients and 1,000 concurrent connections. It answers with
// errors, keeps serving, and every environment whose creation it
// acknowledged is in its state and in its data file, also after a restart.

const fs = require('fs')
const net = require('net')
const os = require('os')
const path = require('path')
const sdk = require('../index.js')
const { APP, MODES, modeClient } = require('./helpers/emu-modes')
const leaks = require('./helpers/leak-collector')
const { request, wx } = require('./helpers/emu-client')

jest.setTimeout(90000)

let dir, dataFile, emu
const acknowledged = new Set()

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wx-abuse-'))
  dataFile = path.join(dir, 'envs.json')
  emu = await sdk.startEmulator({ dataFile })
})
afterAll(async () => {
  if (emu) await emu.close()
  leaks.flush('emulator-abuse')
  fs.rmSync(dir, { recursive: true, force: true })
})

function client(mode) {
  return modeClient(mode, emu, { timeout: 20000 }, { ticket: 'ticket', onRotated: async (t) => leaks.secret(t) })
}

/** n creations spread over the modes; the envids acknowledged are remembered. */
async function create(n, prefix) {
  const clients = MODES.map(client)
  const results = await Promise.all(
    Array.from({ length: n }, (_, i) =>
      clients[i % 3].openapi.tcb.createenvandresource({ type: 'CreatePostpayPackage', alias: `${prefix}${i}` }).then(
        (v) => {
          acknowledged.add(v.envid)
          return v
        },
        (e) => {
          leaks.error(e)
          return e
        },
      ),
    ),
  )
  return results
}

async function serves() {
  const r = await create(3, 'alive')
  for (const v of r) expect(v.errCode).toBe(0)
}

/** A raw request on a fresh socket; resolves with everything the server sent before closing or `ms`. */
function raw(bytes, ms = 5000) {
  return new Promise((resolve) => {
    const s = net.connect(emu.url.split(':')[2] | 0, '127.0.0.1')
    const chunks = []
    const t = setTimeout(() => {
      s.destroy()
      resolve({ text: Buffer.concat(chunks).toString('latin1'), timedOut: true })
    }, ms)
    s.on('data', (c) => chunks.push(c))
    s.on('error', () => {})
    s.on('close', () => {
      clearTimeout(t)
      resolve({ text: Buffer.concat(chunks).toString('latin1'), timedOut: false })
    })
    s.on('connect', () => s.end(bytes))
  })
}

const port = () => Number(new URL(emu.url).port)

describe('malformed multipart at the gateway door: a gateway error, never a crash', () => {
  const B = 'abuse-boundary'
  const part = (name, value) => `--${B}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`
  const CASES = [
    ['no boundary', 'multipart/form-data', `${part('action', 'wx.openApi')}--${B}--\r\n`, /INVALID_PARAM/],
    ['not multipart', 'text/plain', 'action=wx.openApi', /INVALID_PARAM/],
    ['no content type', null, 'x', /INVALID_PARAM/],
    ['an empty body', `multipart/form-data; boundary=${B}`, '', /INVALID_PARAM|INVALID_COMMON_PARAM/],
    ['garbage', `multipart/form-data; boundary=${B}`, '\u0000\u00ff garbage \r\n\r\n--', /INVALID_PARAM|INVALID_COMMON_PARAM/],
    [
      'cut inside a part',
      `multipart/form-data; boundary=${B}`,
      `${part('action', 'wx.openApi')}--${B}\r\nContent-Disposition: form-data; name="apiName"\r\n\r\ntcb.cre`,
      /INVALID_PARAM/,
    ],
    ['no closing boundary', `multipart/form-data; boundary=${B}`, part('action', 'wx.openApi'), /INVALID_PARAM|INVALID_COMMON_PARAM/],
    ['part without headers', `multipart/form-data; boundary=${B}`, `--${B}\r\n\r\nvalue\r\n--${B}--\r\n`, /INVALID_PARAM|INVALID_COMMON_PARAM/],
    ['10,000 fields', `multipart/form-data; boundary=${B}`, `${part('f', 'x').repeat(10000)}--${B}--\r\n`, /too many multipart fields/],
    [
      'a 200 KB part header',
      `multipart/form-data; boundary=${B}`,
      `--${B}\r\nContent-Disposition: form-data; name="${'n'.repeat(200000)}"\r\n\r\nv\r\n--${B}--\r\n`,
      /INVALID_PARAM|INVALID_COMMON_PARAM/,
    ],
    ['a 70-character boundary', `multipart/form-data; boundary=${'b'.repeat(70)}`, `--${'b'.repeat(70)}--\r\n`, /INVALID_PARAM|INVALID_COMMON_PARAM/],
    [
      'non-UTF-8 field names',
      `multipart/form-data; boundary=${B}`,
      `--${B}\r\nContent-Disposition: form-data; name="\u00ff\u00fe"\r\n\r\nv\r\n--${B}--\r\n`,
      /INVALID_PARAM|INVALID_COMMON_PARAM/,
    ],
    [
      'a well-formed form without a signature',
      `multipart/form-data; boundary=${B}`,
      `${part('action', 'wx.openApi')}${part('apiName', 'tcb.createenvandresource')}--${B}--\r\n`,
      /INVALID_COMMON_PARAM/,
    ],
  ]
  test.each(CASES)('%s', async (_name, ct, body, code) => {
    const buf = Buffer.from(body, 'latin1')
    const headers = { 'content-length': buf.length }
    if (ct) headers['content-type'] = ct
    const r = await request(`${emu.url}/admin?env=emulator-env`, { method: 'POST', headers, body: buf })
    expect(r.dropped).toBeUndefined()
    expect(r.status).toBe(200)
    const text = r.body.toString('utf8')
    leaks.text(text)
    expect(JSON.parse(text).code).toMatch(/^INVALID_(PARAM|COMMON_PARAM)$/)
    expect(text).toMatch(code)
  })

  test('the WeChat door answers 47001 to bodies that are not JSON objects', async () => {
    const tokenRes = await wx(emu.httpsBaseUrl, '/cgi-bin/stable_token', { grant_type: 'client_credential', ...APP })
    leaks.secret(tokenRes.json.access_token)
    const seen = {}
    for (const body of ['not json', '[1,2]', '"s"', '{"type":', '\u0000\u0001', '{"type":"CreatePostpayPackage","alias":"a"}{']) {
      const r = await wx(emu.httpsBaseUrl, `/tcb/createenvandresource?access_token=${tokenRes.json.access_token}`, body)
      expect(r.status).toBe(200)
      seen[body] = r.json.errcode
    }
    expect(Object.values(seen)).toEqual(Array(6).fill(47001))
  })

  test('and it still serves', serves)
})

describe('oversized bodies: 413, and it still serves', () => {
  test.each(['/admin', '/tcb/createenvandresource?access_token=x'])('Content-Length of 13 MB to %s', async (p) => {
    const r = await raw(`POST ${p} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${13 * 1024 * 1024}\r\n\r\n{"a":`)
    expect(r.text).toMatch(/^HTTP\/1\.1 413 /)
  })

  // A client still sending when the 413 is written must still read it:
  // the emulator reads the rest of a refused body before closing, since
  // closing with unread data makes the kernel send a reset that can destroy
  // the answer. Six clients at once, three rounds each, make that race
  // likely (before the fix about one in fifteen lost the 413 here).
  const sendBig = (p, chunked) =>
    new Promise((resolve) => {
      const chunk = Buffer.alloc(1024 * 1024, 0x61)
      const s = net.connect(port(), '127.0.0.1')
      const got = []
      s.on('data', (c) => got.push(c))
      s.on('error', () => {})
      s.on('close', () => resolve(Buffer.concat(got).toString('latin1')))
      s.on('connect', async () => {
        const framing = chunked ? 'Transfer-Encoding: chunked' : `Content-Length: ${14 * chunk.length}`
        s.write(`POST ${p} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: multipart/form-data; boundary=x\r\n${framing}\r\nConnection: close\r\n\r\n`)
        for (let i = 0; i < 14 && !s.destroyed; i++) {
          if (chunked) s.write(`${chunk.length.toString(16)}\r\n`)
          if (!s.write(chunked ? Buffer.concat([chunk, Buffer.from('\r\n')]) : chunk)) await new Promise((r) => s.once('drain', r))
        }
        if (!s.destroyed) s.end(chunked ? '0\r\n\r\n' : '')
      })
    })

  test.each([
    ['a chunked body', '/admin', true],
    ['a chunked body', '/tcb/createenvandresource?access_token=x', true],
    ['a 14 MB Content-Length body, sent in full,', '/admin', false],
    ['a 14 MB Content-Length body, sent in full,', '/tcb/createenvandresource?access_token=x', false],
  ])('%s to %s: six clients at once, each reads its 413', async (_what, p, chunked) => {
    const answers = []
    await Promise.all(
      Array.from({ length: 6 }, async () => {
        for (let round = 0; round < 3; round++) answers.push(await sendBig(p, chunked))
      }),
    )
    expect(answers.filter((r) => !/^HTTP\/1\.1 413 /.test(r))).toEqual([])
    expect(answers).toHaveLength(18)
  })

  test('and it still serves', serves)
})

describe('slowloris and 1,000 concurrent connections', () => {
  test('200 slowloris clients, 1,000 open connections and 600 concurrent creations at once: every creation answered and durable', async () => {
    // Slowloris: headers one byte at a time, every 300 ms.
    const slow = []
    for (let i = 0; i < 200; i++) {
      const s = net.connect(port(), '127.0.0.1')
      s.on('error', () => {})
      s.closedAt = null
      s.on('close', () => {
        s.closedAt = Date.now()
      })
      s.on('connect', () => {
        s.write('POST /admin HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ')
        s.timer = setInterval(() => !s.destroyed && s.write('a'), 300)
      })
      slow.push(s)
    }
    const slowStart = Date.now()
    // 1,000 connections, each with a complete request, all open at once.
    const many = await Promise.all(
      Array.from(
        { length: 1000 },
        () =>
          new Promise((resolve) => {
            const s = net.connect(port(), '127.0.0.1')
            let got = ''
            s.on('error', (e) => resolve({ s, got, error: e.code }))
            s.on('data', (c) => {
              got += c.toString('latin1')
              if (/\r\n\r\n[\s\S]*emulator/.test(got)) resolve({ s, got })
            })
            s.on('connect', () => s.write('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n'))
          }),
      ),
    )
    expect(many.filter((m) => !/^HTTP\/1\.1 200 /.test(m.got)).map((m) => m.error || m.got.slice(0, 40))).toEqual([])
    // While all of that is open: creations in every mode.
    const results = await create(600, 'busy')
    expect(results.filter((r) => r.errCode !== 0).map((r) => r.message)).toEqual([])
    for (const m of many) m.s.destroy()

    // The slowloris connections are cut off by the header timeout (10 s).
    // The wait ends as soon as they are; its end only catches a server that
    // never cuts them, so it is far past 10 s (a loaded machine fires the
    // timer late) and within the test's 90 s.
    const deadline = slowStart + 45000
    while (slow.some((s) => s.closedAt === null) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200))
    for (const s of slow) clearInterval(s.timer)
    const open = slow.filter((s) => s.closedAt === null).length
    for (const s of slow) s.destroy()
    expect(open).toBe(0)
    await serves()
  })

  test('every acknowledged environment is in the state, in the data file, and survives a restart', async () => {
    expect(acknowledged.size).toBeGreaterThan(600)
    const inState = new Set(emu.environments().map((e) => e.env))
    const onDisk = new Set(JSON.parse(fs.readFileSync(dataFile, 'utf8')).environments.map((e) => e.env))
    for (const id of acknowledged) {
      expect(inState.has(id)).toBe(true)
      expect(onDisk.has(id)).toBe(true)
    }
    await emu.close()
    emu = await sdk.startEmulator({ dataFile })
    const reloaded = new Set(emu.environments().map((e) => e.env))
    for (const id of acknowledged) expect(reloaded.has(id)).toBe(true)
    await serves()
  })
})

test('no secret in the errors and answers this suite saw', () => {
  expect(leaks.find()).toEqual([])
})
