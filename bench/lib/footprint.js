'use strict'
// Install footprint of a production install (`--omit=dev`) into a temp dir.
//   ours: `npm pack` of this checkout, installed from the tarball; if the
//         tarball lacks the native addon (napi-rs can ship it as a platform
//         package wx-cloud-openapi-<platform>), the addon is counted as one
//         more package of its size
//   ref:  wx-server-sdk@4.0.2 from the npm cache (falls back to the registry)
// Bytes are the sum of file sizes (apparent size) under node_modules.

const fs = require('fs')
const os = require('os')
const path = require('path')
const { spawnSync } = require('child_process')
const { ROOT } = require('./common')

function npm(args, cwd) {
  const r = spawnSync('npm', args, { cwd, encoding: 'utf8', timeout: 180000 })
  if (r.status !== 0) throw new Error(`npm ${args.join(' ')} failed: ${(r.stderr || '').slice(-1500)}`)
  return r.stdout
}

/** {bytes, files, packages: [name]} of a node_modules tree. */
function measureTree(nodeModules) {
  let bytes = 0
  let files = 0
  const packages = []
  const walk = (dir, rel) => {
    for (const ent of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, ent.name)
      if (ent.isSymbolicLink()) continue
      if (ent.isDirectory()) walk(p, path.join(rel, ent.name))
      else if (ent.isFile()) {
        bytes += fs.statSync(p).size
        files++
        // a package: node_modules/<name>/package.json or node_modules/@scope/<name>/package.json
        if (ent.name === 'package.json' && /(^|\/)node_modules\/(@[^/]+\/)?[^/@][^/]*$/.test(path.join('node_modules', rel))) {
          packages.push(rel)
        }
      }
    }
  }
  walk(nodeModules, '')
  return { bytes, files, packages: packages.filter((p) => !p.startsWith('.')) }
}

function freshDir(tmp, name) {
  const d = path.join(tmp, name)
  fs.mkdirSync(d, { recursive: true })
  fs.writeFileSync(path.join(d, 'package.json'), JSON.stringify({ name: `bench-${name}`, version: '1.0.0', private: true }))
  return d
}

const INSTALL = ['install', '--omit=dev', '--no-audit', '--no-fund', '--ignore-scripts', '--no-package-lock']

function ours(tmp) {
  const packed = JSON.parse(npm(['pack', '--json', '--pack-destination', tmp], ROOT))[0]
  const tarball = path.join(tmp, packed.filename)
  const dir = freshDir(tmp, 'ours')
  npm([...INSTALL, '--offline', tarball], dir)
  const tree = measureTree(path.join(dir, 'node_modules'))
  const addons = fs.readdirSync(ROOT).filter((f) => /^wx-cloud-openapi\..+\.node$/.test(f))
  const addonInTarball = packed.files.some((f) => f.path.endsWith('.node'))
  const installed = path.join(dir, 'node_modules', 'wx-cloud-openapi')
  const addonBytes = addonInTarball
    ? fs
        .readdirSync(installed)
        .filter((f) => f.endsWith('.node'))
        .reduce((n, f) => n + fs.statSync(path.join(installed, f)).size, 0)
    : addons.reduce((n, f) => n + fs.statSync(path.join(ROOT, f)).size, 0)
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'))
  return {
    bytes: tree.bytes + (addonInTarball ? 0 : addonBytes),
    packages: tree.packages.length + (addonInTarball ? 0 : 1),
    jsPackages: tree.packages,
    addonBytes,
    addonInTarball,
    tarballBytes: packed.size,
    runtimeDependencies: Object.keys({ ...pkg.dependencies, ...pkg.optionalDependencies, ...pkg.peerDependencies }),
  }
}

function ref(tmp) {
  const dir = freshDir(tmp, 'ref')
  try {
    npm([...INSTALL, '--offline', 'wx-server-sdk@4.0.2'], dir)
  } catch (_) {
    npm([...INSTALL, '--prefer-offline', 'wx-server-sdk@4.0.2'], dir)
  }
  const tree = measureTree(path.join(dir, 'node_modules'))
  return { bytes: tree.bytes, packages: tree.packages.length }
}

function measureFootprint() {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'wxco-bench-'))
  try {
    return { ours: ours(tmp), ref: ref(tmp) }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true })
  }
}

module.exports = { measureFootprint }

if (require.main === module) console.log(JSON.stringify(measureFootprint(), null, 2))
