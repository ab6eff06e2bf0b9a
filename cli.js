#!/usr/bin/env node
'use strict'
// npx wx-cloud-openapi <command>

// The Node.js version check is index.js's first statement. Any other failure
// to load it (no addon for this platform) is reported by the command that
// needs the library, not here: `--help` and `--version` work without one.
try {
  require('./index.js')
} catch (e) {
  if (e && e.code === 'WX_CLOUD_OPENAPI_NODE_TOO_OLD') {
    process.stderr.write(`wx-cloud-openapi: ${e.message}\n`)
    process.exit(3)
  }
}

const EXIT = { OK: 0, CALL_FAILED: 1, USAGE: 2, CONFIG: 3 }

const EXIT_CODES = `Exit codes:
  0  success
  1  the API call failed (errCode and errMsg on stderr)
  2  usage error (unknown command or option, bad JSON)
  3  configuration error (bad options, no usable credentials, no native addon)
  70 internal error of the CLI (a bug: please report it)
`

const USAGE = `Usage: wx-cloud-openapi <command> [options]

Commands:
  call <api> [json]  Call openapi.<api> with the JSON params and print the
                     result as JSON (credentials as in the library: flags,
                     else the environment).
  env                Show which calling mode and which credentials (redacted)
                     a call would use, and why.
  emulator           Run the local emulator of the cloud-base gateway and the
                     WeChat HTTPS API until SIGINT/SIGTERM.

  wx-cloud-openapi <command> --help   help on one command
  wx-cloud-openapi --version          the package's version

${EXIT_CODES}`

const CREDENTIAL_FLAGS = `Credentials and settings (each is an init() option; without flags the
environment decides, exactly as in the library):
  --mode M                    cloud | https | thirdparty (default: chosen from
                              the credentials, see "wx-cloud-openapi env")
  cloud call (default inside a cloud function or with TENCENTCLOUD_SECRETID/KEY):
  --env ID                    environment id (default: the function's own on SCF)
  --service-url URL           gateway URL, e.g. an emulator's {url}/admin
                              (default: URL of TCB_CONTEXT_CNFG, else built)
  --region R                  gateway region (default: TENCENTCLOUD_REGION)
  --secret-id ID              Tencent Cloud secretId (prefer TENCENTCLOUD_SECRETID)
  --secret-key KEY            Tencent Cloud secretKey (prefer TENCENTCLOUD_SECRETKEY)
  --session-token T           (prefer TENCENTCLOUD_SESSIONTOKEN)
  HTTPS (also picked by WX_APPID + WX_APPSECRET in the environment):
  --appid ID                  appid, token managed by the SDK (prefer WX_APPID)
  --secret S                  app secret (prefer WX_APPSECRET)
  --token-kind K              stable (default) | classic
  --access-token T            your access_token instead of appid + secret
  third-party platform:
  --authorizer-access-token T your authorizer_access_token
  HTTPS and third-party:
  --api-base-url URL          WeChat API base URL, e.g. an emulator's
                              httpsBaseUrl (default: WX_API_BASE_URL, else
                              https://api.weixin.qq.com)
  --proxy URL                 http(s):// proxy
  all modes:
  --timeout MS                ms a call may take (default 15000)
  --retry-on-busy N           retry -1/-1000 answers up to N times (default 0)
  --debug                     one redacted line per call on stderr
`

const CALL_USAGE = `Usage: wx-cloud-openapi call <api> [json|-] [options]

Call openapi.<api> (e.g. tcb.createenvandresource) with the params given as a
JSON object (or read from stdin with "-"; none: no params), and print the
result as JSON on stdout. On failure the error's message and a JSON line
{"errCode":…,"errMsg":…} go to stderr.

  wx-cloud-openapi call tcb.createenvandresource '{"type":"CreatePostpayPackage","alias":"dev"}'

Against a running emulator ("wx-cloud-openapi emulator" in another shell):
  # cloud call: paste the export lines the emulator printed, then
  wx-cloud-openapi call tcb.createenvandresource '{"type":"CreatePostpayPackage","alias":"dev"}'
  # HTTPS with the emulator's test app:
  wx-cloud-openapi call tcb.createenvandresource '{"type":"CreatePostpayPackage","alias":"dev"}' \\
      --mode https --appid wx0emulatorapp0001 --secret emulator-app-secret \\
      --api-base-url http://127.0.0.1:PORT

${CREDENTIAL_FLAGS}  --no-convert-case           send and return keys as they are (no
                              camelCase <-> snake_case conversion)
  -h, --help                  show this help

Flag values show in the process list: pass secrets through the environment.

${EXIT_CODES}`

