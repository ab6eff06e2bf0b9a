'use strict'

// A panic inside the Rust core rejects the call (async) or throws (sync);
// the process lives on and serves normal calls. And nobody may ever set
// `panic = "abort"`, which would turn any such panic into a dead process.

const fs = require('fs')
const path = require('path')

jest.setTimeout(30000)

const unhandled = []
const onUnhandled = (e) => unhandled.push(e)
beforeAll(() => {
  hostProcess.on('unhandledRejection', onUnhandled)
  hostProcess.on('uncaughtException', onUnhandled)
})
afterAll(() => {
  hostProcess.off('unhandledRejection', onUnhandled)
  hostProcess.off('uncaughtException', onUnhandled)
})

// The deliberate panics run in a child process (helpers/panic-child.js):
// each prints the panic hook's line, which the test reads here rather than
// leaving 200 of them in the log of a passing run.
let child
beforeAll(() => {
  const { spawnSync } = require('child_process')
  const r = spawnSync(process.execPath, [path.join(__dirname, 'helpers', 'panic-child.js')], { encoding: 'utf8', timeout: 60000 })
  child = { status: r.status, stderr: r.stderr, result: JSON.parse(r.stdout.trim().split('\n').pop() || '{}') }
})

const panicLines = () => child.stderr.split('\n').filter((l) => l.includes('internal error (panic)'))

test('an async panic in the core settles the promise as a failure, 100 times, and normal calls go on', () => {
  expect(child.result.failed).toBeUndefined()
  const { outcomes, afterAsync } = child.result
  expect(outcomes).toHaveLength(100)
  for (const o of outcomes) {
    expect(o.ok).toBe(false)
    expect(o.errCode).toBe(-601001)
    expect(o.errMsg).toBe('openapi.test.panic:fail internal error in wx-cloud-openapi (a bug: please report it)')
    // the panic payload ("deliberate test panic") never reaches the caller
    expect(o.message).not.toContain('deliberate')
  }
  expect(afterAsync).toBe(0)
})

test('a synchronous panic throws a JavaScript error (not an abort), 100 times', () => {
  const { thrown, afterSync } = child.result
  expect(thrown).toHaveLength(100)
  for (const t of thrown) {
    expect(t).not.toBeNull()
    expect(t.isError).toBe(true)
    expect(t.message).toMatch(/panic/i)
  }
  expect(afterSync).toBe(0)
  expect(child.status).toBe(0)
})

test('each panic prints one line naming where it happened, never its payload', () => {
  // 100 async and 100 synchronous panics.
  expect(panicLines()).toHaveLength(200)
  for (const line of panicLines()) {
    expect(line).toMatch(/^\[wx-cloud-openapi\] internal error \(panic\) at src\/binding\/mod\.rs:\d+; the call was rejected$/)
  }
  expect(child.stderr).not.toContain('deliberate')
})

test('in a child process with no handlers at all, a panic does not kill the process', () => {
  const { spawnSync } = require('child_process')
  const script = `
    const b = require(${JSON.stringify(path.join(__dirname, '..', 'binding.js'))})
    try { b.__syncPanicForTest() } catch (e) { console.log('sync:' + (e instanceof Error)) }
    b.__panicForTest().then((o) => console.log('async:' + o.ok + ':' + o.errCode))
  `
  const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 20000 })
  expect(r.status).toBe(0)
  expect(r.stdout.trim().split('\n')).toEqual(['sync:true', 'async:false:-601001'])
  // the panic hook names the place, never the payload
  expect(r.stderr).toMatch(/\[wx-cloud-openapi\] internal error \(panic\) at src\/binding\/mod\.rs:\d+; the call was rejected/)
  expect(r.stderr).not.toContain('deliberate')
})

test('terminating worker threads with calls and callbacks in flight does not crash the process', () => {
  const { spawnSync } = require('child_process')
  const r = spawnSync(process.execPath, [path.join(__dirname, 'helpers', 'worker-teardown.js')], { encoding: 'utf8', timeout: 60000 })
  expect({ status: r.status, signal: r.signal, stdout: r.stdout.trim() }).toEqual({ status: 0, signal: null, stdout: 'alive' })
})

test('no Cargo profile sets panic = "abort" (a panic must unwind to the napi boundary)', () => {
  const toml = fs.readFileSync(path.join(__dirname, '..', 'Cargo.toml'), 'utf8')
  // any `panic = "abort"` (or 'abort'), in any profile or table, with any spacing
  expect(toml).not.toMatch(/^\s*panic\s*=\s*["']abort["']/m)
  // and no config file or environment that would do the same for this build
  const config = path.join(__dirname, '..', '.cargo', 'config.toml')
  if (fs.existsSync(config)) expect(fs.readFileSync(config, 'utf8')).not.toMatch(/panic\s*=\s*["']abort["']|-C\s*panic=abort/)
  expect(process.env.RUSTFLAGS || '').not.toMatch(/panic=abort/)
})

test('nothing unhandled', () => {
  expect(unhandled).toEqual([])
})
