'use strict'
// examples/: the Node program and the Rust program each create an
// environment against the emulator they start, and print the result.
// The Rust one is built by cargo here (a no-op after `cargo test
// --workspace`, which builds the examples).

const path = require('path')
const { spawnSync } = require('child_process')

const ROOT = path.join(__dirname, '..')
// Time to compile the Rust example from scratch on a loaded 2-core machine;
// jest's timeout, not an assertion about speed.
const CARGO_TIMEOUT_MS = 600_000

/** The one JSON line a program printed, parsed. */
function result(r) {
  expect(r.error).toBeUndefined()
  expect({ status: r.status, stderr: r.status === 0 ? '' : r.stderr }).toEqual({ status: 0, stderr: '' })
  const lines = r.stdout.trim().split('\n')
  expect(lines).toHaveLength(1)
  return JSON.parse(lines[0])
}

function expectCreated(res) {
  expect(res).toEqual({ envid: expect.stringMatching(/^example-[a-z0-9]{6}$/), errMsg: 'openapi.tcb.createenvandresource:ok', errCode: 0 })
}

test('examples/create-env.js creates an environment against the emulator', () => {
  const r = spawnSync(process.execPath, [path.join(ROOT, 'examples', 'create-env.js')], { cwd: ROOT, encoding: 'utf8' })
  expectCreated(result(r))
})

test(
  'examples/create_env.rs creates an environment against the emulator',
  () => {
    const r = spawnSync('cargo', ['run', '-q', '-p', 'wx-cloud-core', '--example', 'create_env'], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: CARGO_TIMEOUT_MS,
    })
    expectCreated(result(r))
  },
  CARGO_TIMEOUT_MS + 10_000,
)
