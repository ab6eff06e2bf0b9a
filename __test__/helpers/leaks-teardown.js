'use strict'
// jest globalTeardown: the one check over everything the suites collected
// (fault matrix, hostile input, emulator abuse: every error message, errMsg,
// stack, debug line and emulator answer), against every secret any of them
// used. Jest runs suites in parallel processes, so each suite writes what it
// saw to a file (leak-collector.js) and this runs once they are all done.
// A leak fails the run.
const { checkFiles } = require('./leak-collector')

module.exports = async () => {
  const suites = checkFiles()
  if (suites.length === 0) return
  const texts = suites.reduce((n, s) => n + s.texts, 0)
  const leaks = suites.flatMap((s) => s.leaks.map((l) => ({ suite: s.suite, secret: l[0], excerpt: l[1] })))
  console.log(`\nsecrets: ${texts} texts from ${suites.length} suites (${suites.map((s) => s.suite).join(', ')}) checked, ${leaks.length} secrets found`)
  if (leaks.length) {
    throw new Error(`secret values found in error messages or debug lines:\n${JSON.stringify(leaks.slice(0, 10), null, 1)}`)
  }
}
