'use strict'

// A test server on a free loopback port (never another interface).

/** Listen on 127.0.0.1, a free port; resolves with the port, rejects on a listen error. */
async function listenOnLoopback(server) {
  await new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', resolve)
  })
  return server.address().port
}

module.exports = { listenOnLoopback }
