'use strict'
// Every ```js, ```sh and ```rust block of README.md and docs/*.md is run, as
// written, against the emulator — or says in the doc source why not, or
// which test runs it. Right before a block (blank lines aside), one of:
//
//   <!-- not run: {reason} -->
//   <!-- run by __test__/{suite}.test.js -->            (that suite reads this doc)
//   <!-- excerpt of {file}, run by __test__/{suite}.test.js -->   (its lines are in {file}, in order)
//
// Without a marker this suite runs the block:
// - js: as a file of its own (`.mjs` when it imports, else CommonJS), inside
//   this checkout so `wx-cloud-openapi` resolves to it; a module that exports
//   `main` (a cloud function) has `main({})` called, as the platform does.
// - sh: with bash -e; `npx wx-cloud-openapi` is this checkout's cli.js and
//   `wx-cloud-emulator` the crate's binary. A line that starts an emulator
//   ("leave it running") runs in the background and its `export` lines are
//   pasted into the shell once it prints them, as the docs tell a reader.
//   A port an emulator line listens on (`--port 8080`) is replaced by a free
//   one, there and where the block addresses it (`127.0.0.1:8080`): the
//   port the docs name may be taken here.
// Both get the environment a reader gets from an emulator's export lines
// (a cloud function's variables, WX_API_BASE_URL, the emulator's app as
// WX_APPID / WX_APPSECRET): nothing goes to WeChat. A run passes when it
// exits 0 (an unhandled rejection fails it), and a block that calls
// `openapi` must have reached the emulator.
//
// Every js block, run or not, is CommonJS without top-level `await` or an ES
// module: a reader can paste any of them into a file.

const fs = require('fs')
const os = require('os')
const path = require('path')
const { spawn, spawnSync } = require('child_process')
const ts = require('typescript')
const sdk = require('..')
// A port nothing listens on now (the OS's pick for port 0).
const { freePort } = require('./helpers/redis')
const { DOCS, blocksOf } = require('./helpers/doc-blocks')

const ROOT = path.join(__dirname, '..')
const RUN_LANGS = ['js', 'sh', 'rust']
const WORK = path.join(ROOT, 'target', 'doc-snippets')
const RUN_TIMEOUT_MS = 120_000

const ALL = DOCS.flatMap(blocksOf)
const BLOCKS = ALL.filter((b) => RUN_LANGS.includes(b.lang))
const label = (b) => `${b.file}:${b.line} (${b.lang})`

/** What the marker asks: { kind: 'run' | 'skip' | 'suite' | 'excerpt', … }, or an error text. */
function planOf(b) {
  if (b.marker === null || !/^(not run|run by|excerpt of)\b/.test(b.marker)) return { kind: 'run' }
  let m = /^not run: (.{12,})$/.exec(b.marker)
  if (m) return { kind: 'skip', reason: m[1] }
  m = /^run by (__test__\/[\w.-]+\.test\.js)\b/.exec(b.marker)
  if (m) return { kind: 'suite', suite: m[1] }
  m = /^excerpt of ([\w./-]+), run by (__test__\/[\w.-]+\.test\.js)\b/.exec(b.marker)
  if (m) return { kind: 'excerpt', source: m[1], suite: m[2] }
  return {
    kind: 'bad',
    error: `${label(b)}: unreadable marker "<!-- ${b.marker} -->" (not run: {a reason} | run by __test__/… | excerpt of {file}, run by __test__/…)`,
  }
}

/** Whether a js block is an ES module (it imports or exports). */
function isModule(code) {
  const sf = ts.createSourceFile('x.mjs', code, ts.ScriptTarget.Latest, true, ts.ScriptKind.JS)
  return sf.statements.some((s) => ts.isImportDeclaration(s) || ts.isExportDeclaration(s) || ts.isExportAssignment(s))
}

/** `await` (or `for await`) outside any function: top-level await. */
function topLevelAwait(code) {
  const sf = ts.createSourceFile('x.js', code, ts.ScriptTarget.Latest, true, ts.ScriptKind.JS)
  let found = null
  const visit = (node, inFunction) => {
    if (found) return
    const fn = inFunction || ts.isFunctionLike(node)
    if (!fn && (ts.isAwaitExpression(node) || (ts.isForOfStatement(node) && node.awaitModifier))) {
      found = sf.getLineAndCharacterOfPosition(node.getStart()).line + 1
      return
    }
    ts.forEachChild(node, (c) => visit(c, fn))
  }
  visit(sf, false)
  return found
}

