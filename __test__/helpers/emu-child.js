'use strict'
// A child process running the emulator with a data file (argv[2]); prints
// its URL and an app credential as one JSON line, then runs until killed.
const { startEmulator } = require('../../lib/emulator.js')

startEmulator({ dataFile: process.argv[2] }).then(
  (emu) => {
    // The listening emulator keeps this process alive until it is killed.
    process.stdout.write(`${JSON.stringify({ url: emu.url })}\n`)
  },
  (e) => {
    process.stderr.write(`${String(e?.message)}\n`)
    process.exit(1)
  },
)
