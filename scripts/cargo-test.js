'use strict'

// `cargo test --workspace` for the target triple that `napi build` always
// passes (`--target <host>`): built into the same target directory, the
// tests reuse the addon build's compiled dependencies instead of compiling
// the whole graph a second time (about a minute of CI on two cores, and
// half the disk). Extra arguments go to cargo.

const path = require('path')
const { execFileSync, spawnSync } = require('child_process')

const host = /^host: (.+)$/m.exec(execFileSync('rustc', ['-vV'], { encoding: 'utf8' }))
if (!host) {
  console.error('[cargo-test] `rustc -vV` printed no host triple')
  process.exit(1)
}
// The Rust token-store tests start a redis-server: the one npm test found
// or installed (scripts/need-redis.js), named the way the jest helper reads it.
const env = { ...process.env }
if (!env.WX_CLOUD_OPENAPI_REDIS_SERVER) {
  try {
    env.WX_CLOUD_OPENAPI_REDIS_SERVER = require('../__test__/helpers/redis.js').redisServerPath()
  } catch (_) {
    // none: those tests say what to install
  }
}
const r = spawnSync('cargo', ['test', '--workspace', '--target', host[1], ...process.argv.slice(2)], { stdio: 'inherit', env })
if (r.status !== 0) process.exit(r.status === null ? 1 : r.status)

// The vendored multer (vendor/multer/PATCH.md) is a workspace of its own,
// excluded from ours (its upstream code is not held to our lints), so
// `--workspace` does not run its tests: upstream's, and those of our patch
// (the delimiter's searches against a plain one). Its own lock file, its
// own target directory under ours.
const root = path.join(__dirname, '..')
const vendored = spawnSync(
  'cargo',
  ['test', '--manifest-path', path.join(root, 'vendor/multer/Cargo.toml'), '--all-features', '--locked', '--target', host[1]],
  { stdio: 'inherit', env: { ...env, CARGO_TARGET_DIR: path.join(root, 'target/vendor-multer') } },
)
process.exit(vendored.status === null ? 1 : vendored.status)
