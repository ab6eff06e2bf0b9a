#!/usr/bin/env node
'use strict'
// npx wx-cloud-openapi <command>

const USAGE = `Usage: wx-cloud-openapi <command> [options]

Commands:
  emulator    Run the local emulator of the cloud-base gateway and the WeChat
              HTTPS API until SIGINT/SIGTERM. Prints its URL and, as export
              lines, the environment a cloud function needs to call it.

Emulator options:
  --port N              port to listen on (default: a free port)
  --host IP             address to listen on (default: 127.0.0.1)
  --data FILE           keep environments in FILE (loaded at start; each one is
                        on disk before its creation is answered)
  --secret-id ID        secretId the gateway accepts (with --secret-key)
  --secret-key KEY      secretKey the gateway accepts (with --secret-id)
  --env-id ID           the emulated function's environment (default: emulator-env)
  --token-lifetime S    lifetime of issued access tokens, seconds (default: 7200)

  -h, --help            show this help
`

function shellQuote(s) {
  return `'${String(s).replace(/'/g, `'\\''`)}'`
}

function parseEmulatorArgs(args) {
  const flags = {
    '--port': 'port',
    '--host': 'host',
    '--data': 'dataFile',
    '--secret-id': 'secretId',
    '--secret-key': 'secretKey',
    '--env-id': 'envId',
    '--token-lifetime': 'tokenLifetimeSecs',
  }
  const opts = {}
  for (let i = 0; i < args.length; i++) {
    let arg = args[i]
    let value
    const eq = arg.indexOf('=')
    if (arg.startsWith('--') && eq > 0) {
      value = arg.slice(eq + 1)
      arg = arg.slice(0, eq)
    }
    const key = flags[arg]
    if (!key) throw new Error(`unknown option ${arg}`)
    if (value === undefined) {
      if (i + 1 >= args.length) throw new Error(`${arg} needs a value`)
      value = args[++i]
    }
    opts[key] = value
  }
  return opts
}

async function runEmulator(args) {
  let opts
  try {
    opts = parseEmulatorArgs(args)
  } catch (e) {
    process.stderr.write(`wx-cloud-openapi emulator: ${e.message}\n\n${USAGE}`)
    process.exit(2)
  }
  const { startEmulator } = require('./lib/emulator.js')
  let emu
  try {
    emu = await startEmulator(opts)
  } catch (e) {
    process.stderr.write(`wx-cloud-openapi emulator: ${e.message}\n`)
    process.exit(1)
  }
  // The native listener does not keep Node's event loop alive by itself.
  const keepAlive = setInterval(() => {}, 1 << 30)
  let closing = false
  const stop = async () => {
    if (closing) return
    closing = true
    clearInterval(keepAlive)
    await emu.close()
    process.exit(0)
  }
  process.on('SIGINT', stop)
  process.on('SIGTERM', stop)
  // Print only once the signal handlers are in place.
  const lines = [`# wx-cloud-openapi emulator listening on ${emu.url}`]
  for (const [k, v] of Object.entries(emu.cloudEnv())) lines.push(`export ${k}=${shellQuote(v)}`)
  process.stdout.write(lines.join('\n') + '\n')
}

function main(argv) {
  const [cmd, ...rest] = argv
  if (cmd === '-h' || cmd === '--help' || cmd === 'help') {
    process.stdout.write(USAGE)
    return
  }
  if (cmd === 'emulator') {
    if (rest.includes('-h') || rest.includes('--help')) {
      process.stdout.write(USAGE)
      return
    }
    runEmulator(rest)
    return
  }
  process.stderr.write(cmd === undefined ? USAGE : `wx-cloud-openapi: unknown command ${cmd}\n\n${USAGE}`)
  process.exit(2)
}

main(process.argv.slice(2))
