'use strict'
// The package where its users run it: a WeChat cloud function (CentOS 7.6,
// glibc 2.17; Node 10.15, 12.16, 16.13, 18.15).
//
// `npm run test:runtime` (in .ci/run, after `npm run build:release`): packs
// the package with the addon at the root, installs the tarball into an empty
// folder with --omit=dev, and runs it with the official Node builds on a
// glibc 2.17 userland (both from the npm registry, scripts/toolchain.js):
//   - Node 16.13.2 and 12.16.3: require, the seed call in the three modes
//     (cloud call, HTTPS, managed third-party) against an emulator and a
//     redis-server that the host started, the event handler, the Redis
//     store, the CLI's `env`, and the cold start (reported, not asserted);
//   - Node 10.15.3: the Error that names the minimum version;
//   - node_modules installed for another platform: the Error at require;
//   - what a function downloads: one package within 4 MB, no emulator (it
//     ships in wx-cloud-openapi-emulator, emulator/, for the user's tests).
// Node 18.15's official build needs glibc 2.28, so the platform builds its
// own; 18 is the host's Node here (the jest suites run on >= 20).

const fs = require('fs')
const os = require('os')
const path = require('path')
const { spawn, spawnSync } = require('child_process')
const { nodeOnGlibc217, officialNode } = require('../../scripts/toolchain.js')
const { glibcNeed, missingNodeApi, compareVersions } = require('../../scripts/elf.js')
const { MAX_GLIBC } = require('../../scripts/build-release.js')
const { startRedis, freePort } = require('../helpers/redis.js')

const ROOT = path.join(__dirname, '..', '..')
const ADDON = path.join(ROOT, 'wx-cloud-openapi.linux-x64-gnu.node')

// Fetching the runtimes, packing and installing: minutes on a cold cache.
const SETUP_TIMEOUT_MS = 600000

const PLATFORM = { componentAppid: 'wx0emulatorcomp001', componentAppsecret: 'emulator-component-secret' }
const EVENTS = { token: 'runtime-suite-token', encodingAesKey: 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG' }
const APP = { appid: 'wx0emulatorapp0001', secret: 'emulator-app-secret' }

function sh(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 << 20, timeout: 300000, ...opts })
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}\n${r.stdout}\n${r.stderr}`)
  return r.stdout
}

/** Run `node args…` (Node `version` on glibc 2.17) to its end: `{ status, stdout, stderr }`. */
function runOld(version, args, opts = {}) {
  const [loader, ...pre] = nodeOnGlibc217(version)
  return spawnSync(loader, [...pre, ...args], { encoding: 'utf8', timeout: 120000, ...opts })
}

let work
let pkgDir
let packed
let emulatorPacked
let redis
beforeAll(() => {
  if (!fs.existsSync(ADDON)) throw new Error(`${path.relative(ROOT, ADDON)} is missing: run \`npm run build:release\` first`)
  // Fetch what the tests run (cached in .cache/ after the first time).
  for (const v of ['16.13.2', '12.16.3', '10.15.3']) nodeOnGlibc217(v)
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'wx-cloud-openapi-runtime-'))
  const npmEnv = { ...process.env, npm_config_cache: path.join(work, 'npm-cache'), npm_config_update_notifier: 'false' }
  ;[packed] = JSON.parse(sh('npm', ['pack', '--json', '--pack-destination', work], { cwd: ROOT, env: npmEnv }))
  ;[emulatorPacked] = JSON.parse(sh('npm', ['pack', '--json', '--pack-destination', work], { cwd: path.join(ROOT, 'emulator'), env: npmEnv }))
  const app = path.join(work, 'function')
  fs.mkdirSync(app)
  fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'a-cloud-function', version: '1.0.0', private: true }))
  sh('npm', ['install', '--omit=dev', '--offline', '--no-audit', '--no-fund', path.join(work, packed.filename)], { cwd: app, env: npmEnv })
  pkgDir = path.join(app, 'node_modules', 'wx-cloud-openapi')
}, SETUP_TIMEOUT_MS)
afterAll(async () => {
  if (redis) await redis.stop()
  if (work) fs.rmSync(work, { recursive: true, force: true })
})

