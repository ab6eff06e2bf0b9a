'use strict'
// A plain Node process (not a jest sandbox), started with an emulator's
// cloud environment and TCB_CONTEXT_KEYS=TCB_ENV,TCB_SEQID: here
// `process.env` is Node's own object, which the core reads from the
// process's environment (index.js, nodesOwnEnv). Each step changes
// `process.env` as a function's code would, makes a call with
// `debug: true`, and records the seqId prefix the debug line shows (the
// TCB_SEQID the call read), or the errCode, and whether the core read the
// environment itself. Prints the steps as one JSON line; `expected` is
// what they must be. Runs on Node 12.16 too (the runtime suite): no `?.`.
const { Worker } = require('worker_threads')

/** What main() prints. */
const expected = [
  { name: 'set', outcome: 'seq-one', readEnviron: true },
  { name: 'changed', outcome: 'seq-two', readEnviron: true },
  // No credentials left: nothing usable (-501006), as when JavaScript's copy loses them.
  { name: 'deleted', outcome: -501006, readEnviron: true },
  { name: 'restored', outcome: 'seq-two', readEnviron: true },
  { name: 'replaced', outcome: 'seq-copy', readEnviron: false },
  { name: 'own again', outcome: 'seq-back', readEnviron: true },
  { name: 'worker', outcome: 'seq-worker' },
]

const lines = []
let c

/** The TCB_SEQID prefix of the seqId in the debug lines. */
function seqId(text) {
  const m = / seqId=(seq-[a-z]+)-/.exec(text)
  return m ? m[1] : undefined
}

async function step(name) {
  lines.length = 0
  let outcome
  try {
    await c.openapi.tcb.createenvandresource({ type: 'CreatePostpayPackage', alias: 'child' })
    outcome = seqId(lines.join('\n'))
  } catch (e) {
    outcome = e.errCode
  }
  return { name, outcome, readEnviron: c._sent.readEnviron }
}

/** A call in a worker thread whose `process.env` is its own copy, with TCB_SEQID=seq-worker. */
function inWorker() {
  const code = `
    const { parentPort } = require('worker_threads')
    const cloud = require(${JSON.stringify(require.resolve('../..'))})
    const lines = []
    console.error = (line) => lines.push(String(line))
    cloud.init({ debug: true })
    cloud.openapi.tcb.createenvandresource({ type: 'CreatePostpayPackage', alias: 'worker' }).then(
      () => parentPort.postMessage((/ seqId=(seq-[a-z]+)-/.exec(lines.join('\\n')) || [])[1]),
      (e) => parentPort.postMessage(e.errCode),
    )`
  const w = new Worker(code, { eval: true, env: { ...process.env, TCB_SEQID: 'seq-worker' } })
  return new Promise((resolve, reject) => {
    w.once('message', (m) => resolve({ name: 'worker', outcome: m }))
    w.once('error', reject)
  }).finally(() => w.terminate())
}

async function main() {
  console.error = (line) => lines.push(String(line))
  const cloud = require('../..')
  c = new cloud.Cloud()
  c.init({ debug: true })
  const steps = []
  process.env.TCB_SEQID = 'seq-one'
  steps.push(await step('set'))
  process.env.TCB_SEQID = 'seq-two'
  steps.push(await step('changed'))
  const { TENCENTCLOUD_SECRETID: id, TENCENTCLOUD_SECRETKEY: key } = process.env
  delete process.env.TENCENTCLOUD_SECRETID
  delete process.env.TENCENTCLOUD_SECRETKEY
  steps.push(await step('deleted'))
  Object.assign(process.env, { TENCENTCLOUD_SECRETID: id, TENCENTCLOUD_SECRETKEY: key })
  steps.push(await step('restored'))
  const own = process.env
  process.env = { ...own, TCB_SEQID: 'seq-copy' }
  steps.push(await step('replaced'))
  process.env = own
  process.env.TCB_SEQID = 'seq-back'
  steps.push(await step('own again'))
  steps.push(await inWorker())
  process.stdout.write(`${JSON.stringify(steps)}\n`)
}

/**
 * Run this file with `command` (Node: `[program, ...args]`) and the
 * emulator's `cloudEnv` (TCB_SEQID among the context keys); resolves with
 * the steps it printed. Asynchronous: the emulator answering the child
 * runs in the caller's process.
 */
function runChild(command, cloudEnv) {
  const { execFile } = require('child_process')
  const [program, ...args] = command
  const env = { PATH: process.env.PATH, ...cloudEnv, TCB_CONTEXT_KEYS: 'TCB_ENV,TCB_SEQID' }
  return new Promise((resolve, reject) => {
    execFile(program, [...args, __filename], { env, timeout: 60000 }, (e, out, err) =>
      e ? reject(new Error(`${e.message}\n${err}`)) : resolve(JSON.parse(out)),
    )
  })
}

module.exports = { expected, runChild }

if (require.main === module) {
  main().catch((e) => {
    process.stderr.write(`${(e && e.stack) || e}\n`)
    process.exit(1)
  })
}
