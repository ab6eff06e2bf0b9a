'use strict'
// How call promises are settled (src/binding/promise.rs): one threadsafe
// function per JavaScript thread, referenced only while calls are pending,
// and outcomes that a runtime worker finishes before it parks cross in one
// batch. These prove what that must not break: a pending call keeps the
// process alive and an idle one lets it exit; worker threads get their own; a
// worker ending with calls in flight neither crashes the process nor disturbs
// the main thread's calls; batches are formed and capped.

const { spawn } = require('child_process')
const path = require('path')
const { Worker } = require('worker_threads')
const sdk = require('../index.js')
const { modeOptions } = require('./helpers/emu-modes.js')

const ROOT = path.join(__dirname, '..')
const PARAMS = { type: 'CreatePostpayPackage', alias: 'promise' }

let emu
beforeAll(async () => {
  emu = await sdk.startEmulator()
})
afterAll(() => emu.close())

/** Run `code` in a fresh node process (killed after 10 s); resolves {code, stdout, stderr, ms}. */
function node(code, env = {}) {
  return new Promise((resolve) => {
    const t0 = Date.now()
    const child = spawn(process.execPath, ['-e', code], { cwd: ROOT, env: { ...process.env, ...env }, timeout: 10000 })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    child.on('close', (code) => resolve({ code, stdout, stderr, ms: Date.now() - t0 }))
  })
}

test('a call in flight keeps the process alive; once settled, the process exits by itself', async () => {
  // The only thing keeping the child's event loop busy is the pending call
  // (the emulator delays it 400 ms); then nothing should hold the loop.
  emu.injectFault({ api: 'tcb.createenvandresource', kind: 'delay', delayMs: 400, times: 1 })
  const r = await node(
    `const cloud = require('./index.js')
     cloud.init(${JSON.stringify(modeOptions('cloud', emu))})
     cloud.openapi.tcb.createenvandresource(${JSON.stringify(PARAMS)})
       .then((res) => console.log('settled', res.errCode, res.envid))`,
  )
  expect(r.stderr).toBe('')
  expect(r.code).toBe(0)
  expect(r.stdout).toMatch(/^settled 0 promise-[a-z0-9]{6}\n$/)
  expect(r.ms).toBeGreaterThanOrEqual(400)
})

test('outcomes finished together cross in one batch each of at most 64, and every promise gets its own', async () => {
  // The hook finishes n outcomes in one task on the runtime, so the worker
  // parks (and sends) only after all of them: n outcomes must cross in
  // exactly ceil(n / 64) batches (64 = BATCH_MAX, the cap that keeps a worker
  // that never parks settling as it goes). Own process: nothing else settles.
  const r = await node(
    `const b = require('./binding.js')
     const before = b.__settleStatsForTest()
     Promise.all(b.__finishedTogetherForTest(150)).then((values) => {
       const after = b.__settleStatsForTest()
       console.log(JSON.stringify({ values, batches: after[0] - before[0], settled: after[1] - before[1] }))
     })`,
  )
  expect(r.stderr).toBe('')
  const out = JSON.parse(r.stdout)
  expect(out.values).toEqual(Array.from({ length: 150 }, (_, i) => String(i)))
  expect(out.settled).toBe(150)
  expect(out.batches).toBe(3)
})

test('a lone call is sent when its worker parks, without waiting for others', async () => {
  // Three calls one after another: each is the only one in flight, so its
  // worker has nothing else to do and must send it on parking. Were outcomes
  // held for a fuller batch, the first call would never settle (the child is
  // killed after 10 s and prints nothing).
  const r = await node(
    `const cloud = require('./index.js')
     const b = require('./binding.js')
     cloud.init(${JSON.stringify(modeOptions('cloud', emu))})
     ;(async () => {
       const before = b.__settleStatsForTest()
       const codes = []
       for (let i = 0; i < 3; i++) codes.push((await cloud.openapi.tcb.createenvandresource(${JSON.stringify(PARAMS)})).errCode)
       const after = b.__settleStatsForTest()
       console.log(JSON.stringify({ codes, batches: after[0] - before[0], settled: after[1] - before[1] }))
     })()`,
  )
  expect(r.stderr).toBe('')
  expect(JSON.parse(r.stdout)).toEqual({ codes: [0, 0, 0], batches: 3, settled: 3 })
})