const ENV_USAGE = `Usage: wx-cloud-openapi env [options]

Show which calling mode a call would use, why, and with which settings and
where each comes from (secrets as ***, ids shortened as AKID…1234). The
decision is the library's own (the Rust core's mode selection); nothing is
sent.

  --json                      print the explanation as JSON
${CREDENTIAL_FLAGS}  -h, --help                  show this help

Flag values show in the process list: pass secrets through the environment.

Exit codes:
  0  a call would be sent
  2  usage error
  3  configuration error: a call would fail before sending (the reason is shown)
`

/**
 * The emulator's usage: its options are described once, in the emulator
 * crate (the `wx-cloud-emulator` binary prints the same text), and read
 * through the addon the command needs anyway.
 */
function emulatorUsage() {
  const options = require('./lib/load.js').loadEmulatorBinding().emulatorOptionsHelp()
  return `Usage: wx-cloud-openapi emulator [options]
${options}Exit codes:
  0  stopped by SIGINT/SIGTERM
  2  usage error
  3  the emulator could not start (port in use, bad data file, no native addon)
`
}

class UsageError extends Error {}

/** `--flag value` / `--flag=value` / boolean flags → options; the rest are positionals. */
function parseArgs(args, valueFlags, boolFlags = {}) {
  const opts = {}
  const positionals = []
  for (let i = 0; i < args.length; i++) {
    let arg = args[i]
    if (arg === '-' || !arg.startsWith('-')) {
      positionals.push(arg)
      continue
    }
    let value
    const eq = arg.indexOf('=')
    if (arg.startsWith('--') && eq > 0) {
      value = arg.slice(eq + 1)
      arg = arg.slice(0, eq)
    }
    if (boolFlags[arg]) {
      if (value !== undefined) throw new UsageError(`${arg} takes no value`)
      boolFlags[arg](opts)
      continue
    }
    const key = valueFlags[arg]
    if (!key) throw new UsageError(`unknown option ${arg}`)
    if (value === undefined) {
      if (i + 1 >= args.length) throw new UsageError(`${arg} needs a value`)
      value = args[++i]
    }
    // A key ending in [] collects every occurrence.
    if (key.endsWith('[]')) {
      const list = key.slice(0, -2)
      opts[list] = opts[list] || []
      opts[list].push(value)
    } else opts[key] = value
  }
  return { opts, positionals }
}

const OPTION_FLAGS = {
  '--mode': 'mode',
  '--env': 'env',
  '--service-url': 'serviceUrl',
  '--region': 'region',
  '--secret-id': 'secretId',
  '--secret-key': 'secretKey',
  '--session-token': 'sessionToken',
  '--appid': 'appid',
  '--secret': 'secret',
  '--token-kind': 'tokenKind',
  '--access-token': 'accessToken',
  '--authorizer-access-token': 'authorizerAccessToken',
  '--api-base-url': 'apiBaseUrl',
  '--proxy': 'proxy',
  '--timeout': 'timeout',
  '--retry-on-busy': 'retryOnBusy',
}

/** Parsed flags → init() options (numbers checked here: a typo is a usage error). */
function initOptions(flags) {
  const out = { ...flags }
  if (out.timeout !== undefined) {
    if (!/^\d+$/.test(out.timeout)) throw new UsageError(`--timeout must be a number of milliseconds, got ${out.timeout}`)
    out.timeout = Number(out.timeout)
  }
  if (out.retryOnBusy !== undefined) {
    if (!/^\d+$/.test(out.retryOnBusy)) throw new UsageError(`--retry-on-busy must be an integer, got ${out.retryOnBusy}`)
    out.retry = { onBusy: Number(out.retryOnBusy) }
    delete out.retryOnBusy
  }
  delete out.convertCase
  delete out.json
  return out
}

const wantsHelp = (args) => args.includes('-h') || args.includes('--help')

