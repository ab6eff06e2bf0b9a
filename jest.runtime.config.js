'use strict'
// `npm run test:runtime`: the package as a WeChat cloud function runs it
// (__test__/runtime/; needs `npm run build:release` first). Not part of the
// main jest run: it fetches the old Node builds and the glibc 2.17 runtime.
module.exports = {
  roots: ['<rootDir>/__test__/runtime'],
  testMatch: ['**/*.test.js'],
  testTimeout: 120000,
}
