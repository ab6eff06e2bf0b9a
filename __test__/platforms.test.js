'use strict'
// Platform packages (npm/<platform>/) as @napi-rs/cli 3 lays them out, the
// generated loader looking for exactly those, and the loader's error when
// no addon fits.

const fs = require('fs')
const os = require('os')
const path = require('path')
const { loadBinding, platformName, libc, PUBLISHED } = require('../lib/load.js')

const ROOT = path.join(__dirname, '..')
const pkg = require('../package.json')

// napi target triple → platform name, os, cpu, libc
const TARGETS = {
  'x86_64-unknown-linux-gnu': ['linux-x64-gnu', 'linux', 'x64', 'glibc'],
  'x86_64-unknown-linux-musl': ['linux-x64-musl', 'linux', 'x64', 'musl'],
  'aarch64-unknown-linux-gnu': ['linux-arm64-gnu', 'linux', 'arm64', 'glibc'],
  'x86_64-apple-darwin': ['darwin-x64', 'darwin', 'x64', undefined],
  'aarch64-apple-darwin': ['darwin-arm64', 'darwin', 'arm64', undefined],
  'x86_64-pc-windows-msvc': ['win32-x64-msvc', 'win32', 'x64', undefined],
}

test('napi.targets lists the six published platforms, and lib/load.js knows the same ones', () => {
  expect([...pkg.napi.targets].sort()).toEqual(Object.keys(TARGETS).sort())
  expect([...PUBLISHED].sort()).toEqual(
    Object.values(TARGETS)
      .map((t) => t[0])
      .sort(),
  )
})

test('the emulator package (emulator/) is released with the package: same version, targets, engines and license', () => {
  const emu = require('../emulator/package.json')
  expect({ version: emu.version, targets: emu.napi.targets, engines: emu.engines, license: emu.license }).toEqual({
    version: pkg.version,
    targets: pkg.napi.targets,
    engines: pkg.engines,
    license: pkg.license,
  })
  expect(emu).toMatchObject({ name: 'wx-cloud-openapi-emulator', napi: { binaryName: 'wx-cloud-openapi-emulator' } })
  // The main package ships no emulator folder: its startEmulator() finds this package.
  expect(pkg.files).not.toContain('emulator/')
})

test.each(Object.entries(TARGETS))('npm/ package for %s', (_triple, [name, osName, cpu, lib]) => {
  const dir = path.join(ROOT, 'npm', name)
  const p = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'))
  const file = `wx-cloud-openapi.${name}.node`
  expect(p).toMatchObject({ name: `wx-cloud-openapi-${name}`, version: pkg.version, main: file, files: [file], os: [osName], cpu: [cpu], license: pkg.license })
  if (lib) expect(p.libc).toEqual([lib])
  else expect(p.libc).toBeUndefined()
  expect(fs.readFileSync(path.join(dir, 'README.md'), 'utf8')).toContain(`wx-cloud-openapi-${name}`)
  // The generated loader looks for this file next to it, then this package.
  const loader = fs.readFileSync(path.join(ROOT, 'binding.js'), 'utf8')
  expect(loader).toContain(`require('./${file}')`)
  expect(loader).toContain(`require('wx-cloud-openapi-${name}')`)
})

test('this machine: its platform name matches the addon the build made', () => {
  const name = platformName()
  expect(fs.existsSync(path.join(ROOT, `wx-cloud-openapi.${name}.node`))).toBe(true)
  expect(platformName('linux', 'x64', 'musl')).toBe('linux-x64-musl')
  expect(platformName('linux', 'arm64', 'glibc')).toBe('linux-arm64-gnu')
  expect(platformName('darwin', 'arm64', null)).toBe('darwin-arm64')
  expect(platformName('win32', 'x64', null)).toBe('win32-x64-msvc')
  expect(platformName('freebsd', 'x64', null)).toBe('freebsd-x64')
})

// On Linux with glibc's ldd (this machine, CI, a cloud function); a musl or
// ldd-less system has no such file to read, and the report is then the answer.
const glibcLdd = process.platform === 'linux' && fs.existsSync('/usr/bin/ldd') && !fs.readFileSync('/usr/bin/ldd', 'utf8').includes('musl')
;(glibcLdd ? test : test.skip)('libc() answers from /usr/bin/ldd alone: the process report (milliseconds) is only for systems without it', () => {
  const report = jest.spyOn(process.report, 'getReport')
  try {
    expect(libc()).toBe('glibc')
    expect(platformName()).toBe(`linux-${process.arch}-gnu`)
    expect(report).not.toHaveBeenCalled()
  } finally {
    report.mockRestore()
  }
})

