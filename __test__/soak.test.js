'use strict'

// Soak: 200,000 calls (SOAK_CALLS to change) with mixed successes and
// faults, in all three modes, against the in-process emulator. Every call
// settles with an expected errCode; resident memory and open file
// descriptors, measured after the first 1,000 calls and at the end, stay
// flat (growth under 64 MB and 20 descriptors).

const fs = require('fs')
const sdk = require('../index.js')
const { MODES, modeClient } = require('./helpers/emu-modes')

const TOTAL = Number(process.env.SOAK_CALLS || 200000)
const BATCH = 1000
const CONCURRENCY = 64

jest.setTimeout(600000)


const fds = () => fs.readdirSync('/proc/self/fd').length
const rssMb = () => process.memoryUsage().rss / (1024 * 1024)

test(`soak: ${TOTAL} calls, mixed successes and faults; RSS and file descriptors stay flat`, async () => {
  const emu = await sdk.startEmulator()
  const clients = []
  for (const mode of MODES) clients.push(modeClient(mode, emu, { timeout: 2000 }, { ticket: 'ticket' }))
  // Faults on the read-only API, so that the emulator's state stays the
  // same size; seeded, so that runs repeat.
  const api = 'tcb.describeenvs'
  emu.injectFault({ api, kind: 'errcode', errcode: -1, probability: 0.05, seed: 1 })
  emu.injectFault({ api, kind: 'status', status: 503, probability: 0.03, seed: 2 })
  emu.injectFault({ api, kind: 'drop_before', probability: 0.02, seed: 3 })
  emu.injectFault({ api, kind: 'drop_after', probability: 0.01, seed: 4 })
  emu.injectFault({ api, kind: 'malformed', probability: 0.02, seed: 5 })
  emu.injectFault({ api, kind: 'truncated', probability: 0.01, seed: 6 })

  const EXPECTED = new Set([0, -1, -501001, -601001, -501007, 40097, 40101])
  const codes = new Map()
  let settled = 0
  let unexpected = []

  /** Call number i: mostly a read, sometimes bad input of several kinds. */
  function call(i) {
    const cloud = clients[i % 3]
    switch (i % 25) {
      case 0:
        return cloud.openapi.tcb.createenvandresource({ type: 'CreatePostpayPackage', alias: 'not valid!' }) // 40097
      case 1:
        return cloud.openapi.tcb.createenvandresource('not an object') // -501007
      case 2:
        return cloud.openapi.tcb.createenvandresource({}) // 40101
      default:
        return cloud.openapi.tcb.describeenvs({})
    }
  }

  async function batch(from, n) {
    let next = from
    const end = from + n
    async function worker() {
      while (next < end) {
        const i = next++
        let code
        try {
          const v = await call(i)
          code = v.errCode
        } catch (e) {
          code = e && e.errCode
          if (typeof (e && e.message) !== 'string') unexpected.push(String(e))
        }
        settled++
        codes.set(code, (codes.get(code) || 0) + 1)
        if (!EXPECTED.has(code) && unexpected.length < 5) unexpected.push(code)
      }
    }
    await Promise.all(Array.from({ length: CONCURRENCY }, worker))
  }

  const t0 = Date.now()
  await batch(0, BATCH)
  await new Promise((r) => setTimeout(r, 100))
  const first = { rss: rssMb(), fds: fds() }
  // The number of open descriptors moves with the connections pooled at the
  // moment (dropped connections are replaced, idle ones linger for 30 s):
  // the baseline is the highest count seen over the first 25,000 calls. A
  // leak grows with the number of calls; this churn does not.
  let baselineFds = first.fds
  const trend = [`${BATCH}:${first.rss.toFixed(0)}MB/${first.fds}fd`]
  for (let from = BATCH; from < TOTAL; from += BATCH) {
    await batch(from, Math.min(BATCH, TOTAL - from))
    if (from + BATCH <= 25 * BATCH) baselineFds = Math.max(baselineFds, fds())
    if ((from + BATCH) % 25000 === 0) trend.push(`${from + BATCH}:${rssMb().toFixed(0)}MB/${fds()}fd`)
  }
  await new Promise((r) => setTimeout(r, 100))
  const last = { rss: rssMb(), fds: fds() }
  const secs = (Date.now() - t0) / 1000
  await emu.close()

  const summary = [...codes.entries()].sort((a, b) => b[1] - a[1]).map(([c, n]) => `${c}:${n}`).join(' ')
  console.log(
    `soak: ${settled} calls settled in ${secs.toFixed(1)} s; errCodes ${summary}; ` +
      `RSS ${first.rss.toFixed(1)} MB at ${BATCH} calls, ${last.rss.toFixed(1)} MB at the end (${(last.rss - first.rss).toFixed(1)} MB); ` +
      `open fds ${first.fds} at ${BATCH} (at most ${baselineFds} up to ${25 * BATCH}), ${last.fds} at the end; trend ${trend.join(' ')}`,
  )
  expect(unexpected).toEqual([])
  expect(settled).toBe(TOTAL)
  // the mix really happened: successes and each kind of failure
  for (const c of EXPECTED) expect(codes.get(c) || 0).toBeGreaterThan(0)
  expect(last.rss - first.rss).toBeLessThan(64)
  expect(last.fds - baselineFds).toBeLessThan(20)
})
