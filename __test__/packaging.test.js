'use strict'
// The package as a user gets it: `npm pack`, install the tarball into an
// empty directory offline with no dev dependencies, then require it from
// there, start its emulator and make a call; its CLI and its types work too.
// Reports the installed size.

const fs = require('fs')
const os = require('os')
const path = require('path')
const { spawnSync } = require('child_process')
const { platformName } = require('../lib/load.js')

const ROOT = path.join(__dirname, '..')
const pkg = require('../package.json')
const ADDON = `wx-cloud-openapi.${platformName()}.node`

jest.setTimeout(300000)

function sh(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 << 20, timeout: 240000, ...opts })
  if (r.status !== 0) {
    throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}\n${r.stdout}\n${r.stderr}`)
  }
  return r.stdout
}

/** Bytes and files under a directory. */
function du(dir) {
  let bytes = 0
  let files = 0
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name)
    if (e.isDirectory()) {
      const sub = du(p)
      bytes += sub.bytes
      files += sub.files
    } else {
      bytes += fs.statSync(p).size
      files += 1
    }
  }
  return { bytes, files }
}

let work
let packed
let installed
/** Where the package and the emulator package are installed together, when the addon has no emulator. */
let emulatorApp
beforeAll(() => {
  // Build the addon if this checkout has none (debug is enough here).
  if (![ADDON, 'binding.js', 'binding.d.ts'].every((f) => fs.existsSync(path.join(ROOT, f)))) {
    sh(process.execPath, [path.join(ROOT, 'scripts', 'build-if-needed.js'), '--debug'], { cwd: ROOT, stdio: 'inherit', timeout: 900000 })
  }
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'wx-cloud-openapi-pack-'))
  // An empty npm cache: the offline install proves the registry is not needed.
  const npmEnv = { ...process.env, npm_config_cache: path.join(work, 'cache'), npm_config_update_notifier: 'false' }
  ;[packed] = JSON.parse(sh('npm', ['pack', '--json', '--pack-destination', work], { cwd: ROOT, env: npmEnv }))
  const app = path.join(work, 'app')
  fs.mkdirSync(app)
  fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true }))
  sh('npm', ['install', '--omit=dev', '--offline', '--no-audit', '--no-fund', path.join(work, packed.filename)], { cwd: app, env: npmEnv })
  // A release addon (`npm run build:release`) has no emulator: it comes from
  // the emulator package then, as for a user (npm install -D wx-cloud-openapi-emulator).
  if (typeof require(path.join(ROOT, 'binding.js')).startEmulator !== 'function') {
    const [emulator] = JSON.parse(sh('npm', ['pack', '--json', '--pack-destination', work], { cwd: path.join(ROOT, 'emulator'), env: npmEnv }))
    emulatorApp = path.join(work, 'app-tests')
    fs.mkdirSync(emulatorApp)
    fs.writeFileSync(path.join(emulatorApp, 'package.json'), JSON.stringify({ name: 'consumer-tests', version: '1.0.0', private: true }))
    const tarballs = [packed, emulator].map((t) => path.join(work, t.filename))
    sh('npm', ['install', '--offline', '--no-audit', '--no-fund', ...tarballs], { cwd: emulatorApp, env: npmEnv })
  }
  installed = path.join(app, 'node_modules', 'wx-cloud-openapi')
})
afterAll(() => {
  if (work) fs.rmSync(work, { recursive: true, force: true })
})

test('the package has no runtime dependencies', () => {
  for (const field of ['dependencies', 'peerDependencies', 'optionalDependencies', 'bundleDependencies', 'bundledDependencies']) {
    expect({ field, value: pkg[field] }).toEqual({ field, value: undefined })
  }
})

test('the tarball holds exactly what is needed', () => {
  const files = packed.files.map((f) => f.path).sort()
  // Addons lying in the package root ship too (this platform's at least; see docs/building.md).
  const addons = fs.readdirSync(ROOT).filter((f) => /^wx-cloud-openapi\..+\.node$/.test(f))
  expect(addons).toContain(ADDON)
  expect(files).toEqual(
    [
      'README.md',
      'package.json',
      'index.js',
      'index.mjs',
      'index.d.ts',
      'binding.js',
      'binding.d.ts',
      'cli.js',
      'lib/component-events.js',
      'lib/component-events.d.ts',
      'lib/emulator.js',
      'lib/emulator.d.ts',
      'lib/errors.js',
      'lib/load.js',
      'lib/midas-signature.js',
      'lib/openapi.d.ts',
      'lib/store.js',
      'lib/wx-context.js',
      ...addons,
    ].sort(),
  )
})

test('every JavaScript file it ships parses as ES2019 (Node 12.16, the oldest runtime it supports)', () => {
  // Node 12 has no optional chaining, `??`, class fields or logical assignment.
  const acorn = require('acorn')
  const js = packed.files.map((f) => f.path).filter((f) => f.endsWith('.js'))
  expect(js).toEqual(expect.arrayContaining(['index.js', 'cli.js', 'binding.js', 'lib/load.js']))
  const failures = []
  for (const f of js) {
    try {
      acorn.parse(fs.readFileSync(path.join(installed, f), 'utf8'), { ecmaVersion: 2019, sourceType: 'script', allowHashBang: true })
    } catch (e) {
      failures.push(`${f}: ${e.message}`)
    }
  }
  // The ES module entry, as a module.
  for (const f of packed.files.map((x) => x.path).filter((x) => x.endsWith('.mjs'))) {
    try {
      acorn.parse(fs.readFileSync(path.join(installed, f), 'utf8'), { ecmaVersion: 2019, sourceType: 'module' })
    } catch (e) {
      failures.push(`${f}: ${e.message}`)
    }
  }
  expect(failures).toEqual([])
  // And the check does catch what Node 12 cannot parse.
  expect(() => acorn.parse('a?.b', { ecmaVersion: 2019 })).toThrow(SyntaxError)
})

test('installs offline as one package; reports its size', () => {
  const top = fs.readdirSync(path.join(installed, '..')).filter((n) => !n.startsWith('.'))
  expect(top).toEqual(['wx-cloud-openapi'])
  const lock = JSON.parse(fs.readFileSync(path.join(installed, '..', '..', 'package-lock.json'), 'utf8'))
  const packages = Object.keys(lock.packages).filter((k) => k !== '')
  expect(packages).toEqual(['node_modules/wx-cloud-openapi'])
  const size = du(installed)
  const addon = fs.statSync(path.join(installed, ADDON)).size
  process.stdout.write(
    `\n[packaging] ${packed.filename}: tarball ${packed.size} bytes; installed ${size.bytes} bytes in ${size.files} files, ` +
      `1 package (addon ${ADDON}: ${addon} bytes, ${addon === fs.statSync(path.join(ROOT, ADDON)).size ? 'as built here' : 'differs'})\n`,
  )
  expect(size.bytes).toBe(packed.unpackedSize)
})

test('require it from there, start its emulator and make a call in two modes', () => {
  const script = `
    const cloud = require('wx-cloud-openapi')
    ;(async () => {
      const emu = await cloud.startEmulator()
      const c = new cloud.Cloud()
      c.init({ env: cloud.DYNAMIC_CURRENT_ENV, processEnv: emu.cloudEnv() })
      const a = await c.openapi.tcb.createenvandresource({ type: 'CreatePostpayPackage', alias: 'packed' })
      const h = new cloud.Cloud()
      h.init({ appid: 'wx0emulatorapp0001', secret: 'emulator-app-secret', apiBaseUrl: emu.httpsBaseUrl, processEnv: {} })
      const b = await h.openapi.tcb.createenvandresource({ type: 'CreatePostpayPackage', alias: 'packed' })
      const envs = emu.environments().map((e) => e.createdVia)
      await emu.close()
      console.log(JSON.stringify({ resolved: require.resolve('wx-cloud-openapi'), a, b, envs, version: cloud.version }))
    })().catch((e) => { console.error(e); process.exit(1) })`
  const app = emulatorApp || path.join(installed, '..', '..')
  const out = JSON.parse(sh(process.execPath, ['-e', script], { cwd: app, env: { PATH: process.env.PATH } }))
  expect(out.resolved).toBe(path.join(fs.realpathSync(app), 'node_modules', 'wx-cloud-openapi', 'index.js'))
  expect(out.a).toEqual({ envid: expect.stringMatching(/^packed-[a-z0-9]{6}$/), errMsg: 'openapi.tcb.createenvandresource:ok', errCode: 0 })
  expect(out.b.envid).toMatch(/^packed-[a-z0-9]{6}$/)
  expect(out.envs.sort()).toEqual(['gateway', 'https'])
  expect(out.version).toBe(pkg.version)
})

test('import it as an ES module: the same object, its members as named exports, a call through them', () => {
  const script = `
    import cloud, { init, openapi, DYNAMIC_CURRENT_ENV, startEmulator, CloudSDKError, version } from 'wx-cloud-openapi'
    const emu = await startEmulator()
    init({ env: DYNAMIC_CURRENT_ENV, processEnv: emu.cloudEnv() })
    const made = await openapi.tcb.createenvandresource({ type: 'CreatePostpayPackage', alias: 'esm' })
    await emu.close()
    console.log(JSON.stringify({ same: openapi === cloud.openapi && CloudSDKError === cloud.CloudSDKError, version, made }))`
  const app = emulatorApp || path.join(installed, '..', '..')
  const out = JSON.parse(sh(process.execPath, ['--input-type=module', '-e', script], { cwd: app, env: { PATH: process.env.PATH } }))
  expect(out.same).toBe(true)
  expect(out.version).toBe(pkg.version)
  expect(out.made).toEqual({ envid: expect.stringMatching(/^esm-[a-z0-9]{6}$/), errMsg: 'openapi.tcb.createenvandresource:ok', errCode: 0 })
})

test('its CLI runs from node_modules/.bin', () => {
  const bin = path.join(installed, '..', '.bin', 'wx-cloud-openapi')
  const r = spawnSync(bin, ['env', '--json', '--appid', 'wx0emulatorapp0001', '--secret', 'not-shown'], { encoding: 'utf8', env: { PATH: process.env.PATH } })
  expect(r.status).toBe(0)
  expect(JSON.parse(r.stdout)).toMatchObject({ ok: true, mode: 'https' })
  expect(r.stdout).not.toContain('not-shown')
})

test('a TypeScript consumer gets the types, the emulator types from binding.d.ts included', () => {
  const app = path.join(installed, '..', '..')
  fs.writeFileSync(
    path.join(app, 'consumer.ts'),
    `import { Cloud, startEmulator, type EmulatorStartOptions } from 'wx-cloud-openapi'
export async function f(): Promise<string> {
  const opts: EmulatorStartOptions = { tokenLifetimeSecs: 60 }
  const emu = await startEmulator(opts)
  const c = new Cloud()
  c.init({ processEnv: emu.cloudEnv() })
  // @ts-expect-error the emulator options are typed (they come from binding.d.ts)
  await startEmulator({ tokenLifetimeSecs: 'long' })
  return (await c.openapi.tcb.createenvandresource({ type: 'CreatePostpayPackage', alias: 'ts' })).envid
}
`,
  )
  const tsc = require.resolve('typescript/bin/tsc')
  const r = spawnSync(
    process.execPath,
    [
      tsc,
      '--noEmit',
      '--strict',
      '--skipLibCheck',
      '--module',
      'node16',
      '--moduleResolution',
      'node16',
      '--target',
      'es2022',
      '--types',
      'node',
      '--typeRoots',
      path.join(ROOT, 'node_modules', '@types'),
      '--pretty',
      'false',
      'consumer.ts',
    ],
    { cwd: app, encoding: 'utf8', timeout: 120000 },
  )
  expect(r.stdout + r.stderr).toBe('')
  expect(r.status).toBe(0)
})
