'use strict'
// README's `init(options)` table, made from index.d.ts: each option's doc
// lives once, as the JSDoc of its property in `BaseInitOptions` or
// `ManagedThirdPartyOptions` (the text is the "meaning" column, `@default`
// the "default" column; properties without a comment of their own share the
// row of the one before, as `secretId`, `secretKey`, `sessionToken` do).
// The options wx-server-sdk has and we accept and ignore (their names in
// options.rs's IGNORED_REFERENCE_OPTIONS) are not listed.
//
//   node scripts/options-table.js          rewrite README.md's table
//   require('./options-table.js').table()  the table's markdown (docs.test.js
//                                          compares it with README's)

const fs = require('fs')
const path = require('path')

const ROOT = path.join(__dirname, '..')
const README = path.join(ROOT, 'README.md')
const HEADING = '## Configuration (`init(options)`)'
const INTERFACES = ['BaseInitOptions', 'ManagedThirdPartyOptions']

/** The names of a Rust `const NAME: &[&str] = &[ … ];` in options.rs. */
function ignoredOptions() {
  const text = fs.readFileSync(path.join(ROOT, 'crates/core/src/options.rs'), 'utf8')
  const m = /const IGNORED_REFERENCE_OPTIONS: &\[&str\] = &\[([^\]]*)\]/.exec(text)
  if (!m) throw new Error('IGNORED_REFERENCE_OPTIONS not found in crates/core/src/options.rs')
  return [...m[1].matchAll(/"([^"]+)"/g)].map((x) => x[1])
}

/** Rows `{ names, meaning, default }` in the order index.d.ts declares them. */
function rows() {
  const ts = require('typescript')
  const file = path.join(ROOT, 'index.d.ts')
  const source = ts.createSourceFile(file, fs.readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true)
  const ignored = new Set(ignoredOptions())
  const out = []
  for (const name of INTERFACES) {
    const decl = source.statements.find((s) => ts.isInterfaceDeclaration(s) && s.name.text === name)
    if (!decl) throw new Error(`interface ${name} not found in index.d.ts`)
    let last = null
    for (const member of decl.members) {
      if (!ts.isPropertySignature(member)) continue
      const prop = member.name.getText(source)
      const docs = ts.getJSDocCommentsAndTags(member).filter(ts.isJSDoc)
      if (docs.length === 0) {
        if (last === null) throw new Error(`index.d.ts: ${name}.${prop} needs a doc comment (the first option of a group)`)
        last.names.push(prop)
        continue
      }
      const doc = docs[docs.length - 1]
      const tag = (doc.tags || []).find((t) => t.tagName.text === 'default')
      last = {
        names: [prop],
        meaning: oneLine(ts.getTextOfJSDocComment(doc.comment)),
        default: tag ? oneLine(ts.getTextOfJSDocComment(tag.comment)) : '',
      }
      if (ignored.has(prop)) last.ignored = true
      out.push(last)
    }
  }
  return out.filter((r) => !r.ignored)
}

const oneLine = (text) => (text || '').replace(/\s+/g, ' ').replace(/\|/g, '\\|').trim()

/** The table's markdown (header included, no trailing newline). */
function table() {
  const lines = ['| option | default | meaning |', '|---|---|---|']
  for (const r of rows()) lines.push(`| ${r.names.map((n) => `\`${n}\``).join(', ')} | ${r.default} | ${r.meaning} |`)
  return lines.join('\n')
}

/** Where README's table is: `[start, end)` of its lines. */
function tableSpan(readme) {
  const at = readme.indexOf(HEADING)
  if (at === -1) throw new Error(`README.md has no "${HEADING}" section`)
  const start = readme.indexOf('\n| option |', at) + 1
  if (start === 0) throw new Error('README.md: the configuration section has no table')
  let end = start
  while (readme.startsWith('|', end)) end = readme.indexOf('\n', end) + 1
  return [start, end]
}

/** README's text with its table replaced by `markdown`. */
function withTable(readme, markdown) {
  const [start, end] = tableSpan(readme)
  return `${readme.slice(0, start)}${markdown}\n${readme.slice(end)}`
}

/** The table README.md has now. */
function currentTable(readme) {
  const [start, end] = tableSpan(readme)
  return readme.slice(start, end).trimEnd()
}

module.exports = { table, withTable, currentTable }

if (require.main === module) {
  const readme = fs.readFileSync(README, 'utf8')
  const next = withTable(readme, table())
  if (next !== readme) fs.writeFileSync(README, next)
  console.log(next === readme ? 'README.md: the options table is up to date' : 'README.md: options table rewritten from index.d.ts')
}
