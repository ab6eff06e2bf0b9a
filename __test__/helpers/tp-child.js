'use strict'
// One "process" of a third-party platform for token-store-cluster.test.js:
// a managed third-party client whose tokens live in a shared Redis, making
// calls across many authorizers. Options (JSON in argv[2]):
//   redisPort, prefix, baseUrl, authorizers[], ticket, client ('ioredis' | 'node-redis'),
//   calls, concurrency, paceMs, durationMs, timeout,
//   failSaves      probability that saving a refresh token fails (before it reaches Redis)
//   killAfterSave  probability of SIGKILL right after a refresh token reached Redis
//   killAfterLock  probability of SIGKILL right after taking a renewal lock
// Prints one JSON line: { done, failed, codes, firstErrors }.

const sdk = require('../../index.js')

const o = JSON.parse(process.argv[2])

async function connect() {
  if (o.client === 'ioredis') {
    const Redis = require('ioredis')
    const c = new Redis({ port: o.redisPort, host: '127.0.0.1', lazyConnect: true })
    await c.connect()
    return c
  }
  const c = require('redis').createClient({ url: `redis://127.0.0.1:${o.redisPort}` })
  c.on('error', () => {})
  await c.connect()
  return c
}

// Authorizer-token renewals in flight in this process: each holds its
// authorizer's renewal lock from before its request until its refresh token
// is saved.
let renewing = 0

/**
 * The real store, with the faults this run asks for. A kill happens only
 * while this process renews one authorizer and no other: killing it while
 * another renewal's answer is on the wire would lose that answer's rotated
 * refresh token in any client (WeChat has refused the old one already).
 */
function withFaults(store) {
  const roll = (p) => p > 0 && Math.random() < p
  return {
    ...store,
    async set(key, value, ttl) {
      const refresh = key.startsWith('refresh_token:')
      if (refresh && roll(o.failSaves)) throw new Error('injected: the save failed')
      await store.set(key, value, ttl)
      if (refresh && renewing === 1 && roll(o.killAfterSave)) process.kill(process.pid, 'SIGKILL')
    },
    async lock(key, ttl) {
      const l = await store.lock(key, ttl)
      if (!l || !key.startsWith('lock:authorizer_token:')) return l
      renewing++
      if (renewing === 1 && roll(o.killAfterLock)) process.kill(process.pid, 'SIGKILL')
      let released = false
      return {
        release: () => {
          if (!released) {
            released = true
            renewing--
          }
          return l.release()
        },
      }
    },
  }
}

async function main() {
  const client = await connect()
  const cloud = new sdk.Cloud()
  cloud.init({
    componentAppid: 'wx0emulatorcomp001',
    componentAppsecret: 'emulator-component-secret',
    getComponentVerifyTicket: async () => o.ticket,
    apiBaseUrl: o.baseUrl,
    processEnv: {},
    timeout: o.timeout,
    store: withFaults(sdk.redisStore(client, { prefix: o.prefix })),
  })
  const codes = {}
  const firstErrors = []
  let next = 0
  let done = 0
  let failed = 0
  const until = o.durationMs ? Date.now() + o.durationMs : Infinity
  const worker = async () => {
    while (next < o.calls && Date.now() < until) {
      const i = next++
      const appid = o.authorizers[i % o.authorizers.length]
      try {
        await cloud.openapi({ appid }).tcb.createenvandresource({ type: 'CreatePostpayPackage', alias: `p${process.pid}-${i}` })
      } catch (e) {
        failed++
        codes[e.errCode] = (codes[e.errCode] || 0) + 1
        if (firstErrors.length < 3) firstErrors.push(String(e.errMsg))
      }
      done++
      if (o.paceMs) await new Promise((r) => setTimeout(r, o.paceMs))
    }
  }
  await Promise.all(Array.from({ length: o.concurrency }, worker))
  // A call that gave up at its deadline may have left a renewal finishing
  // in the background (it saves a rotated refresh token): let it finish.
  while (renewing > 0) await new Promise((r) => setTimeout(r, 10))
  process.stdout.write(`${JSON.stringify({ done, failed, codes, firstErrors })}\n`)
  if (typeof client.disconnect === 'function') client.disconnect()
  else await client.quit()
}

main().catch((e) => {
  process.stdout.write(`${JSON.stringify({ crashed: String(e?.stack || e) })}\n`)
  process.exit(1)
})
