#!/usr/bin/env node
'use strict'
// npx wx-cloud-openapi <command>

try {
  require('./lib/node-version.js').requireSupportedNode()
} catch (e) {
  process.stderr.write(`wx-cloud-openapi: ${e.message}\n`)
  process.exit(3)
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

function shellQuote(s) {
  return `'${String(s).replace(/'/g, `'\\''`)}'`
}

const EMULATOR_FLAGS = {
  '--port': 'port',
  '--host': 'host',
  '--data': 'dataFile',
  '--env-id': 'envId',
  '--secret-id': 'secretId',
  '--secret-key': 'secretKey',
  '--appid': 'appid',
  '--app-secret': 'appSecret',
  '--component-appid': 'componentAppid',
  '--component-appsecret': 'componentAppsecret',
  '--component-verify-ticket': 'componentVerifyTicket',
  '--authorizer': 'authorizers[]',
  '--token-lifetime': 'tokenLifetimeSecs',
  '--token-grace': 'tokenGraceSecs',
  '--component-event-url': 'componentEventUrl',
  '--component-token': 'componentToken',
  '--component-encoding-aes-key': 'componentEncodingAesKey',
  '--ticket-interval-ms': 'ticketIntervalMs',
}

/** Secrets the emulator command also reads from the environment: flag → variable. */
const EMULATOR_SECRET_VARS = {
  secretId: ['--secret-id', 'WX_EMULATOR_SECRET_ID'],
  secretKey: ['--secret-key', 'WX_EMULATOR_SECRET_KEY'],
  appSecret: ['--app-secret', 'WX_EMULATOR_APP_SECRET'],
  componentAppsecret: ['--component-appsecret', 'WX_EMULATOR_COMPONENT_APPSECRET'],
  componentVerifyTicket: ['--component-verify-ticket', 'WX_EMULATOR_COMPONENT_VERIFY_TICKET'],
  authorizers: ['--authorizer', 'WX_EMULATOR_AUTHORIZERS'],
  componentToken: ['--component-token', 'WX_EMULATOR_COMPONENT_TOKEN'],
  componentEncodingAesKey: ['--component-encoding-aes-key', 'WX_EMULATOR_COMPONENT_ENCODING_AES_KEY'],
}

/** Is `host` a loopback address (or a name for one)? */
function isLoopback(host) {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127(\.\d{1,3}){3}$/.test(host)
}

/**
 * Parsed flags and the environment → startEmulator options, plus where each
 * secret came from (`flag`, or the variable's name) so that none is printed.
 */
function emulatorOptions(flags, env) {
  const given = {}
  const source = {}
  for (const [key, [flag, variable]] of Object.entries(EMULATOR_SECRET_VARS)) {
    const fromEnv = env[variable]
    if (flags[key] !== undefined && fromEnv !== undefined && fromEnv !== '') {
      throw new UsageError(`${flag} and ${variable} are both set: give one`)
    }
    if (flags[key] !== undefined) {
      given[key] = flags[key]
      source[key] = flag
    } else if (fromEnv !== undefined && fromEnv !== '') {
      given[key] =
        key === 'authorizers'
          ? fromEnv
              .split(',')
              .map((a) => a.trim())
              .filter(Boolean)
          : fromEnv
      source[key] = variable
    }
  }
  const opts = {}
  for (const k of ['port', 'host', 'dataFile', 'envId', 'tokenLifetimeSecs', 'tokenGraceSecs', 'componentEventUrl', 'ticketIntervalMs']) {
    if (flags[k] !== undefined) opts[k] = flags[k]
  }
  const NUMBERS = { port: '--port', tokenLifetimeSecs: '--token-lifetime', tokenGraceSecs: '--token-grace', ticketIntervalMs: '--ticket-interval-ms' }
  for (const [k, flag] of Object.entries(NUMBERS)) {
    const max = k === 'port' ? 65535 : 0xffffffff
    if (opts[k] !== undefined && (!/^\d{1,10}$/.test(opts[k]) || Number(opts[k]) > max)) {
      throw new UsageError(`${flag} must be a whole number from 0 to ${max}, got ${opts[k]}`)
    }
  }
  if (given.secretId !== undefined) opts.secretId = given.secretId
  if (given.secretKey !== undefined) opts.secretKey = given.secretKey
  if ((opts.secretId === undefined) !== (opts.secretKey === undefined)) {
    throw new UsageError('a secret id (--secret-id or WX_EMULATOR_SECRET_ID) and a secret key (--secret-key or WX_EMULATOR_SECRET_KEY) go together')
  }
  if ((flags.appid === undefined) !== (given.appSecret === undefined)) {
    throw new UsageError('--appid and an app secret (--app-secret or WX_EMULATOR_APP_SECRET) go together')
  }
  if (flags.appid !== undefined) opts.appCredentials = [{ appid: flags.appid, secret: given.appSecret }]
  if ((flags.componentAppid === undefined) !== (given.componentAppsecret === undefined)) {
    throw new UsageError('--component-appid and a component secret (--component-appsecret or WX_EMULATOR_COMPONENT_APPSECRET) go together')
  }
  if (flags.componentAppid !== undefined) {
    opts.componentCredentials = [{ componentAppid: flags.componentAppid, componentAppsecret: given.componentAppsecret }]
  }
  if (given.componentVerifyTicket !== undefined) opts.componentVerifyTicket = given.componentVerifyTicket
  if (given.authorizers !== undefined) {
    opts.authorizers = given.authorizers.map((a) => {
      const at = a.indexOf(':')
      if (at <= 0 || at === a.length - 1) {
        throw new UsageError(`${source.authorizers} takes APPID:REFRESH_TOKEN, got ${at <= 0 ? JSON.stringify(a.slice(0, 24)) : 'an empty refresh token'}`)
      }
      return { authorizerAppid: a.slice(0, at), refreshToken: a.slice(at + 1) }
    })
  }
  if (flags.rotateRefreshTokens) opts.rotateRefreshTokens = true
  if (given.componentToken !== undefined) opts.componentToken = given.componentToken
  if (given.componentEncodingAesKey !== undefined) opts.componentEncodingAesKey = given.componentEncodingAesKey
  const pushGiven = [opts.componentEventUrl, opts.componentToken, opts.componentEncodingAesKey].filter((v) => v !== undefined).length
  if (pushGiven !== 0 && pushGiven !== 3) {
    throw new UsageError(
      '--component-event-url, a component token (--component-token or WX_EMULATOR_COMPONENT_TOKEN) and an EncodingAESKey (--component-encoding-aes-key or WX_EMULATOR_COMPONENT_ENCODING_AES_KEY) go together',
    )
  }
  if (opts.ticketIntervalMs !== undefined && opts.componentEventUrl === undefined) {
    throw new UsageError('--ticket-interval-ms needs --component-event-url')
  }
  return { opts, source }
}

/** The lines the emulator command prints: credentials, then the export lines. */
function emulatorBanner(emu, opts, source) {
  const D = {
    appid: 'wx0emulatorapp0001',
    secret: 'emulator-app-secret',
    componentAppid: 'wx0emulatorcomp001',
    componentAppsecret: 'emulator-component-secret',
  }
  const secret = (key, value) => (source[key] ? `(the ${source[key]} you gave)` : value)
  const app = (opts.appCredentials || [D])[0]
  const comp = (opts.componentCredentials || [D])[0]
  const authorizers = opts.authorizers || [{ authorizerAppid: 'wx0emulatorauth001', refreshToken: 'emulator-refresh-token' }]
  const lines = [
    `# wx-cloud-openapi emulator listening on ${emu.url}`,
    `# WeChat API base URL (--api-base-url): ${emu.httpsBaseUrl}`,
    `# app: appid ${app.appid}, secret ${secret('appSecret', app.secret)}`,
    `# third-party platform: component_appid ${comp.componentAppid}, component_appsecret ${secret('componentAppsecret', comp.componentAppsecret)}`,
    `# component_verify_ticket: ${ticketRule(opts, secret)}`,
    ...authorizers.map((a) => `# authorizer: authorizer_appid ${a.authorizerAppid}, authorizer_refresh_token ${secret('authorizers', a.refreshToken)}`),
    `# tokens: lifetime ${opts.tokenLifetimeSecs || 7200} s, grace ${opts.tokenGraceSecs || 300} s; refresh tokens ${opts.rotateRefreshTokens ? 'rotate on every renewal' : 'stay the same'}`,
  ]
  if (opts.componentEventUrl !== undefined) {
    const every = opts.ticketIntervalMs === undefined ? 600000 : Number(opts.ticketIntervalMs)
    lines.push(
      `# component events: pushed to ${withoutPassword(opts.componentEventUrl)}, ${every === 0 ? 'no ticket on a schedule' : `a new ticket at start and every ${every} ms`}`,
    )
  }
  for (const [k, v] of Object.entries(emu.cloudEnv())) {
    if (k === 'TENCENTCLOUD_SECRETKEY' && source.secretKey) {
      // Never print a secret key that was given: refer to where it came from.
      lines.push(source.secretKey.startsWith('--') ? `# export ${k}=… (the --secret-key you gave)` : `export ${k}="$${source.secretKey}"`)
    } else {
      lines.push(`export ${k}=${shellQuote(v)}`)
    }
  }
  // The HTTPS and third-party modes read it (apiBaseUrl): pasted with the
  // rest, they talk to this emulator instead of api.weixin.qq.com.
  lines.push(`export WX_API_BASE_URL=${shellQuote(emu.httpsBaseUrl)}`)
  return lines
}