/** Bytes under a directory. */
function du(dir) {
  let bytes = 0
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name)
    bytes += e.isDirectory() ? du(p) : fs.statSync(p).size
  }
  return bytes
}

test('what a cloud function downloads: one package, at most 4 MB installed, no emulator inside', () => {
  const top = fs.readdirSync(path.dirname(pkgDir)).filter((n) => !n.startsWith('.'))
  expect(top).toEqual(['wx-cloud-openapi'])
  const bytes = du(pkgDir)
  console.log(
    `installed wx-cloud-openapi (--omit=dev, linux-x64-gnu): ${bytes} bytes (tarball ${packed.size}); emulator package ${emulatorPacked.unpackedSize} bytes`,
  )
  // The budget of issue 18 (decimal MB, as bench/RESULTS.md counts).
  expect(bytes).toBeLessThanOrEqual(4e6)
  expect(typeof require(path.join(pkgDir, 'binding.js')).startEmulator).toBe('undefined')
})

test('startEmulator() without the emulator package: an Error that says which package to install; with it, an emulator', () => {
  const app = fs.mkdtempSync(path.join(work, 'tests-'))
  fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'function-tests', version: '1.0.0', private: true }))
  const npmEnv = { ...process.env, npm_config_cache: path.join(work, 'npm-cache'), npm_config_update_notifier: 'false' }
  const install = (...tarballs) =>
    sh('npm', ['install', '--offline', '--no-audit', '--no-fund', ...tarballs.map((t) => path.join(work, t.filename))], { cwd: app, env: npmEnv })
  const script = `require('wx-cloud-openapi').startEmulator().then(
    async (emu) => { const e = emu.environments(); await emu.close(); console.log(JSON.stringify({ started: emu.url.startsWith('http://127.0.0.1:'), e })) },
    (e) => console.log(JSON.stringify({ code: e.code, message: e.message })))`
  install(packed)
  const without = JSON.parse(sh(process.execPath, ['-e', script], { cwd: app }))
  expect(without).toEqual({ code: 'WX_CLOUD_OPENAPI_NO_EMULATOR', message: expect.stringContaining('npm install --save-dev wx-cloud-openapi-emulator@') })
  const cli = spawnSync(process.execPath, [path.join(app, 'node_modules', 'wx-cloud-openapi', 'cli.js'), 'emulator', '--help'], { encoding: 'utf8' })
  expect(cli.status).toBe(3)
  expect(cli.stderr).toContain('wx-cloud-openapi-emulator')
  install(packed, emulatorPacked)
  expect(JSON.parse(sh(process.execPath, ['-e', script], { cwd: app }))).toEqual({ started: true, e: [] })
})

test(`the release addon needs at most GLIBC_${MAX_GLIBC}, and only Node-API functions that Node 12.16 exports`, () => {
  const installed = path.join(pkgDir, 'wx-cloud-openapi.linux-x64-gnu.node')
  const need = glibcNeed(installed)
  expect({ need, atMost217: compareVersions(need, MAX_GLIBC) <= 0 }).toEqual({ need, atMost217: true })
  expect(missingNodeApi(installed, officialNode('12.16.3'))).toEqual([])
})

