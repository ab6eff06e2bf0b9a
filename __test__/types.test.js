'use strict'
// The public types: __test__/types/usage.ts (every mode, the emulator, and
// misuse marked @ts-expect-error) must pass `tsc --noEmit --strict`, and
// index.d.ts must declare exactly what index.js exports.

const fs = require('fs')
const path = require('path')
const { spawnSync } = require('child_process')
const ts = require('typescript')

const ROOT = path.join(__dirname, '..')

test('usage.ts type-checks under tsc --noEmit --strict (and every @ts-expect-error is an error)', () => {
  // lib/emulator.d.ts takes its shapes from the generated binding.d.ts.
  expect(fs.existsSync(path.join(ROOT, 'binding.d.ts'))).toBe(true)
  const tsc = require.resolve('typescript/bin/tsc')
  const r = spawnSync(process.execPath, [tsc, '-p', path.join(__dirname, 'types', 'tsconfig.json'), '--noEmit', '--strict', '--pretty', 'false'], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 60000,
  })
  expect(r.stdout + r.stderr).toBe('')
  expect(r.status).toBe(0)
}, 60000)

test('index.d.ts declares exactly the values index.js exports', () => {
  const file = path.join(ROOT, 'index.d.ts')
  const program = ts.createProgram([file], { strict: true, types: ['node'], noEmit: true })
  const checker = program.getTypeChecker()
  const moduleSymbol = checker.getSymbolAtLocation(program.getSourceFile(file))
  const declared = checker
    .getExportsOfModule(moduleSymbol)
    .filter((s) => {
      if (!(s.flags & ts.SymbolFlags.Alias)) return (s.flags & ts.SymbolFlags.Value) !== 0
      // `export type { Emulator }`: a class, but exported as a type only
      const typeOnly = (s.declarations || []).some((d) => d.isTypeOnly || d.parent?.parent?.isTypeOnly)
      return !typeOnly && (checker.getAliasedSymbol(s).flags & ts.SymbolFlags.Value) !== 0
    })
    .map((s) => s.name)
    .sort()
  expect(declared).toEqual(Object.keys(require('..')).sort())
})

test('the published files include the declarations the types refer to', () => {
  const { files, types } = require('../package.json')
  expect(types).toBe('index.d.ts')
  for (const f of ['index.d.ts', 'binding.d.ts', 'lib/']) expect(files).toContain(f)
  expect(fs.readFileSync(path.join(ROOT, 'lib', 'emulator.d.ts'), 'utf8')).toMatch(/from '\.\.\/binding'/)
})

test('every API typed in index.d.ts is a row of the path table', () => {
  const file = path.join(ROOT, 'index.d.ts')
  const program = ts.createProgram([file], { strict: true, types: ['node'], noEmit: true })
  const checker = program.getTypeChecker()
  const mod = checker.getSymbolAtLocation(program.getSourceFile(file))
  const openApi = checker.getDeclaredTypeOfSymbol(checker.getExportsOfModule(mod).find((s) => s.name === 'OpenApi'))
  const typed = []
  for (const ns of checker.getPropertiesOfType(openApi)) {
    const nsType = checker.getTypeOfSymbolAtLocation(ns, program.getSourceFile(file))
    for (const fn of checker.getPropertiesOfType(nsType)) typed.push(`${ns.name}.${fn.name}`)
  }
  expect(typed).toEqual(
    expect.arrayContaining([
      'tcb.createenvandresource',
      'wxacode.getUnlimited',
      'wxacode.get',
      'wxacode.createQRCode',
      'subscribeMessage.send',
      'security.msgSecCheck',
      'security.imgSecCheck',
      'customerServiceMessage.uploadTempMedia',
      'customerServiceMessage.send',
      'urlscheme.generate',
      'urllink.generate',
      'phonenumber.getPhoneNumber',
      'midas.getBalance',
      'midas.pay',
      'midas.cancelPay',
      'midas.present',
    ]),
  )
  const table = new Set(require('../lib/load.js').loadBinding().pathTableApis())
  expect(typed.filter((api) => !table.has(api))).toEqual([])
})
