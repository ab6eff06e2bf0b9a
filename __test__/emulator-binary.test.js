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

/** Run `cmd args` until it printed its banner (the WX_API_BASE_URL line), then stop it; its stdout with the port as PORT, and its stderr. */
function banner(cmd, args, env) {
  const { spawn } = require('child_process')
  const child = spawn(cmd, args, { cwd: ROOT, env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  let err = ''
  child.stderr.on('data', (c) => (err += c))
  return new Promise((resolve, reject) => {
    child.stdout.on('data', (c) => {
      out += c
      if (/^export WX_API_BASE_URL=.*\n/m.test(out)) child.kill('SIGTERM')
    })
    child.once('exit', (code) => {
      if (!/^export WX_API_BASE_URL=/m.test(out)) return reject(new Error(`exited ${code} before its banner: ${err}`))
      resolve({ stdout: out.replace(/127\.0\.0\.1:\d+/g, '127.0.0.1:PORT'), stderr: err })
    })
  })
}

test(
  'the binary and `wx-cloud-openapi emulator` print the same banner, warning and usage errors (one parser, one banner: the crate)',
  async () => {
    const args = [
      '--host=localhost',
      '--port',
      '0',
      '--secret-id',
      'AKIDparity',
      '--appid',
      'wxparity',
      '--component-appid',
      'wxparitycomp',
      '--component-appsecret',
      'HUSH-comp',
      '--authorizer',
      'wxa:HUSH-r1',
      '--authorizer=wxb:HUSH-r2',
      '--token-lifetime',
      '0',
      '--rotate-refresh-tokens',
      '--component-event-url',
      'http://u:HUSH-pw@127.0.0.1:9/e',
      '--ticket-interval-ms',
      '0',
    ]
    const env = {
      WX_EMULATOR_SECRET_KEY: 'HUSH-key',
      WX_EMULATOR_APP_SECRET: 'HUSH-app',
      WX_EMULATOR_COMPONENT_TOKEN: 'HUSH-token',
      WX_EMULATOR_COMPONENT_ENCODING_AES_KEY: 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG',
    }
    const cargo = ['run', '-q', '-p', 'wx-cloud-emulator', '--']
    const node = await banner(process.execPath, [path.join(ROOT, 'cli.js'), 'emulator', ...args], env)
    const rust = await banner('cargo', [...cargo, ...args], env)
    expect(node.stdout).toContain('# tokens: lifetime 0 s, grace 300 s; refresh tokens rotate on every renewal')
    expect(node.stdout).toContain('export TENCENTCLOUD_SECRETKEY="$WX_EMULATOR_SECRET_KEY"')
    expect(node.stdout).not.toContain('HUSH')
    expect(rust.stdout).toEqual(node.stdout)
    const usage = [
      // Not a usage error: the warning, then no address to listen on (exit 3).
      [['--host', '192.0.2.1'], {}, 3],
      [['--authorizer', 'HUSH'], {}],
      [['--port', '65536'], {}],
      [['--ticket-interval-ms', '5'], {}],
      [['--component-token', 'x'], { WX_EMULATOR_COMPONENT_TOKEN: 'HUSH' }],
      [['--rotate-refresh-tokens=yes'], {}],
    ]
    for (const [extra, vars, code = 2] of usage) {
      const run = (cmd, a) =>
        spawnSync(cmd, [...a, ...extra], {
          cwd: ROOT,
          encoding: 'utf8',
          env: { PATH: process.env.PATH, HOME: process.env.HOME, ...vars },
          timeout: CARGO_TIMEOUT_MS,
        })
      const n = run(process.execPath, [path.join(ROOT, 'cli.js'), 'emulator'])
      const r = run('cargo', cargo)
      expect({ extra, status: [n.status, r.status] }).toEqual({ extra, status: [code, code] })
      const message = (stderr, name) => stderr.split('\n')[0].replace(`${name}: `, '')
      expect(message(n.stderr, 'wx-cloud-openapi emulator')).toEqual(message(r.stderr, 'wx-cloud-emulator'))
      expect(message(n.stderr, 'wx-cloud-openapi emulator')).toMatch(code === 2 ? /^--[a-z-]+ / : /^warning: --host 192\.0\.2\.1 is not a loopback address/)
      expect(n.stderr + r.stderr).not.toContain('HUSH')
    }
  },
  CARGO_TIMEOUT_MS + 30_000,
)
