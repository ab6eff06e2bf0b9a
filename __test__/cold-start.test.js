'use strict'
// What a cold start loads. A cloud function pays for every Node module the
// package pulls in on its first invocation: `crypto` alone initialises
// OpenSSL (~3 ms, half our cold start, bench/RESULTS.md), `http`, `stream`
// and `child_process` a little each. `require` + `init` + one call need none
// of them (the calls go through the addon), so none may be loaded. Checked
// from the module list of a fresh process rather than timed: the list is
// the same on a busy machine.

const path = require('path')
const { execFileSync } = require('child_process')
const cloud = require('../index.js')

const ROOT = path.join(__dirname, '..')

// The Node modules a cold start must not load, and why each would be there.
const HEAVY = ['crypto', 'http', 'https', 'net', 'stream', 'child_process', 'zlib', 'worker_threads']

let emulator
beforeAll(async () => {
  emulator = await cloud.startEmulator()
})
afterAll(() => emulator?.close())

test('require + init + one cloud call load no crypto, http, stream or child_process', () => {
  // The child writes with fs.writeSync: console.log would itself load the
  // stream modules (process.stdout is created on first use).
  const child = `
    const before = new Set(process.moduleLoadList)
    const cloud = require(${JSON.stringify(ROOT)})
    cloud.init({ env: cloud.DYNAMIC_CURRENT_ENV })
    cloud.openapi.tcb.createenvandresource({ type: 'CreatePostpayPackage', alias: 'cold' }).then((r) => {
      const loaded = process.moduleLoadList.filter((m) => !before.has(m))
      require('fs').writeSync(1, JSON.stringify({ envid: r.envid, loaded }))
    }, (e) => { require('fs').writeSync(1, JSON.stringify({ error: e.message })) })
  `
  const out = JSON.parse(execFileSync(process.execPath, ['-e', child], { env: { ...emulator.cloudEnv(), PATH: process.env.PATH }, encoding: 'utf8' }))
  expect(out.error).toBeUndefined()
  expect(out.envid).toMatch(/^cold-/)
  const natives = out.loaded.filter((m) => m.startsWith('NativeModule ')).map((m) => m.slice('NativeModule '.length))
  expect(natives.filter((m) => HEAVY.includes(m))).toEqual([])
})
