'use strict'
// The local emulator of the cloud-base gateway and of the WeChat HTTPS API,
// as a JS API over the native binding: everything, the options' checks
// included, happens in Rust (crates/emulator/); the running emulator is the
// binding's handle (src/binding/emulator.rs, documented in lib/emulator.d.ts).

/**
 * startEmulator's options as the JSON text the addon reads: serde checks
 * them there (crates/emulator/src/start_options.rs: unknown options,
 * types, ranges, the settings that go together), with messages naming the
 * option. An option set to `undefined` is sent as null (not given), so
 * that a misspelt one is still refused.
 */
function optionsJson(options) {
  if (options === undefined || options === null) return '{}'
  if (typeof options !== 'object' || Array.isArray(options)) {
    throw new TypeError('startEmulator(options): options must be an object')
  }
  return JSON.stringify(options, (_, v) => (v === undefined ? null : v))
}

/**
 * Start the emulator.
 *
 *   const { startEmulator } = require('wx-cloud-openapi')
 *   const emu = await startEmulator({ dataFile: './envs.json' })
 *   spawn('node', ['fn.js'], { env: { PATH: process.env.PATH, ...emu.cloudEnv() } })
 */
async function startEmulator(options) {
  return require('./load.js').loadEmulatorBinding().startEmulator(optionsJson(options))
}

module.exports = { startEmulator }
