'use strict';

module.exports = {
  testEnvironment: '<rootDir>/__test__/helpers/environment.js',
  roots: ['<rootDir>/__test__'],
  testMatch: ['**/*.test.js'],
  testTimeout: 30000,
};
