'use strict'
// The emulator without Node: `wx-cloud-emulator` (crates/emulator) takes the
// same flags as `npx wx-cloud-openapi emulator`. Its own behaviour (curl
// creating an environment, exit codes, no Node on the path) is tested in
// crates/emulator/tests/binary.rs.

const path = require('path')
const { spawnSync } = require('child_process')

const ROOT = path.join(__dirname, '..')
// Time to compile the binary from scratch on a loaded 2-core machine.
const CARGO_TIMEOUT_MS = 600_000

/** The `--flags` an option list in a help text names (first column). */
const flags = (help) => [...help.matchAll(/^ {2}(?:-h, )?(--[a-z-]+)/gm)].map((m) => m[1]).sort()

test(
  'wx-cloud-emulator --help lists exactly the flags of `wx-cloud-openapi emulator --help`, with the same words',
  () => {
    const node = spawnSync(process.execPath, [path.join(ROOT, 'cli.js'), 'emulator', '--help'], { encoding: 'utf8' })
    const rust = spawnSync('cargo', ['run', '-q', '-p', 'wx-cloud-emulator', '--', '--help'], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: CARGO_TIMEOUT_MS,
    })
    expect([node.status, rust.status]).toEqual([0, 0])
    expect(flags(node.stdout)).toContain('--port')
    expect(flags(rust.stdout)).toEqual(flags(node.stdout))
    // Word for word, from after the usage line to the exit codes (where
    // only Node's can fail for a missing native addon): both print the
    // emulator crate's one description of its options.
    const body = (help) => help.slice(help.indexOf('\n'), help.indexOf('Exit codes:'))
    expect(body(node.stdout).length).toBeGreaterThan(1000)
    expect(body(rust.stdout)).toEqual(body(node.stdout))
  },
  CARGO_TIMEOUT_MS + 10_000,
)
