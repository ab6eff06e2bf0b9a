'use strict';

module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/__test__'],
  testMatch: ['**/*.test.js'],
  testTimeout: 30000,
};