describe.each(['16.13.2', '12.16.3'])('Node %s on glibc 2.17', (version) => {
  let emu
  let eventPort
  beforeAll(async () => {
    redis = redis || (await startRedis())
    eventPort = await freePort()
    const { startEmulator } = require(ROOT)
    emu = await startEmulator({
      componentEventUrl: `http://127.0.0.1:${eventPort}/wechat/component`,
      componentToken: EVENTS.token,
      componentEncodingAesKey: EVENTS.encodingAesKey,
      ticketIntervalMs: 0,
    })
  })
  afterAll(async () => {
    if (emu) await emu.close()
  })

  test("Node's own process.env, which the core reads itself: writes, deletions, a replaced process.env and a worker thread's", async () => {
    // Node 12 and 16 refuse the probe (index.js, probeEnv) otherwise than 18
    // does. The child runs this checkout (its release addon) on the old Node.
    const { expected, runChild } = require('../helpers/env-child.js')
    expect(await runChild(nodeOnGlibc217(version), emu.cloudEnv())).toEqual(expected)
  })

  test('require, the seed call in the three modes, the event handler and the Redis store', async () => {
    const authorizer = `wxrt${version.replace(/\./g, '')}shop01`.slice(0, 18)
    const setup = {
      pkg: pkgDir,
      cloudEnv: emu.cloudEnv(),
      httpsBaseUrl: emu.httpsBaseUrl,
      app: APP,
      platform: PLATFORM,
      events: EVENTS,
      authorizer,
      redisPort: redis.port,
      ioredis: require.resolve('ioredis'),
      eventPort,
    }
    const [loader, ...pre] = nodeOnGlibc217(version)
    const child = spawn(loader, [...pre, path.join(__dirname, 'function-child.js')], {
      env: { PATH: process.env.PATH, WX_RT: JSON.stringify(setup) },
      stdio: ['pipe', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stderr.on('data', (c) => {
      stderr += c
    })
    const lines = []
    let wake = () => {}
    child.stdout.on('data', (c) => {
      stdout += c
      const parts = stdout.split('\n')
      stdout = parts.pop()
      for (const l of parts) lines.push(JSON.parse(l))
      wake()
    })
    const exited = new Promise((resolve) => child.once('exit', resolve))
    const nextLine = () =>
      new Promise((resolve, reject) => {
        const check = () => {
          if (lines.length > 0) resolve(lines.shift())
        }
        wake = check
        exited.then((code) => reject(new Error(`the function exited ${code} early: ${stdout}\n${stderr}`)))
        check()
      })

    const ready = await nextLine().catch((e) => {
      child.kill('SIGKILL')
      throw e
    })
    expect(ready).toEqual({ ready: true })
    // WeChat (the emulator) pushes a ticket and an authorization to the function's event URL.
    await emu.pushTicket()
    await emu.authorize(authorizer)
    child.stdin.write('pushed\n')
    const line = await nextLine().finally(() => child.kill('SIGKILL'))
    expect(line.failed).toBeUndefined()
    const r = line.result
    console.log(
      `Node ${r.node} (Node-API ${r.napi}) on glibc 2.17: cold start (require + init + first call) ${r.coldStartMs.toFixed(1)} ms, RSS ${r.rssMb.toFixed(1)} MB`,
    )

    expect(r.node).toBe(`v${version}`)
    const ok = { errCode: 0, errMsg: 'openapi.tcb.createenvandresource:ok' }
    expect(r.cloud).toEqual({ envid: expect.stringMatching(/^rt-cloud-/), ...ok })
    expect(r.https).toEqual({ envid: expect.stringMatching(/^rt-https-/), ...ok })
    expect(r.thirdParty).toEqual({ envid: expect.stringMatching(/^rt-3rd-/), ...ok })
    expect(r.cloudError).toEqual({
      errCode: 40101,
      errMsg: expect.stringMatching(/^openapi\.tcb\.createenvandresource:fail missing parameter/),
      message: expect.stringMatching(/^errCode: 40101 /),
      isError: true,
    })
    // The handler stored the ticket and the refresh token; the client used them.
    expect(r.events).toEqual(['component_verify_ticket', 'authorized'])
    expect(r.storeKeys.some((k) => k.includes('ticket'))).toBe(true)
    expect(r.storeKeys.some((k) => k.includes(authorizer))).toBe(true)
    // Each environment in the account its credentials name.
    const accounts = Object.fromEntries(emu.environments().map((e) => [e.env, e.account]))
    expect(accounts[r.thirdParty.envid]).toBe(authorizer)
    expect(accounts[r.https.envid]).toBe(APP.appid)
  })

  test('the package loads by name through its exports map; on Node 16, `import` gets the named exports', () => {
    const cwd = path.dirname(path.dirname(pkgDir))
    const required = runOld(version, ['-e', "console.log(typeof require('wx-cloud-openapi').openapi.tcb)"], { cwd })
    expect({ status: required.status, stdout: required.stdout.trim() }).toEqual({ status: 0, stdout: 'function' })
    // Node 12.16 has ES modules behind a flag only: `import` is for Node 16 and later.
    if (version.startsWith('12.')) return
    const imported = runOld(
      version,
      ['--input-type=module', '-e', "import cloud, { init, openapi } from 'wx-cloud-openapi'; console.log(typeof init, openapi === cloud.openapi)"],
      { cwd },
    )
    expect({ status: imported.status, stdout: imported.stdout.trim(), stderr: imported.stderr }).toEqual({ status: 0, stdout: 'function true', stderr: '' })
  })

  test('the CLI: `wx-cloud-openapi env` names the cloud call', () => {
    const r = runOld(version, [path.join(pkgDir, 'cli.js'), 'env'], { env: { PATH: process.env.PATH, ...emu.cloudEnv() } })
    expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' })
    expect(r.stdout).toMatch(/mode:\s+cloud/)
    // Secrets redacted, as on any Node.
    expect(r.stdout).not.toContain(emu.cloudEnv().TENCENTCLOUD_SECRETKEY)
  })
})

test('Node 10.15.3: require throws an Error naming the minimum version and what to change', () => {
  const script = `try { require(${JSON.stringify(pkgDir)}) } catch (e) { console.log(JSON.stringify({ code: e.code, name: e.name, message: e.message })) }`
  const r = runOld('10.15.3', ['-e', script])
  expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' })
  const err = JSON.parse(r.stdout)
  expect(err).toEqual({ code: 'WX_CLOUD_OPENAPI_NODE_TOO_OLD', name: 'Error', message: expect.stringContaining('needs Node.js 12.16 or later') })
  expect(err.message).toContain('v10.15.3')
  expect(err.message).toContain('Nodejs16.13')
  // The CLI says the same, and exits non-zero instead of a SyntaxError.
  const cli = runOld('10.15.3', [path.join(pkgDir, 'cli.js'), 'env'])
  expect(cli.status).not.toBe(0)
  expect(cli.stderr).toContain('needs Node.js 12.16 or later')
  expect(cli.stderr).not.toContain('SyntaxError')
})

test('node_modules installed on a Mac and uploaded with the function: require names both platforms and both fixes', () => {
  // The layout npm leaves on macOS arm64: the main package without an addon, and the darwin one.
  const app = fs.mkdtempSync(path.join(work, 'uploaded-'))
  const nm = path.join(app, 'node_modules')
  fs.cpSync(pkgDir, path.join(nm, 'wx-cloud-openapi'), { recursive: true })
  for (const f of fs.readdirSync(path.join(nm, 'wx-cloud-openapi'))) {
    if (f.endsWith('.node')) fs.rmSync(path.join(nm, 'wx-cloud-openapi', f))
  }
  const darwin = path.join(nm, 'wx-cloud-openapi-darwin-arm64')
  fs.mkdirSync(darwin)
  fs.writeFileSync(
    path.join(darwin, 'package.json'),
    JSON.stringify({ name: 'wx-cloud-openapi-darwin-arm64', version: '0.1.0', os: ['darwin'], cpu: ['arm64'] }),
  )
  fs.writeFileSync(path.join(darwin, 'wx-cloud-openapi.darwin-arm64.node'), 'not for linux')
  const script = `try { require(${JSON.stringify(path.join(nm, 'wx-cloud-openapi'))}); console.log('{}') } catch (e) { console.log(JSON.stringify({ code: e.code, message: e.message })) }`
  const r = runOld('16.13.2', ['-e', script], { cwd: app })
  const err = JSON.parse(r.stdout)
  expect(err.code).toBe('WX_CLOUD_OPENAPI_NO_ADDON')
  expect(err.message).toContain('installed for darwin-arm64')
  expect(err.message).toContain('runs on linux-x64-gnu')
  expect(err.message).toContain('wx-cloud-openapi-linux-x64-gnu')
  expect(err.message).toContain('npm install --os=linux --cpu=x64 --libc=glibc')
  expect(err.message).toContain('云端安装依赖')
  // The loader's override (NAPI_RS_NATIVE_LIBRARY_PATH names the addon file) is honoured, not refused.
  const overridden = runOld('16.13.2', ['-e', script.replace("console.log('{}')", "console.log(JSON.stringify({ loaded: typeof require('util') }))")], {
    cwd: app,
    env: { PATH: process.env.PATH, NAPI_RS_NATIVE_LIBRARY_PATH: ADDON },
  })
  expect(JSON.parse(overridden.stdout)).toEqual({ loaded: 'object' })
})
