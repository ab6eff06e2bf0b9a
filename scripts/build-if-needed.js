'use strict'
// Build the native addon when this checkout has none yet (a fresh clone).
// `--debug` builds the debug profile (faster to compile, used by the tests).
const fs = require('fs')
const path = require('path')
const { spawnSync } = require('child_process')

const root = path.join(__dirname, '..')
const haveAddon = fs.readdirSync(root).some((f) => /^wx-cloud-openapi\..+\.node$/.test(f))
const haveLoader = fs.existsSync(path.join(root, 'binding.js'))
if (haveAddon && haveLoader && !process.argv.includes('--force')) process.exit(0)

const release = !process.argv.includes('--debug')
console.error(`[wx-cloud-openapi] building the native addon (${release ? 'release' : 'debug'}); this takes a few minutes the first time…`)
const args = ['napi', 'build', '--platform', '--js', 'binding.js', '--dts', 'binding.d.ts']
if (release) args.splice(3, 0, '--release')
const r = spawnSync('npx', args, { cwd: root, stdio: 'inherit' })
process.exit(r.status === null ? 1 : r.status)
