'use strict'
// Without `processEnv`, a call reads `process.env` as JavaScript sees it, as
// wx-server-sdk does: inside jest (which gives each test file its own copy
// of process.env, not the process's real environment) assigning the
// emulator's cloudEnv() to process.env points the code under test at it.

const cloud = require('..')

let emu
let saved
beforeAll(async () => {
  emu = await cloud.startEmulator()
  saved = { ...process.env }
})
afterAll(async () => {
  for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k]
  Object.assign(process.env, saved)
  await emu.close()
})

test('process.env assignments and deletions count, call by call', async () => {
  const c = new cloud.Cloud()
  c.init({ env: cloud.DYNAMIC_CURRENT_ENV })
  for (const k of Object.keys(emu.cloudEnv())) delete process.env[k]
  delete process.env.WX_APPID
  delete process.env.WX_APPSECRET
  await expect(c.openapi.tcb.createenvandresource({ type: 'CreatePostpayPackage', alias: 'pe' })).rejects.toMatchObject({ errCode: -501006 })
  expect(cloud.explainConfig({ env: cloud.DYNAMIC_CURRENT_ENV })).toMatchObject({ ok: false, mode: 'none' })

  Object.assign(process.env, emu.cloudEnv())
  const res = await c.openapi.tcb.createenvandresource({ type: 'CreatePostpayPackage', alias: 'pe' })
  expect(res.envid).toMatch(/^pe-[a-z0-9]{6}$/)
  expect(emu.environments().map((e) => e.env)).toContain(res.envid)
  expect(cloud.explainConfig({ env: cloud.DYNAMIC_CURRENT_ENV })).toMatchObject({ ok: true, mode: 'cloud' })

  // processEnv, when given, is read instead (process.env is not consulted)
  const isolated = new cloud.Cloud()
  isolated.init({ processEnv: {} })
  await expect(isolated.openapi.tcb.createenvandresource({ type: 'CreatePostpayPackage', alias: 'pe' })).rejects.toMatchObject({ errCode: -501006 })

  delete process.env.TENCENTCLOUD_SECRETKEY
  delete process.env.TENCENTCLOUD_SECRETID
  await expect(c.openapi.tcb.createenvandresource({ type: 'CreatePostpayPackage', alias: 'pe' })).rejects.toMatchObject({ errCode: -501006 })
})

/**
 * The debug lines of calls one client makes one after the other, with
 * `process.env.TCB_SEQID` set to each of `seqIds` before its call (the
 * emulator's cloud environment, TCB_SEQID among the context keys).
 */
async function debugLinesWithSeqIds(seqIds) {
  Object.assign(process.env, emu.cloudEnv(), { TCB_CONTEXT_KEYS: 'TCB_ENV,TCB_SEQID' })
  const lines = []
  const spy = jest.spyOn(console, 'error').mockImplementation((l) => lines.push(String(l)))
  try {
    const c = new cloud.Cloud()
    c.init({ debug: true })
    for (const seq of seqIds) {
      process.env.TCB_SEQID = seq
      await c.openapi.tcb.createenvandresource({ type: 'CreatePostpayPackage', alias: 'seq' })
    }
  } finally {
    spy.mockRestore()
    delete process.env.TCB_SEQID
  }
  return lines
}

test('what process.env holds reaches the request itself (TCB_SEQID prefixes the seqId)', async () => {
  const lines = await debugLinesWithSeqIds(['seq-from-js'])
  expect(lines).toHaveLength(1)
  expect(lines[0]).toMatch(/ seqId=seq-from-js-[0-9a-f]+_[0-9a-f]+ /)
})

test('a new value of a variable that was already set counts on the next call (same variables, one value changed)', async () => {
  // Back to the first value at the end: it differs from the previous call's again.
  const lines = await debugLinesWithSeqIds(['seq-one', 'seq-two', 'seq-one'])
  expect(lines).toHaveLength(3)
  expect(lines.map((l) => / seqId=(seq-[a-z]+)-/.exec(l)?.[1])).toEqual(['seq-one', 'seq-two', 'seq-one'])
})

test('inside jest, process.env is a copy: the call reads it in JavaScript, and asking leaves nothing on it', async () => {
  Object.assign(process.env, emu.cloudEnv())
  const symbols = Object.getOwnPropertySymbols(process.env)
  const c = new cloud.Cloud()
  c.init({ env: cloud.DYNAMIC_CURRENT_ENV })
  await c.openapi.tcb.createenvandresource({ type: 'CreatePostpayPackage', alias: 'pe' })
  expect(c._sent.readEnviron).toBe(false)
  // The probe defined on the copy (index.js, probeEnv) is gone again.
  expect(Object.getOwnPropertySymbols(process.env)).toEqual(symbols)
})

test("in a plain Node process the core reads Node's own process.env itself: writes and deletions count call by call, a replaced process.env and a worker thread's own are read as JavaScript sees them", async () => {
  const { expected, runChild } = require('./helpers/env-child.js')
  expect(await runChild([process.execPath], emu.cloudEnv())).toEqual(expected)
})
