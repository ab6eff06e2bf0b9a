'use strict'

module.exports = {
  testEnvironment: '<rootDir>/__test__/helpers/environment.js',
  roots: ['<rootDir>/__test__'],
  testMatch: ['**/*.test.js'],
  // The cloud-function runtime suite has its own run (jest.runtime.config.js).
  testPathIgnorePatterns: ['/node_modules/', '<rootDir>/__test__/runtime/'],
  testTimeout: 30000,
  // secrets: one check over what every suite collected (helpers/leak-collector.js)
  globalSetup: '<rootDir>/__test__/helpers/leaks-setup.js',
  globalTeardown: '<rootDir>/__test__/helpers/leaks-teardown.js',
}
