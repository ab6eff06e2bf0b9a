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

test('what process.env holds reaches the request itself (TCB_SEQID prefixes the seqId)', async () => {
  Object.assign(process.env, emu.cloudEnv(), { TCB_CONTEXT_KEYS: 'TCB_ENV,TCB_SEQID', TCB_SEQID: 'seq-from-js' })
  const lines = []
  const spy = jest.spyOn(console, 'error').mockImplementation((l) => lines.push(String(l)))
  try {
    const c = new cloud.Cloud()
    c.init({ debug: true })
    await c.openapi.tcb.createenvandresource({ type: 'CreatePostpayPackage', alias: 'seq' })
  } finally {
    spy.mockRestore()
    delete process.env.TCB_SEQID
  }
  expect(lines).toHaveLength(1)
  expect(lines[0]).toMatch(/ seqId=seq-from-js-[0-9a-f]+_[0-9a-f]+ /)
})

test('a new value of a variable that was already set counts on the next call (same variables, one value changed)', async () => {
  Object.assign(process.env, emu.cloudEnv(), { TCB_CONTEXT_KEYS: 'TCB_ENV,TCB_SEQID', TCB_SEQID: 'seq-one' })
  const lines = []
  const spy = jest.spyOn(console, 'error').mockImplementation((l) => lines.push(String(l)))
  try {
    const c = new cloud.Cloud()
    c.init({ debug: true })
    await c.openapi.tcb.createenvandresource({ type: 'CreatePostpayPackage', alias: 'seq' })
    process.env.TCB_SEQID = 'seq-two'
    await c.openapi.tcb.createenvandresource({ type: 'CreatePostpayPackage', alias: 'seq' })
    // Back to the first value: differs from the previous call's again.
    process.env.TCB_SEQID = 'seq-one'
    await c.openapi.tcb.createenvandresource({ type: 'CreatePostpayPackage', alias: 'seq' })
  } finally {
    spy.mockRestore()
    delete process.env.TCB_SEQID
  }
  expect(lines).toHaveLength(3)
  expect(lines.map((l) => / seqId=(seq-[a-z]+)-/.exec(l)?.[1])).toEqual(['seq-one', 'seq-two', 'seq-one'])
})