describe('every js, sh and rust block is run, or says why not', () => {
  test('the docs were read', () => {
    expect(DOCS).toEqual(expect.arrayContaining(['README.md', 'docs/emulator.md', 'docs/third-party.md']))
    expect(BLOCKS.length).toBeGreaterThan(30)
  })

  test('every marker is readable; every suite named exists and reads the doc; every excerpt is in its file', () => {
    const problems = []
    for (const b of BLOCKS) {
      const plan = planOf(b)
      if (plan.kind === 'bad') problems.push(plan.error)
      if (plan.kind === 'suite' || plan.kind === 'excerpt') {
        const suite = path.join(ROOT, plan.suite)
        if (!fs.existsSync(suite)) problems.push(`${label(b)}: ${plan.suite} does not exist`)
        else if (!fs.readFileSync(suite, 'utf8').includes(plan.kind === 'suite' ? b.file : plan.source))
          problems.push(`${label(b)}: ${plan.suite} does not name ${plan.kind === 'suite' ? b.file : plan.source}`)
      }
      if (plan.kind === 'excerpt') {
        const source = path.join(ROOT, plan.source)
        if (!fs.existsSync(source)) {
          problems.push(`${label(b)}: ${plan.source} does not exist`)
          continue
        }
        const have = fs
          .readFileSync(source, 'utf8')
          .split('\n')
          .map((l) => l.trim())
        let at = 0
        for (const l of b.code
          .split('\n')
          .map((x) => x.trim())
          .filter(Boolean)) {
          const found = have.indexOf(l, at)
          if (found < 0) {
            problems.push(`${label(b)}: "${l}" is not in ${plan.source} (in this order)`)
            break
          }
          at = found + 1
        }
      }
    }
    expect(problems).toEqual([])
  })

  test('no js block is CommonJS with top-level await', () => {
    const problems = BLOCKS.filter((b) => b.lang === 'js' && !isModule(b.code))
      .map((b) => [b, topLevelAwait(b.code)])
      .filter(([, line]) => line !== null)
      .map(([b, line]) => `${label(b)}: top-level await on line ${line} of the block (use an async function, or import: an ES module)`)
    expect(problems).toEqual([])
  })

  test('the checks above catch what they look for', () => {
    expect(topLevelAwait("const c = require('x')\nawait c.f()\n")).toBe(2)
    expect(topLevelAwait('async function main() { await f() }\nmain()\n')).toBeNull()
    expect(isModule("import { init } from 'wx-cloud-openapi'\nawait f()\n")).toBe(true)
    expect(planOf({ marker: 'not run: why' }).kind).toBe('bad') // a reason of a few words at least
    expect(planOf({ marker: 'not run: it deploys to a real cloud function' }).kind).toBe('skip')
    expect(planOf({ marker: 'some other comment' }).kind).toBe('run')
    expect(disallowed('npm ci && npm start\nnpx wx-cloud-openapi env\n# a comment\n')).toEqual(['npm ci && npm start'])
    const fences = blocksOf('README.md').filter((b) => b.lang === 'js')
    expect(fences.length).toBeGreaterThan(3)
  })

  test("an emulator line's fixed port is replaced by the free one, where it listens and where the block addresses it", () => {
    const code = 'wx-cloud-emulator --port 8787 &\nE=http://127.0.0.1:8787/__emulator\ncurl -s $E/x -d 18787\nnpx wx-cloud-openapi emulator --port 0\n'
    expect(fixedPorts(code)).toEqual(['8787'])
    const script = shellScript(code, { 8787: '40001' })
    expect(script).toContain('wx-cloud-emulator --port 40001 >')
    expect(script).toContain('E=http://127.0.0.1:40001/__emulator')
    expect(script).toContain('-d 18787')
    expect(script).not.toMatch(/[^1]8787/)
  })
})

// ---------------------------------------------------------------- running

let emu
let env
let shims