function fail(cmd, code, msg, usage) {
  const name = `wx-cloud-openapi${cmd ? ` ${cmd}` : ''}`
  process.stderr.write(`${name}: ${msg}\n${usage ? `(${name} --help for usage)\n` : ''}`)
  process.exitCode = code
}

/** The library, or exit 3 when its native addon cannot load. */
function library(cmd) {
  try {
    const lib = require('./index.js')
    lib.explainConfig({}) // loads the addon now, so that a missing one is a configuration error
    return lib
  } catch (e) {
    fail(cmd, EXIT.CONFIG, e.message)
    return null
  }
}

function readStdin() {
  return new Promise((resolve, reject) => {
    const chunks = []
    process.stdin.on('data', (c) => chunks.push(c))
    process.stdin.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')))
    process.stdin.on('error', reject)
  })
}

/** A result → JSON text (a binary answer's buffer as base64). */
function resultJson(result) {
  return JSON.stringify(
    result,
    (_k, v) => (v && v.type === 'Buffer' && Array.isArray(v.data) ? { base64: Buffer.from(v.data).toString('base64'), bytes: v.data.length } : v),
    2,
  )
}

async function runCall(args) {
  let parsed
  try {
    parsed = parseArgs(args, OPTION_FLAGS, { '--debug': (o) => (o.debug = true), '--no-convert-case': (o) => (o.convertCase = false) })
    if (parsed.positionals.length < 1) throw new UsageError('missing <api>, e.g. tcb.createenvandresource')
    if (parsed.positionals.length > 2) throw new UsageError(`too many arguments: ${parsed.positionals.slice(2).join(' ')}`)
  } catch (e) {
    if (!(e instanceof UsageError)) throw e
    return fail('call', EXIT.USAGE, e.message, CALL_USAGE)
  }
  const api = parsed.positionals[0].replace(/^openapi\./, '')
  if (!/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)+$/.test(api)) {
    return fail('call', EXIT.USAGE, `<api> must look like namespace.name (e.g. tcb.createenvandresource), got ${JSON.stringify(parsed.positionals[0])}`)
  }
  let params
  let options
  try {
    options = initOptions(parsed.opts)
    let text = parsed.positionals[1]
    if (text === '-') text = await readStdin()
    if (text !== undefined) {
      try {
        params = JSON.parse(text)
      } catch (e) {
        throw new UsageError(`[json] is not valid JSON: ${e.message}`)
      }
      if (params === null || typeof params !== 'object' || Array.isArray(params)) {
        throw new UsageError('[json] must be a JSON object, e.g. \'{"type":"CreatePostpayPackage","alias":"dev"}\'')
      }
    }
  } catch (e) {
    if (!(e instanceof UsageError)) throw e
    return fail('call', EXIT.USAGE, e.message)
  }
  const lib = library('call')
  if (!lib) return
  const cloud = new lib.Cloud()
  try {
    cloud.init(options)
  } catch (e) {
    return fail('call', EXIT.CONFIG, e.errMsg || e.message)
  }
  const explained = lib.explainConfig(options, api)
  if (!explained.ok) {
    process.stderr.write(`wx-cloud-openapi call: configuration error: ${explained.errMsg}\n`)
    process.stderr.write(`${JSON.stringify({ errCode: explained.errCode, errMsg: explained.errMsg })}\n`)
    process.exitCode = EXIT.CONFIG
    return
  }
  // The API goes by its name, as `cloud.openapi.a.b(params)` sends it:
  // not by walking the openapi proxy, where `constructor`, `call`, `bind`,
  // `then` or `toJSON` are JavaScript's own properties, not API names.
  const callOptions = parsed.opts.convertCase === false ? { convertCase: false } : {}
  try {
    const result = await cloud._call(api, params, callOptions)
    process.stdout.write(`${resultJson(result)}\n`)
  } catch (e) {
    process.stderr.write(`wx-cloud-openapi call: ${e.message}\n`)
    process.stderr.write(`${JSON.stringify({ errCode: e.errCode, errMsg: e.errMsg })}\n`)
    process.exitCode = EXIT.CALL_FAILED
  }
}

