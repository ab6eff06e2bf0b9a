'use strict'
// jest globalSetup: start every run with an empty leak directory, so that the
// check in leaks-teardown.js sees only what this run's suites collected.
const fs = require('fs')
const { DIR } = require('./leak-collector')

module.exports = async () => {
  fs.rmSync(DIR, { recursive: true, force: true })
}