/** A URL as the banner shows it: its user info becomes `***`, as the core shows URLs (the event URL may carry a password). */
function withoutPassword(url) {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/?#]*@/i, '$1***@')
}

/** Which component_verify_ticket the emulator's api_component_token takes (crates/emulator/src/wechat.rs). */
function ticketRule(opts, secret) {
  const pushed = opts.componentEventUrl !== undefined ? 'the tickets it pushes to the event URL' : null
  if (opts.componentVerifyTicket !== undefined) {
    return `${secret('componentVerifyTicket', opts.componentVerifyTicket)}${pushed ? `, or ${pushed}` : ''}`
  }
  return pushed ? `${pushed} (any other: 61006)` : 'any non-empty value'
}

async function runEmulator(args) {
  let opts
  let source
  try {
    const parsed = parseArgs(args, EMULATOR_FLAGS, { '--rotate-refresh-tokens': (o) => (o.rotateRefreshTokens = true) })
    if (parsed.positionals.length > 0) throw new UsageError(`unexpected argument ${parsed.positionals[0]}`)
    ;({ opts, source } = emulatorOptions(parsed.opts, process.env))
  } catch (e) {
    if (!(e instanceof UsageError)) throw e
    return fail('emulator', EXIT.USAGE, e.message, true)
  }
  if (!isLoopback(opts.host || '127.0.0.1')) {
    process.stderr.write(
      `wx-cloud-openapi emulator: warning: --host ${opts.host} is not a loopback address: the emulator will be reachable ` +
        'from other machines; it speaks plain HTTP and accepts the credentials it prints\n',
    )
  }
  let emu
  try {
    emu = await require('./lib/emulator.js').startEmulator(opts)
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
  process.stdout.write(`${emulatorBanner(emu, opts, source).join('\n')}\n`)
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
