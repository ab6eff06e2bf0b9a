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
const r = spawnSync('cargo', ['test', '--workspace', '--target', host[1], ...process.argv.slice(2)], { stdio: 'inherit' })
process.exit(r.status === null ? 1 : r.status)