describe('no addon that fits', () => {
  let dir
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wx-cloud-openapi-noaddon-'))
  })
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }))

  test('the loader names the platform, arch, libc, the file and package it looked for, and how to build', () => {
    // The generated loader alone, without an addon beside it or a platform package.
    fs.copyFileSync(path.join(ROOT, 'binding.js'), path.join(dir, 'binding.js'))
    let err
    try {
      loadBinding(dir)
    } catch (e) {
      err = e
    }
    expect(err).toBeInstanceOf(Error)
    expect(err.code).toBe('WX_CLOUD_OPENAPI_NO_ADDON')
    const name = platformName()
    expect(err.message).toContain(`platform=${process.platform}, arch=${process.arch}`)
    if (process.platform === 'linux') expect(err.message).toContain(`libc=${libc()}`)
    expect(err.message).toContain(path.join(dir, `wx-cloud-openapi.${name}.node`))
    expect(err.message).toContain(`the package wx-cloud-openapi-${name}`)
    expect(err.message).toContain('npm run build')
    expect(err.message).toContain('docs/building.md')
    expect(err.message).toMatch(/Errors:\n {2}- /) // the underlying reasons
    expect(err.cause).toBeDefined()
  })

  test('require() of a checkout with no addon says to build it; of an install with none, names the fixes', () => {
    const { execFileSync } = require('child_process')
    const copy = (into) => {
      fs.mkdirSync(path.join(into, 'lib'), { recursive: true })
      for (const f of ['index.js', 'package.json', 'lib/load.js']) fs.copyFileSync(path.join(ROOT, f), path.join(into, f))
      return into
    }
    const requireError = (pkgDir) =>
      JSON.parse(
        execFileSync(
          process.execPath,
          [
            '-e',
            `try { require(${JSON.stringify(pkgDir)}); console.log('{}') } catch (e) { console.log(JSON.stringify({ code: e.code, message: e.message })) }`,
          ],
          {
            encoding: 'utf8',
            env: { PATH: process.env.PATH },
          },
        ),
      )
    const checkout = requireError(copy(path.join(dir, 'checkout')))
    expect(checkout.code).toBe('WX_CLOUD_OPENAPI_NO_ADDON')
    expect(checkout.message).toContain('has no native addon')
    expect(checkout.message).toContain('npm run build')
    const installed = requireError(copy(path.join(dir, 'app', 'node_modules', 'wx-cloud-openapi')))
    expect(installed.code).toBe('WX_CLOUD_OPENAPI_NO_ADDON')
    expect(installed.message).toContain('npm install --os=linux --cpu=x64 --libc=glibc')
  })

  test('an addon beside index.js that does not load: init() goes on to the generated loader, whose error names every candidate and why', () => {
    const { execFileSync } = require('child_process')
    const pkgDir = path.join(dir, 'broken')
    fs.mkdirSync(path.join(pkgDir, 'lib'), { recursive: true })
    for (const f of ['index.js', 'package.json', 'binding.js', ...fs.readdirSync(path.join(ROOT, 'lib')).map((f) => `lib/${f}`)]) {
      fs.copyFileSync(path.join(ROOT, f), path.join(pkgDir, f))
    }
    const file = path.join(pkgDir, `wx-cloud-openapi.${platformName()}.node`)
    fs.writeFileSync(file, 'not an ELF file')
    const script = `const sdk = require(${JSON.stringify(pkgDir)}); try { sdk.init({ accessToken: 't' }); console.log('{}') } catch (e) { console.log(JSON.stringify({ code: e.code, message: e.message })) }`
    const out = JSON.parse(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8', env: { PATH: process.env.PATH } }))
    expect(out.code).toBe('WX_CLOUD_OPENAPI_NO_ADDON')
    expect(out.message).toContain(file)
    // The loader's own attempt at the file, and at the platform package.
    expect(out.message).toMatch(/\nErrors:\n/)
    expect(out.message).toMatch(new RegExp(`\\n {2}- ${file.replace(/[.\\/]/g, '\\$&')}: (invalid ELF header|file too short)`))
    expect(out.message).toContain(`Cannot find module 'wx-cloud-openapi-${platformName()}'`)
  })

  test('a directory without even the loader says so', () => {
    const empty = fs.mkdtempSync(path.join(dir, 'empty-'))
    expect(() => loadBinding(empty)).toThrow(new RegExp(`${path.join(empty, 'binding.js').replace(/[.\\/]/g, '\\$&')} \\(the loader generated by the build\\)`))
  })
})
