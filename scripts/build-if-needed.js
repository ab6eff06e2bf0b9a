'use strict'
// Build the native addon when this checkout has none yet (a fresh clone).
//
// `npm start` (no flag) builds the release addon into target/demo-addon/,
// where the demo loads it (scripts/demo.js), so that `npm test`'s debug
// build in the package root never replaces it and it never replaces that
// one. `--debug` builds the debug profile into the package root (the tests'
// addon).
const fs = require('fs')
const path = require('path')
const { spawnSync } = require('child_process')

const root = path.join(__dirname, '..')
const release = !process.argv.includes('--debug')
const out = release ? path.join(root, 'target', 'demo-addon') : root
const have = (dir) => fs.existsSync(dir) && fs.readdirSync(dir).some((f) => /^wx-cloud-openapi\..+\.node$/.test(f))
const haveLoader = fs.existsSync(path.join(root, 'binding.js'))
if (have(out) && haveLoader && !process.argv.includes('--force')) process.exit(0)

console.error(`[wx-cloud-openapi] building the native addon (${release ? 'release' : 'debug'}); this takes a few minutes the first time…`)
const args = ['napi', 'build', '--platform', '--js', 'binding.js', '--dts', 'binding.d.ts']
if (release) args.push('--release', '--output-dir', out)
const r = spawnSync('npx', args, { cwd: root, stdio: 'inherit' })
if (r.status !== 0) process.exit(r.status === null ? 1 : r.status)
// The loader is the same for both builds: the package root needs one.
if (release && !haveLoader) {
  for (const f of ['binding.js', 'binding.d.ts']) fs.copyFileSync(path.join(out, f), path.join(root, f))
}
