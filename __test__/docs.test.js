'use strict'
// Docs cannot drift from the code: every option the core accepts is in
// README's configuration table and in index.d.ts's InitOptions (and nothing
// else is); every errCode the SDK and the emulator produce is in README's
// error table.

const fs = require('fs')
const path = require('path')
const ts = require('typescript')

const ROOT = path.join(__dirname, '..')
const read = (f) => fs.readFileSync(path.join(ROOT, f), 'utf8')
const README = read('README.md')

/** The string list of a Rust `const NAME: &[&str] = &[ … ];`. */
function rustList(source, name) {
  const m = source.match(new RegExp(`const ${name}: &\\[&str\\] = &\\[([\\s\\S]*?)\\];`))
  if (!m) throw new Error(`${name} not found`)
  return [...m[1].matchAll(/"([^"]+)"/g)].map((x) => x[1])
}

/** The lines of a markdown section, from its heading to the next heading of the same level. */
function section(md, heading) {
  const start = md.indexOf(`\n${heading}\n`)
  if (start < 0) throw new Error(`no section ${heading}`)
  const level = heading.split(' ')[0]
  const rest = md.slice(start + heading.length + 2)
  const end = rest.search(new RegExp(`\\n${level} `))
  return end < 0 ? rest : rest.slice(0, end)
}

/** Backticked names in the first column of a markdown table. */
function firstColumnNames(md) {
  return md
    .split('\n')
    .filter((l) => l.startsWith('| `'))
    .flatMap((l) => [...l.split('|')[1].matchAll(/`([A-Za-z.]+)`/g)].map((m) => m[1]))
}

const options = read('crates/core/src/options.rs')
// The options the core reads, as it gives them to the JavaScript layer.
const KNOWN = [...require('../lib/load.js').contract().options]
const IGNORED = rustList(options, 'IGNORED_REFERENCE_OPTIONS')

function initOptionNames() {
  const file = path.join(ROOT, 'index.d.ts')
  const program = ts.createProgram([file], { strict: true, types: ['node'], noEmit: true })
  const checker = program.getTypeChecker()
  const mod = checker.getSymbolAtLocation(program.getSourceFile(file))
  const sym = checker.getExportsOfModule(mod).find((s) => s.name === 'InitOptions')
  return checker.getPropertiesOfType(checker.getDeclaredTypeOfSymbol(sym)).map((p) => p.name)
}

test('the lists were found', () => {
  expect(KNOWN).toContain('timeout')
  expect(KNOWN.length).toBeGreaterThan(20)
  expect(IGNORED).toContain('traceUser')
})

test("README's configuration table is the one index.d.ts's doc comments make (node scripts/options-table.js)", () => {
  const { table, currentTable } = require('../scripts/options-table.js')
  expect(currentTable(README)).toBe(table())
})

test("every accepted option is in README's configuration table, and only those", () => {
  const table = firstColumnNames(section(README, '## Configuration (`init(options)`)'))
  expect(KNOWN.filter((o) => !table.includes(o))).toEqual([])
  expect(table.filter((o) => !KNOWN.includes(o))).toEqual([])
})

test('every accepted option is in InitOptions of index.d.ts; InitOptions promises nothing the core rejects', () => {
  const typed = initOptionNames()
  expect(KNOWN.filter((o) => !typed.includes(o))).toEqual([])
  expect(typed.filter((o) => !KNOWN.includes(o) && !IGNORED.includes(o))).toEqual([])
  expect(IGNORED.filter((o) => !typed.includes(o))).toEqual([])
})

test("docs/modes.md's options table names only accepted options", () => {
  const table = firstColumnNames(section(read('docs/modes.md'), '## Options'))
  expect(table.length).toBeGreaterThan(5)
  expect(table.filter((o) => !KNOWN.includes(o))).toEqual([])
})

test("every errCode the SDK and the emulator produce is in README's error table", () => {
  const rows = section(README, '## Errors')
    .split('\n')
    .filter((l) => /^\| -?\d/.test(l))
  const documented = new Set(rows.flatMap((l) => [...l.split('|')[1].matchAll(/-?\d+/g)].map((m) => Number(m[0]))))
  const codes = read('crates/core/src/codes.rs')
  const gateway = codes.slice(codes.indexOf('pub fn err_code'))
  const fromSdk = [...gateway.slice(0, gateway.indexOf('\n    }\n')).matchAll(/=> (-\d+)/g)].map((m) => Number(m[1]))
  const platform = [-601001, -604100, -604101, -604102, -604103, -604104]
  const wechat = section(read('docs/emulator.md'), '## WeChat door')
  const fromEmulator = [...wechat.matchAll(/(?<![\w.-])(-?\d{5}|-1000|-1)(?![\w.])/g)].map((m) => Number(m[1]))
  expect(fromSdk.length).toBeGreaterThan(5)
  expect(fromEmulator).toEqual(expect.arrayContaining([40001, 43002, 61023, -1000]))
  const missing = [...new Set([...fromSdk, ...platform, ...fromEmulator])].filter((c) => !documented.has(c))
  expect(missing).toEqual([])
})
