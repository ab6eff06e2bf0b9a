'use strict'

// `cargo test --workspace` for the target triple that `napi build` always
// passes (`--target <host>`): built into the same target directory, the
// tests reuse the addon build's compiled dependencies instead of compiling
// the whole graph a second time (about a minute of CI on two cores, and
// half the disk). Extra arguments go to cargo.

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
process.exit(r.status === null ? 1 : r.status)