test('calls from worker threads resolve in each worker, alongside the main thread', async () => {
  const code = `
    const { parentPort, workerData } = require('worker_threads')
    const cloud = require(${JSON.stringify(path.join(ROOT, 'index.js'))})
    cloud.init(workerData.options)
    Promise.all(Array.from({ length: 50 }, (_, i) =>
      cloud.openapi.tcb.createenvandresource({ type: 'CreatePostpayPackage', alias: 'w' + workerData.n + 'x' + i })))
      .then((rs) => parentPort.postMessage(rs.map((r) => r.envid)))`
  const workers = [0, 1, 2].map((n) => new Worker(code, { eval: true, workerData: { n, options: modeOptions('cloud', emu) } }))
  sdk.init(modeOptions('cloud', emu))
  const [main, ...fromWorkers] = await Promise.all([
    Promise.all(Array.from({ length: 50 }, (_, i) => sdk.openapi.tcb.createenvandresource({ type: 'CreatePostpayPackage', alias: `m${i}` }))),
    ...workers.map((w) => new Promise((resolve, reject) => w.once('message', resolve).once('error', reject))),
  ])
  await Promise.all(workers.map((w) => w.terminate()))
  expect(main.map((r) => r.envid.replace(/-[a-z0-9]{6}$/, ''))).toEqual(Array.from({ length: 50 }, (_, i) => `m${i}`))
  fromWorkers.forEach((ids, n) => {
    expect(ids.map((id) => id.replace(/-[a-z0-9]{6}$/, ''))).toEqual(Array.from({ length: 50 }, (_, i) => `w${n}x${i}`))
  })
})

test('a worker that ends with calls in flight: no crash, and the main thread calls on', async () => {
  emu.injectFault({ api: 'tcb.createenvandresource', kind: 'delay', delayMs: 300, times: 20 })
  const code = `
    const { parentPort, workerData } = require('worker_threads')
    const cloud = require(${JSON.stringify(path.join(ROOT, 'index.js'))})
    cloud.init(workerData.options)
    for (let i = 0; i < 20; i++) cloud.openapi.tcb.createenvandresource({ type: 'CreatePostpayPackage', alias: 'gone' })
    parentPort.postMessage('sent')`
  const w = new Worker(code, { eval: true, workerData: { options: modeOptions('cloud', emu) } })
  await new Promise((resolve, reject) => w.once('message', resolve).once('error', reject))
  await w.terminate()
  // The 20 answers arrive after the worker is gone; then the main thread's calls.
  await new Promise((r) => setTimeout(r, 500))
  sdk.init(modeOptions('cloud', emu))
  const after = await Promise.all(Array.from({ length: 10 }, () => sdk.openapi.tcb.createenvandresource(PARAMS)))
  expect(after.map((r) => r.errCode)).toEqual(Array(10).fill(0))
})

// Thread names are read from /proc, which only Linux has.
const onLinux = process.platform === 'linux' ? test : test.skip

onLinux('calls run on one runtime: one worker thread per spare core, at most two, shared by worker threads', async () => {
  // src/binding/runtime.rs: `available cores − 1`, at least 1 and at most 2,
  // created once per process even when worker threads load the addon too.
  const r = await node(
    `const fs = require('fs')
     const os = require('os')
     const { Worker } = require('worker_threads')
     const cloud = require('./index.js')
     const options = ${JSON.stringify(modeOptions('cloud', emu))}
     cloud.init(options)
     const worker = new Worker(\`
       const { parentPort, workerData } = require('worker_threads')
       const cloud = require(\${JSON.stringify(require.resolve('./index.js'))})
       cloud.init(workerData)
       cloud.openapi.tcb.createenvandresource({ type: 'CreatePostpayPackage', alias: 'rtw' })
         .then((res) => parentPort.postMessage(res.errCode))\`, { eval: true, workerData: options })
     Promise.all([
       cloud.openapi.tcb.createenvandresource(${JSON.stringify(PARAMS)}).then((res) => res.errCode),
       new Promise((resolve) => worker.once('message', resolve)),
     ]).then(async (codes) => {
       const names = fs.readdirSync('/proc/self/task').map((t) => fs.readFileSync('/proc/self/task/' + t + '/comm', 'utf8').trim())
       await worker.terminate()
       console.log(JSON.stringify({ codes, cores: os.availableParallelism(), runtime: names.filter((n) => n.startsWith('wx-cloud-openap')).length }))
     })`,
  )
  expect(r.stderr).toBe('')
  const out = JSON.parse(r.stdout)
  expect(out.codes).toEqual([0, 0])
  expect(out.runtime).toBe(Math.min(Math.max(out.cores - 1, 1), 2))
})