function snippetDir(b) {
  const dir = path.join(WORK, `${b.file.replace(/[/.]/g, '_')}_${b.line}`)
  fs.rmSync(dir, { recursive: true, force: true })
  fs.mkdirSync(dir, { recursive: true })
  return dir
}

/** Run a program; resolve { status, stdout, stderr }, its whole process group killed at the end. */
function run(cmd, args, opts) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { ...opts, detached: true, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    const kill = () => {
      try {
        process.kill(-child.pid, 'SIGKILL')
      } catch (_) {}
    }
    const timer = setTimeout(() => {
      stderr += `\n(killed after ${RUN_TIMEOUT_MS} ms)`
      kill()
    }, RUN_TIMEOUT_MS)
    child.on('close', (status) => {
      clearTimeout(timer)
      kill() // anything it left in the background (an emulator started with `&`)
      resolve({ status, stdout, stderr })
    })
  })
}

const EMULATOR_LINE = /^(npx wx-cloud-openapi emulator|wx-cloud-emulator|cargo run (-q )?-p wx-cloud-emulator)\b/
// What an sh block run here may call: this package's CLI, the emulator, curl and
// shell built-ins. Anything else (npm install, a build) must be marked not run.
const SH_ALLOWED = /^(npx wx-cloud-openapi\b|wx-cloud-emulator\b|cargo run (-q )?-p wx-cloud-emulator\b|curl\b|export\b|echo\b|[A-Z_]+=\S*$)/

/** The commands of an sh block that this suite will not run. */
function disallowed(code) {
  return code
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#') && !SH_ALLOWED.test(l))
}

/**
 * The fixed ports an sh block's emulator lines listen on (`--port 8080`).
 * The block runs with a free port in each one's place (shellScript): a port
 * the docs name may be taken on the machine that runs this suite, and a
 * test must not depend on that.
 */
function fixedPorts(code) {
  const ports = new Set()
  for (const line of code.split('\n')) {
    if (!EMULATOR_LINE.test(line.trim())) continue
    for (const m of line.matchAll(/--port\s+(\d+)/g)) if (m[1] !== '0') ports.add(m[1])
  }
  return [...ports]
}

/**
 * The shell text run for an sh block: emulator lines in the background, their
 * exports pasted, and each port of `ports` (fixed → free) replaced where an
 * emulator line listens on it and where the block addresses it.
 */
