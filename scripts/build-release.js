'use strict'
// `npm run build:release`: the addon exactly as it is published, for a WeChat
// cloud function (CentOS 7.6, glibc 2.17) and the other Linux targets.
//
//   npm run build:release                        linux-x64-gnu (glibc 2.17)
//   npm run build:release -- --target linux-arm64-gnu --target linux-x64-musl
//   npm run build:release -- --all               the three Linux targets
//   npm run build:release -- --target darwin-arm64   (on a Mac; Windows alike)
//
// Each Linux target is built by `napi build -x` (cargo-zigbuild, with zig as the C
// compiler and linker against the glibc 2.17 symbols), so no system
// toolchain or container is needed: zig and cargo-zigbuild are installed from
// PyPI into .cache/ (scripts/toolchain.js), a missing Rust target with rustup.
// Writes `wx-cloud-openapi.<platform>.node` (no emulator: what a cloud
// function downloads) and its loader (binding.js, binding.d.ts) at the root,
// and the emulator package's addon and loader in emulator/, then checks the
// glibc symbol versions each addon needs: above 2.17 is a failed build.

const path = require('path')
const { spawnSync } = require('child_process')
const { zigPath, ensureRustTarget, log } = require('./toolchain.js')
const { glibcNeed, compareVersions } = require('./elf.js')

const ROOT = path.join(__dirname, '..')

/** The glibc a WeChat cloud function has (CentOS 7.6). */
const MAX_GLIBC = '2.17'

/** Platform → the Rust target and the target spelling cargo-zigbuild takes (glibc version suffix). */
const TARGETS = {
  'linux-x64-gnu': { rust: 'x86_64-unknown-linux-gnu', zig: `x86_64-unknown-linux-gnu.${MAX_GLIBC}`, host: 'linux' },
  'linux-arm64-gnu': { rust: 'aarch64-unknown-linux-gnu', zig: `aarch64-unknown-linux-gnu.${MAX_GLIBC}`, host: 'linux' },
  'linux-x64-musl': { rust: 'x86_64-unknown-linux-musl', zig: 'x86_64-unknown-linux-musl', host: 'linux' },
  // Built natively on their own runners (no zig): the same two addons.
  'darwin-x64': { rust: 'x86_64-apple-darwin', host: 'darwin' },
  'darwin-arm64': { rust: 'aarch64-apple-darwin', host: 'darwin' },
  'win32-x64-msvc': { rust: 'x86_64-pc-windows-msvc', host: 'win32' },
}
const LINUX = Object.keys(TARGETS).filter((t) => TARGETS[t].host === 'linux')

function parseArgs(argv) {
  const targets = []
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    if (a === '--all') targets.push(...LINUX)
    else if (a === '--target' || a === '-t') targets.push(argv[++i])
    else if (a.startsWith('--target=')) targets.push(a.slice('--target='.length))
    else throw new Error(`unknown argument ${a} (takes --target PLATFORM, repeated, or --all)`)
  }
  for (const t of targets) {
    if (!TARGETS[t]) throw new Error(`unknown target ${t}: one of ${Object.keys(TARGETS).join(', ')}`)
  }
  for (const t of targets) {
    if (TARGETS[t].host !== process.platform) throw new Error(`${t} is built on ${TARGETS[t].host}, not on ${process.platform}`)
  }
  if (targets.length > 0) return [...new Set(targets)]
  if (process.platform === 'linux') return ['linux-x64-gnu']
  throw new Error('name the target: --target PLATFORM (this machine builds its own platform)')
}

/** `napi build --release -x` for `platform`; `extra` picks the package and the features. */
function napiBuild(platform, extra) {
  const { zig, rust } = TARGETS[platform]
  const target = zig ? ['-x', '--target', zig] : ['--target', rust]
  const args = ['napi', 'build', '--platform', '--release', ...target, '--js', 'binding.js', '--dts', 'binding.d.ts', ...extra]
  log(args.join(' '))
  const env = zig ? { ...process.env, PATH: zigPath() } : process.env
  const r = spawnSync('npx', args, { cwd: ROOT, stdio: 'inherit', env, shell: process.platform === 'win32' })
  if (r.status !== 0) throw new Error(`napi build for ${platform} failed (exit ${r.status})`)
}

function checkGlibc(platform, file) {
  if (!platform.endsWith('-gnu')) return
  const need = glibcNeed(file)
  if (need && compareVersions(need, MAX_GLIBC) > 0) {
    throw new Error(`${path.relative(ROOT, file)} needs GLIBC_${need}; a WeChat cloud function has ${MAX_GLIBC} (CentOS 7.6)`)
  }
  log(`${path.relative(ROOT, file)}: needs at most GLIBC_${need}`)
}

/**
 * Two addons from the one crate: the package's, without the emulator (what a
 * cloud function downloads), at the root; and the emulator package's, with
 * it (the Cargo feature `emulator`), in emulator/.
 */
function build(platform) {
  ensureRustTarget(TARGETS[platform].rust)
  napiBuild(platform, ['--package-json-path', 'emulator/package.json', '-o', 'emulator'])
  checkGlibc(platform, path.join(ROOT, 'emulator', `wx-cloud-openapi-emulator.${platform}.node`))
  napiBuild(platform, ['--no-default-features'])
  checkGlibc(platform, path.join(ROOT, `wx-cloud-openapi.${platform}.node`))
}

function main() {
  for (const platform of parseArgs(process.argv.slice(2))) build(platform)
}

if (require.main === module) {
  try {
    main()
  } catch (e) {
    console.error(`[build:release] ${e.message}`)
    process.exit(1)
  }
}

module.exports = { TARGETS, MAX_GLIBC }
