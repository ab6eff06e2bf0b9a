'use strict'
// `npm run build:release`: the addon exactly as it is published, for a WeChat
// cloud function (CentOS 7.6, glibc 2.17) and the other Linux targets.
//
//   npm run build:release                        linux-x64-gnu (glibc 2.17)
//   npm run build:release -- --target linux-arm64-gnu --target linux-x64-musl
//   npm run build:release -- --all               the three Linux targets
//
// Each target is built by `napi build -x` (cargo-zigbuild, with zig as the C
// compiler and linker against the glibc 2.17 symbols), so no system
// toolchain or container is needed: zig and cargo-zigbuild are installed from
// PyPI into .cache/ (scripts/toolchain.js), a missing Rust target with rustup.
// Writes `wx-cloud-openapi.<platform>.node` and the loader (binding.js,
// binding.d.ts) at the root, then checks the glibc symbol versions each addon
// needs: above 2.17 is a failed build. macOS and Windows addons are built on
// their own runners (.github/workflows/release.yml, `npm run build`).

const path = require('path')
const { spawnSync } = require('child_process')
const { zigPath, ensureRustTarget, log } = require('./toolchain.js')
const { glibcNeed, compareVersions } = require('./elf.js')

const ROOT = path.join(__dirname, '..')

/** The glibc a WeChat cloud function has (CentOS 7.6). */
const MAX_GLIBC = '2.17'

/** Platform → the Rust target and the target spelling cargo-zigbuild takes (glibc version suffix). */
const TARGETS = {
  'linux-x64-gnu': { rust: 'x86_64-unknown-linux-gnu', zig: `x86_64-unknown-linux-gnu.${MAX_GLIBC}` },
  'linux-arm64-gnu': { rust: 'aarch64-unknown-linux-gnu', zig: `aarch64-unknown-linux-gnu.${MAX_GLIBC}` },
  'linux-x64-musl': { rust: 'x86_64-unknown-linux-musl', zig: 'x86_64-unknown-linux-musl' },
}

function parseArgs(argv) {
  const targets = []
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    if (a === '--all') targets.push(...Object.keys(TARGETS))
    else if (a === '--target' || a === '-t') targets.push(argv[++i])
    else if (a.startsWith('--target=')) targets.push(a.slice('--target='.length))
    else throw new Error(`unknown argument ${a} (takes --target PLATFORM, repeated, or --all)`)
  }
  for (const t of targets) {
    if (!TARGETS[t]) throw new Error(`unknown target ${t}: one of ${Object.keys(TARGETS).join(', ')}`)
  }
  return targets.length > 0 ? [...new Set(targets)] : ['linux-x64-gnu']
}

function build(platform) {
  const { rust, zig } = TARGETS[platform]
  ensureRustTarget(rust)
  log(`napi build --release -x --target ${zig} (${platform})`)
  const args = ['napi', 'build', '--platform', '--release', '-x', '--target', zig, '--js', 'binding.js', '--dts', 'binding.d.ts']
  const r = spawnSync('npx', args, { cwd: ROOT, stdio: 'inherit', env: { ...process.env, PATH: zigPath() } })
  if (r.status !== 0) throw new Error(`napi build for ${platform} failed (exit ${r.status})`)
  const file = path.join(ROOT, `wx-cloud-openapi.${platform}.node`)
  if (platform.endsWith('-gnu')) {
    const need = glibcNeed(file)
    if (need && compareVersions(need, MAX_GLIBC) > 0) {
      throw new Error(`${path.basename(file)} needs GLIBC_${need}; a WeChat cloud function has ${MAX_GLIBC} (CentOS 7.6)`)
    }
    log(`${path.basename(file)}: needs at most GLIBC_${need}`)
  }
  return file
}

function main() {
  if (process.platform !== 'linux') {
    throw new Error('build:release builds the Linux addons (on Linux); on this platform `npm run build` builds its own addon')
  }
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