function runEnv(args) {
  let parsed
  let options
  try {
    parsed = parseArgs(args, OPTION_FLAGS, { '--debug': (o) => (o.debug = true), '--json': (o) => (o.json = true) })
    if (parsed.positionals.length > 0) throw new UsageError(`unexpected argument ${parsed.positionals[0]}`)
    options = initOptions(parsed.opts)
  } catch (e) {
    if (!(e instanceof UsageError)) throw e
    return fail('env', EXIT.USAGE, e.message, ENV_USAGE)
  }
  const lib = library('env')
  if (!lib) return
  const x = lib.explainConfig(options)
  process.exitCode = x.ok ? EXIT.OK : EXIT.CONFIG
  if (parsed.opts.json) {
    process.stdout.write(`${JSON.stringify(x, null, 2)}\n`)
    return
  }
  const lines = [`mode: ${x.mode}`, `why:  ${x.reason}`]
  if (x.settings.length > 0) {
    const w = Math.max(...x.settings.map((s) => s.name.length))
    const v = Math.max(...x.settings.map((s) => s.value.length))
    lines.push('settings:')
    for (const s of x.settings) lines.push(`  ${s.name.padEnd(w)}  ${s.value.padEnd(v)}  (${s.source})`)
  }
  if (!x.ok) lines.push(`problem: a call would fail with errCode ${x.errCode}: ${x.errMsg}`)
  process.stdout.write(`${lines.join('\n')}\n`)
}

/**
 * The emulator command: its command line and the banner are the emulator
 * crate's (crates/emulator/src/command_line.rs, through the addon), as the
 * `wx-cloud-emulator` binary reads and prints them; here: exit codes, the
 * signals, and the names in messages.
 */
async function runEmulator(args) {
  let binding
  try {
    binding = require('./lib/load.js').loadEmulatorBinding()
  } catch (e) {
    return fail('emulator', EXIT.CONFIG, e.message)
  }
  const line = binding.parseEmulatorCommandLine(args, { ...process.env })
  if (line.help) return printUsage('emulator', emulatorUsage)
  if (line.usageError) return fail('emulator', EXIT.USAGE, line.usageError, true)
  if (line.warning) process.stderr.write(`wx-cloud-openapi emulator: ${line.warning}\n`)
  let emu
  try {
    emu = await require('./lib/emulator.js').startEmulator(JSON.parse(line.options))
  } catch (e) {
    return fail('emulator', EXIT.CONFIG, e.message)
  }
  // The emulator keeps the process alive until it is closed.
  let closing = false
  const stop = async () => {
    if (closing) return
    closing = true
    await emu.close()
    process.exit(EXIT.OK)
  }
  process.on('SIGINT', stop)
  process.on('SIGTERM', stop)
  // Print only once the signal handlers are in place.
  const banner = binding.emulatorBanner(line.options, line.sources, emu.url, emu.httpsBaseUrl, emu.cloudEnv())
  process.stdout.write(`${banner.join('\n')}\n`)
}

const COMMANDS = {
  call: [runCall, CALL_USAGE],
  env: [runEnv, ENV_USAGE],
  emulator: [runEmulator, emulatorUsage],
}

/** Print a command's usage; the emulator's comes from the addon (exit 3 when it cannot load). */
function printUsage(cmd, usage) {
  if (typeof usage !== 'function') return process.stdout.write(usage)
  let text
  try {
    text = usage()
  } catch (e) {
    return fail(cmd, EXIT.CONFIG, e.message)
  }
  process.stdout.write(text)
}

function main(argv) {
  const [cmd, ...rest] = argv
  if (cmd === '-h' || cmd === '--help') {
    process.stdout.write(USAGE)
    return
  }
  if (cmd === '--version' || cmd === '-V' || cmd === 'version') {
    process.stdout.write(`wx-cloud-openapi ${require('./package.json').version}\n`)
    return
  }
  if (cmd === 'help') {
    const entry = COMMANDS[rest[0]]
    return entry ? printUsage(rest[0], entry[1]) : process.stdout.write(USAGE)
  }
  const entry = COMMANDS[cmd]
  if (!entry) {
    return fail('', EXIT.USAGE, cmd === undefined ? 'missing <command>' : `unknown command ${cmd}`, USAGE)
  }
  if (wantsHelp(rest)) return printUsage(cmd, entry[1])
  Promise.resolve(entry[0](rest)).catch((e) => {
    process.stderr.write(`wx-cloud-openapi ${cmd}: internal error: ${(e && e.stack) || e}\n`)
    process.exitCode = 70
  })
}

main(process.argv.slice(2))
