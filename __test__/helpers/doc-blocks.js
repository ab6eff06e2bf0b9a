'use strict'
// The docs the suites read (README.md and docs/*.md) and their fenced
// blocks: docs-snippets.test.js runs them, docs-cargo-toml.test.js checks
// their Cargo.toml lines.

const fs = require('fs')
const path = require('path')

const ROOT = path.join(__dirname, '..', '..')

/** README.md and every docs/*.md, relative to the repository. */
const DOCS = [
  'README.md',
  ...fs
    .readdirSync(path.join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
]

/** Every fenced block of a markdown file: lang, code, 1-based line, and the marker comment before it. */
function blocksOf(file) {
  const lines = fs.readFileSync(path.join(ROOT, file), 'utf8').split('\n')
  const out = []
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\S*)\s*$/.exec(lines[i])
    if (!open) continue
    let end = i + 1
    while (end < lines.length && !/^```\s*$/.test(lines[end])) end++
    let before = i - 1
    while (before >= 0 && lines[before].trim() === '') before--
    const marker = before >= 0 ? /^<!--\s*(.*?)\s*-->$/.exec(lines[before].trim()) : null
    out.push({ file, line: i + 1, lang: open[1], code: `${lines.slice(i + 1, end).join('\n')}\n`, marker: marker ? marker[1] : null })
    i = end
  }
  return out
}

module.exports = { DOCS, blocksOf }
