'use strict'

// jest's node environment, plus `hostProcess`: the real process object. Inside
// a test, `process` is a copy whose event listeners never fire, so a test that
// wants to see an `unhandledRejection` must listen on the real one.

const { TestEnvironment } = require('jest-environment-node')

class HostProcessEnvironment extends TestEnvironment {
  constructor(config, context) {
    super(config, context)
    this.global.hostProcess = process
  }
}

module.exports = HostProcessEnvironment