function shellScript(code, ports = {}) {
  for (const [fixed, free] of Object.entries(ports)) {
    code = code.replace(new RegExp(`(--port\\s+|//(?:127\\.0\\.0\\.1|localhost):)${fixed}\\b`, 'g'), `$1${free}`)
  }
  const out = ['set -e', 'export EMU_LOG="$PWD/emulator.log"']
  for (const line of code.split('\n')) {
    const t = line.trim()
    if (EMULATOR_LINE.test(t)) {
      const command = t.replace(/\s+#.*$/, '').replace(/\s*&\s*$/, '')
      out.push(
        `${command} > "$EMU_LOG" 2>&1 &`,
        'for _ in $(seq 600); do grep -q "^export WX_API_BASE_URL" "$EMU_LOG" 2>/dev/null && break; sleep 0.1; done',
        'grep -q "^export WX_API_BASE_URL" "$EMU_LOG" || { cat "$EMU_LOG" >&2; exit 97; }',
        'eval "$(grep "^export " "$EMU_LOG")"',
      )
    } else {
      out.push(line)
    }
  }
  return `${out.join('\n')}\n`
}

const RUNNABLE = BLOCKS.filter((b) => planOf(b).kind === 'run')

describe('the blocks without a marker run against the emulator', () => {
  beforeAll(async () => {
    emu = await sdk.startEmulator()
    const app = { WX_APPID: 'wx0emulatorapp0001', WX_APPSECRET: 'emulator-app-secret' }
    const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(TENCENTCLOUD_|WX_|TCB_|SCF_|DEBUG$|NODE_OPTIONS$)/.test(k)))
    env = { ...clean, ...emu.cloudEnv(), WX_API_BASE_URL: emu.httpsBaseUrl, ...app }
    // `npx wx-cloud-openapi …` is this checkout's cli.js; `wx-cloud-emulator`
    // (and `cargo run -p wx-cloud-emulator --`) the crate's binary; npm refuses.
    shims = path.join(WORK, 'bin')
    fs.mkdirSync(shims, { recursive: true })
    const binary = path.join(ROOT, 'target', 'debug', 'wx-cloud-emulator')
    const shim = (name, body) => {
      fs.writeFileSync(path.join(shims, name), `#!/bin/sh\n${body}\necho "docs-snippets: $0 $* is not run here" >&2; exit 96\n`)
      fs.chmodSync(path.join(shims, name), 0o755)
    }
    shim('npx', `if [ "$1" = wx-cloud-openapi ]; then shift; exec "${process.execPath}" "${path.join(ROOT, 'cli.js')}" "$@"; fi`)
    shim('npm', '')
    shim(
      'cargo',
      `if [ "$1" = run ]; then shift; [ "$1" = -q ] && shift; if [ "$1 $2 $3" = "-p wx-cloud-emulator --" ]; then shift 3; exec "${binary}" "$@"; fi; fi`,
    )
    if (RUNNABLE.some((b) => b.lang === 'sh' && /^wx-cloud-emulator\b/m.test(b.code))) {
      const built = spawnSync('cargo', ['build', '-q', '-p', 'wx-cloud-emulator'], { cwd: ROOT, encoding: 'utf8' })
      if (built.status !== 0) throw new Error(`cargo build -p wx-cloud-emulator failed: ${built.stderr}`)
    }
    fs.rmSync(path.join(shims, 'wx-cloud-emulator'), { force: true })
    fs.symlinkSync(binary, path.join(shims, 'wx-cloud-emulator'))
    env.PATH = `${shims}${path.delimiter}${process.env.PATH}`
  }, 600_000)

  afterAll(async () => {
    if (emu) await emu.close()
  })

  test('there are blocks to run', () => {
    expect(RUNNABLE.length).toBeGreaterThan(5)
  })

  test.each(RUNNABLE.map((b) => [label(b), b]))(
    '%s',
    async (_name, b) => {
      const dir = snippetDir(b)
      const calls = () => Object.values(emu.stats().calls).reduce((a, n) => a + n, 0)
      const before = calls()
      let r
      if (b.lang === 'js') {
        const file = path.join(dir, isModule(b.code) ? 'snippet.mjs' : 'snippet.js')
        fs.writeFileSync(file, b.code)
        const main = path.join(dir, 'run-main.js')
        fs.writeFileSync(
          main,
          "'use strict'\nconst m = require('./snippet.js')\n" +
            "if (m && typeof m.main === 'function') Promise.resolve(m.main({})).then((r) => console.log(JSON.stringify(r)))\n",
        )
        r = await run(process.execPath, [file.endsWith('.mjs') ? file : main], { cwd: dir, env })
      } else if (b.lang === 'sh') {
        // Outside the checkout: nothing in it can act on this repository.
        expect(disallowed(b.code)).toEqual([])
        const shDir = fs.mkdtempSync(path.join(os.tmpdir(), 'doc-snippet-'))
        const ports = {}
        for (const fixed of fixedPorts(b.code)) ports[fixed] = String(await freePort())
        fs.writeFileSync(path.join(shDir, 'snippet.sh'), shellScript(b.code, ports))
        r = await run('bash', [path.join(shDir, 'snippet.sh')], { cwd: shDir, env })
        fs.rmSync(shDir, { recursive: true, force: true })
      } else {
        throw new Error(`${label(b)}: a ${b.lang} block runs only through a suite: mark it "excerpt of …" or "run by …"`)
      }
      expect({ status: r.status, stderr: r.status === 0 ? '' : r.stderr, stdout: r.status === 0 ? '' : r.stdout }).toEqual({
        status: 0,
        stderr: '',
        stdout: '',
      })
      // A block that calls an API (and starts no emulator of its own) reached this emulator.
      const ownEmulator = /startEmulator/.test(b.code) || b.code.split('\n').some((l) => EMULATOR_LINE.test(l.trim()))
      if (/\bopenapi\b|wx-cloud-openapi call\b/.test(b.code) && !ownEmulator) {
        expect(calls()).toBeGreaterThan(before)
      }
    },
    RUN_TIMEOUT_MS + 10_000,
  )
})
