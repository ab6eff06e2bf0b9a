'use strict'
// Load: 10,000 cloud calls at concurrency 64 through our SDK against the
// emulator (signature checked on every call). Every call must be answered,
// and every environment created exactly once.

const cloud = require('../index.js')

const CALLS = 10000
const CONCURRENCY = 64

let emulator
beforeAll(async () => {
  emulator = await cloud.startEmulator()
})
afterAll(() => emulator?.close())

test(`${CALLS} calls at concurrency ${CONCURRENCY}: all answered, each environment created once`, async () => {
  const c = new cloud.Cloud()
  c.init({ env: cloud.DYNAMIC_CURRENT_ENV, processEnv: emulator.cloudEnv() })
  const results = new Array(CALLS)
  let next = 0
  async function worker() {
    while (next < CALLS) {
      const i = next++
      results[i] = await c.openapi.tcb.createenvandresource({ type: 'CreatePostpayPackage', alias: `load-${i}` }).then(
        (r) => ({ ok: true, r }),
        (e) => ({ ok: false, e }),
      )
    }
  }
  await Promise.all(Array.from({ length: CONCURRENCY }, worker))

  const failures = results.filter((x) => !x.ok)
  expect(failures.map((f) => f.e.errMsg).slice(0, 3)).toEqual([])
  results.forEach((x, i) => {
    expect(x.r.errCode).toBe(0)
    expect(x.r.envid).toMatch(new RegExp(`^load-${i}-[a-z0-9]{6}$`))
  })
  const envs = emulator.environments()
  expect(envs).toHaveLength(CALLS)
  const byAlias = new Map()
  for (const e of envs) byAlias.set(e.alias, (byAlias.get(e.alias) || 0) + 1)
  expect(byAlias.size).toBe(CALLS)
  expect([...byAlias.values()].every((n) => n === 1)).toBe(true)
  expect(emulator.stats().calls['gateway:tcb.createenvandresource']).toBe(CALLS)
}, 120000)
