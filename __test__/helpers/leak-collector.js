'use strict'

// Collects every text a suite produces that a user could see or log (error
// `message`, `errMsg`, `stack`, debug lines printed with `console.error`,
// emulator answers) and checks it for secret values.
//
//   const leaks = require('./helpers/leak-collector')
//   leaks.captureConsole()            // in beforeAll: debug lines are recorded
//   leaks.secret('my-token')          // a value that must never appear
//   leaks.error(err)                  // message, errMsg, stack
//   leaks.text(String(body))          // anything else
//   leaks.flush('faults')             // writes <tmpdir>/wx-cloud-openapi-leaks-<checkout>/faults.json
//   expect(leaks.find()).toEqual([])
//
// Each suite checks what it collected itself (jest runs files in parallel,
// so no suite can wait for another); the files let a person or CI look at
// everything afterwards, and `check-files` reads them all.

const crypto = require('crypto')
const fs = require('fs')
const os = require('os')
const path = require('path')

/** Secrets of the emulator's defaults (docs/emulator.md) and of the suites. */
const SECRETS = new Set([
  'emulator-test-secret-key',
  'emulator-session-token',
  'emulator-app-secret',
  'emulator-component-secret',
  'emulator-refresh-token',
  'ticket@@@reliability-ticket',
  'hostile-secret-key-9f3b2c',
  'hostile-session-token-77ad',
  'hostile-access-token-5c1e',
  'hostile-authorizer-token-0b42',
  'hostile-app-secret-d2e8',
])

const texts = []
let captured = null

function text(t) {
  if (t !== undefined && t !== null) texts.push(String(t))
}

function error(e) {
  if (e === null || e === undefined) return
  if (typeof e !== 'object') return text(e)
  let message
  try {
    message = e.message
  } catch (_) {
    message = undefined
  }
  text(message)
  text(e.errMsg)
  text(e.stack)
}

function secret(s) {
  if (typeof s === 'string' && s.length >= 4) SECRETS.add(s)
}

/** Record `[wx-cloud-openapi]` lines written with console.error (debug lines). */
function captureConsole() {
  if (captured) return
  captured = console.error
  console.error = (...args) => {
    const line = args.map((a) => (a instanceof Error ? `${a.message}\n${a.stack}` : String(a))).join(' ')
    text(line)
    if (!line.startsWith('[wx-cloud-openapi]')) captured(...args)
  }
}

function releaseConsole() {
  if (captured) console.error = captured
  captured = null
}

/** Every (secret, excerpt) pair found; also any token shaped like the emulator's. */
function find(list = texts, secrets = SECRETS) {
  const found = []
  for (const t of list) {
    for (const s of secrets) {
      const i = t.indexOf(s)
      if (i >= 0) found.push([s, t.slice(Math.max(0, i - 80), i + s.length + 80)])
    }
    // every token the emulator issues looks like XX_ + 64 characters
    const m = /\b[A-Z]{2}_[A-Za-z0-9_]{64}\b/.exec(t)
    if (m) found.push(['emulator-issued token', m[0]])
    if (/access_token=(?!\*\*\*)/.test(t)) found.push(['access_token=', t.slice(0, 200)])
  }
  return found
}

// One directory per checkout: test runs of two checkouts at once (CI beside a
// developer's run) must not clear or read each other's collections.
const CHECKOUT = crypto
  .createHash('sha1')
  .update(path.resolve(__dirname, '..', '..'))
  .digest('hex')
  .slice(0, 12)
const DIR = path.join(os.tmpdir(), `wx-cloud-openapi-leaks-${CHECKOUT}`)

/** Write what this suite collected (and its secrets) for later inspection. */
function flush(suite) {
  fs.mkdirSync(DIR, { recursive: true })
  const file = path.join(DIR, `${suite}.json`)
  fs.writeFileSync(file, JSON.stringify({ suite, at: new Date().toISOString(), secrets: [...SECRETS], texts }))
  return file
}

/**
 * Check every suite's file in DIR against the secrets of all suites
 * together (a token one suite obtained must not show up in another's text).
 */
function checkFiles() {
  const files = (fs.existsSync(DIR) ? fs.readdirSync(DIR) : []).filter((f) => f.endsWith('.json'))
  const data = files.map((f) => JSON.parse(fs.readFileSync(path.join(DIR, f), 'utf8')))
  const all = new Set(data.flatMap((d) => d.secrets))
  return data.map((d) => ({ suite: d.suite, texts: d.texts.length, leaks: find(d.texts, all) }))
}

if (require.main === module) {
  const r = checkFiles()
  console.log(
    JSON.stringify(
      r.map((x) => ({ ...x, leaks: x.leaks.length })),
      null,
      1,
    ),
  )
  process.exit(r.some((x) => x.leaks.length) ? 1 : 0)
}

module.exports = { text, error, secret, captureConsole, releaseConsole, find, flush, checkFiles, texts, SECRETS, DIR }
