'use strict'
// The Cargo.toml lines the docs give Rust users (```toml blocks of
// README.md and docs/*.md) name the crates as they are. Compiling a crate
// of its own from them would rebuild the whole dependency graph under
// other profile settings (minutes of CI); what can go stale is checked
// here instead:
// - each path dependency, read against a checkout named `wx-cloud-openapi`
//   beside the reader's crate (as the docs say), is a crate of this
//   repository whose package name is the dependency's name;
// - each feature a block names for one of our crates (in its `features`,
//   or in a comment beside it) is a feature of that crate;
// - each crate the Rust blocks right after it use (`use x::…`, `x::…!`,
//   `#[x::…]`) is among its dependencies, and the tokio features they need
//   (`#[tokio::main]`: macros, and rt or rt-multi-thread) are listed.

const fs = require('fs')
const path = require('path')

const ROOT = path.join(__dirname, '..')
const { DOCS, blocksOf } = require('./helpers/doc-blocks')

/** The `[dependencies]`-style lines of a toml block: {name, spec, comment}. */
function dependenciesOf(code) {
  const deps = []
  let inDeps = false
  for (const raw of code.split('\n')) {
    const line = raw.trim()
    const table = /^\[([^\]]+)\]$/.exec(line)
    if (table) {
      inDeps = /(^|\.)(dev-)?dependencies$/.test(table[1])
      continue
    }
    const m = /^([A-Za-z0-9_-]+)\s*=\s*(.*)$/.exec(line)
    if (!inDeps || !m) continue
    const hash = m[2].indexOf('#')
    deps.push({ name: m[1], spec: hash >= 0 ? m[2].slice(0, hash) : m[2], comment: hash >= 0 ? m[2].slice(hash) : '' })
  }
  return deps
}

/** The quoted strings of `features = [...]` in a text. */
const featuresIn = (text) => [...text.matchAll(/features\s*=\s*\[([^\]]*)\]/g)].flatMap((m) => [...m[1].matchAll(/"([^"]+)"/g)].map((f) => f[1]))

/** Package name and feature names of the Cargo.toml at `dir`. */
function manifestOf(dir) {
  // A newline first, so that a table on the first line is found as any other.
  const text = `\n${fs.readFileSync(path.join(dir, 'Cargo.toml'), 'utf8')}`
  const section = (name) => {
    const at = text.indexOf(`\n[${name}]`)
    if (at < 0) return ''
    const rest = text.slice(at + name.length + 3)
    const next = rest.search(/\n\[/)
    return next < 0 ? rest : rest.slice(0, next)
  }
  const name = (/\nname\s*=\s*"([^"]+)"/.exec(`\n${section('package')}`) || [])[1]
  const features = [...section('features').matchAll(/^([A-Za-z0-9_-]+)\s*=/gm)].map((m) => m[1])
  return { name, features }
}

/** The crates a Rust block refers to at its top level of paths. */
function cratesUsedBy(code) {
  const used = new Set()
  for (const m of code.matchAll(/^\s*use\s+([a-z_][a-z0-9_]*)::/gm)) used.add(m[1])
  for (const m of code.matchAll(/#\[([a-z_][a-z0-9_]*)::/g)) used.add(m[1])
  for (const m of code.matchAll(/\b([a-z_][a-z0-9_]*)::[a-z_]+!/g)) used.add(m[1])
  for (const std of ['std', 'core', 'alloc', 'crate', 'self', 'super']) used.delete(std)
  return used
}

const TOML = DOCS.flatMap((file) => {
  const blocks = blocksOf(file)
  return blocks
    .map((b, i) => ({ ...b, after: blocks.slice(i + 1).filter((n) => n.lang === 'rust') }))
    .filter((b) => b.lang === 'toml' && dependenciesOf(b.code).length > 0)
})

test('the docs give Cargo.toml lines (else this suite checks nothing)', () => {
  expect(TOML.map((b) => b.file)).toContain('README.md')
})

describe.each(TOML.map((b) => [`${b.file}:${b.line}`, b]))('%s', (_, block) => {
  const deps = dependenciesOf(block.code)

  test('each path dependency is a crate of this repository, by its package name, with the features named', () => {
    const ours = deps.filter((d) => /path\s*=/.test(d.spec))
    expect(ours.length).toBeGreaterThan(0)
    for (const d of ours) {
      const rel = /path\s*=\s*"([^"]+)"/.exec(d.spec)[1]
      // The reader's crate sits beside a checkout named wx-cloud-openapi.
      const m = /^\.\.\/wx-cloud-openapi\/(.+)$/.exec(rel)
      expect({ dependency: d.name, path: rel, besideCheckout: Boolean(m) }).toEqual({ dependency: d.name, path: rel, besideCheckout: true })
      const dir = path.join(ROOT, m[1])
      expect(fs.existsSync(path.join(dir, 'Cargo.toml'))).toBe(true)
      const manifest = manifestOf(dir)
      expect(manifest.name).toBe(d.name)
      for (const f of featuresIn(d.spec + d.comment))
        expect({ crate: d.name, feature: f, known: manifest.features.includes(f) }).toEqual({ crate: d.name, feature: f, known: true })
    }
  })

  test('the Rust that follows uses only crates it lists, with the tokio features it needs', () => {
    const listed = new Set(deps.map((d) => d.name.replace(/-/g, '_')))
    const code = block.after.map((b) => b.code).join('\n')
    const used = cratesUsedBy(code)
    expect(used.size).toBeGreaterThan(0)
    expect([...used].filter((c) => !listed.has(c))).toEqual([])
    if (/#\[tokio::main/.test(code)) {
      const tokio = featuresIn(deps.find((d) => d.name === 'tokio').spec)
      expect(tokio).toContain('macros')
      const flavor = /#\[tokio::main\(\s*flavor\s*=\s*"current_thread"/.test(code) ? 'rt' : 'rt-multi-thread'
      expect(tokio).toContain(flavor)
    }
  })
})
