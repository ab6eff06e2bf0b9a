'use strict'
// `npm test` needs Debian's redis-server (the token-store tests start a real
// one on loopback). Stop with one line naming the package when it is missing.
try {
  require('../__test__/helpers/redis.js').redisServerPath()
} catch (e) {
  console.error(e.message)
  process.exit(1)
}
