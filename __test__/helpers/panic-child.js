'use strict'
// Run by panic.test.js in a child process, so that the deliberate panics'
// lines (the panic hook writes to stderr) are read by the test, not left in
// the log of a passing run. Prints one JSON line: what each kind of panic
// gave back, and whether normal calls went on after them.

const path = require('path')
const root = path.join(__dirname, '..', '..')
const sdk = require(path.join(root, 'index.js'))
const binding = require(path.join(root, 'binding.js'))

async function normalCall(emu, alias) {
  const cloud = new sdk.Cloud()
  cloud.init({ processEnv: emu.cloudEnv(), timeout: 5000 })
  return (await cloud.openapi.tcb.createenvandresource({ type: 'CreatePostpayPackage', alias })).errCode
}

async function main() {
  const emu = await sdk.startEmulator()
  try {
    const outcomes = await Promise.all(Array.from({ length: 100 }, () => binding.__panicForTest()))
    const afterAsync = await normalCall(emu, 'afterpanic')
    const thrown = []
    for (let i = 0; i < 100; i++) {
      try {
        binding.__syncPanicForTest()
        thrown.push(null)
      } catch (e) {
        thrown.push({ isError: Object.prototype.toString.call(e) === '[object Error]', message: e.message })
      }
    }
    const afterSync = await normalCall(emu, 'aftersyncpanic')
    process.stdout.write(`${JSON.stringify({ outcomes, afterAsync, thrown, afterSync })}\n`)
  } finally {
    await emu.close()
  }
}

main().catch((e) => {
  process.stdout.write(`${JSON.stringify({ failed: String((e && e.stack) || e) })}\n`)
})
