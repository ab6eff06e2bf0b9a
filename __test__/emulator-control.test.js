'use strict'
// The emulator as a test double for any language: a Python test (standard
// library only, __test__/helpers/emulator_control.py) starts the
// `wx-cloud-emulator` program and drives it through its control API
// (`/__emulator/*`: authorize, revoke, push-ticket, faults, environments,
// stats) while a Python platform server receives the pushed events. The
// routes themselves are tested in crates/emulator/tests/control.rs.

const path = require('path')
const { spawnSync } = require('child_process')

const ROOT = path.join(__dirname, '..')
// Time to compile the binary from scratch on a loaded 2-core machine.
const CARGO_TIMEOUT_MS = 600_000

test(
  'a Python test drives the wx-cloud-emulator program through the control API',
  () => {
    const build = spawnSync('cargo', ['build', '-q', '-p', 'wx-cloud-emulator'], { cwd: ROOT, encoding: 'utf8', timeout: CARGO_TIMEOUT_MS })
    expect({ status: build.status, stderr: build.stderr }).toEqual({ status: 0, stderr: '' })
    const script = path.join(__dirname, 'helpers', 'emulator_control.py')
    const r = spawnSync('python3', [script, 'cargo', 'run', '-q', '-p', 'wx-cloud-emulator', '--'], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 120_000,
    })
    expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' })
    expect(r.stdout).toBe('ok: authorize, revoke, push-ticket, faults, environments, stats\n')
  },
  CARGO_TIMEOUT_MS + 150_000,
)
