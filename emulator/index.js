'use strict'
// wx-cloud-openapi-emulator: the addon of wx-cloud-openapi built with its
// local emulator (the Cargo feature `emulator`). The main package ships
// without it, to keep what a cloud function downloads small; its
// startEmulator() and `npx wx-cloud-openapi emulator` load this package
// when it is installed (lib/emulator.js). Not meant to be used directly.

const path = require('path')

try {
  module.exports = require('./binding.js')
} catch (e) {
  const err = new Error(
    `wx-cloud-openapi-emulator: no native addon could be loaded for ${process.platform}-${process.arch} (node ${process.version}): ${String(e && e.message).split('\n')[0]}. ` +
      `Reinstall it without --omit=optional, or build it from a clone of wx-cloud-openapi (npm run build:release); looked in ${path.join(__dirname)}.`,
  )
  err.code = 'WX_CLOUD_OPENAPI_NO_ADDON'
  err.cause = e
  throw err
}
