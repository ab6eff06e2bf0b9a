'use strict'
// Issue 19 item 15: the token store on a Redis Cluster, the way platforms
// outgrow one Redis. A real three-master cluster on loopback
// (helpers/redis.js startRedisCluster), through both cluster clients:
// ioredis's `Redis.Cluster` and node-redis's `createCluster()` (which failed
// on the first write with a raw TypeError before: its sendCommand takes the
// routing key first).

const Redis = require('ioredis')
const { createCluster } = require('redis')
const sdk = require('../index.js')
const { keys } = require('../lib/store.js')
const { startRedisCluster } = require('./helpers/redis.js')

const COMPONENT = { componentAppid: 'wx0emulatorcomp001', componentAppsecret: 'emulator-component-secret' }
const AUTHORIZERS = ['wxclusterauth0001', 'wxclusterauth0002', 'wxclusterauth0003', 'wxclusterauth0004']

let cluster
const clients = []
const emulators = []

beforeAll(async () => {
  cluster = await startRedisCluster()
})

afterAll(async () => {
  for (const close of clients) await close()
  for (const e of emulators) await e.close()
  if (cluster) await cluster.stop()
})

/** An emulator of its own (its refresh tokens rotate on every renewal). */
async function emulator() {
  const emu = await sdk.startEmulator({
    componentVerifyTicket: 'ticket@@@cluster',
    authorizers: AUTHORIZERS.map((authorizerAppid) => ({ authorizerAppid, refreshToken: `refresh-${authorizerAppid}` })),
    rotateRefreshTokens: true,
  })
  emulators.push(emu)
  return emu
}

async function ioredisCluster() {
  const c = new Redis.Cluster(cluster.nodes, { lazyConnect: true })
  await c.connect()
  clients.push(() => c.quit())
  return c
}

async function nodeRedisCluster() {
  const c = createCluster({ rootNodes: cluster.nodes.map((n) => ({ url: `redis://${n.host}:${n.port}` })) })
  await c.connect()
  clients.push(() => c.quit())
  return c
}

const CLIENTS = [
  ['ioredis cluster', ioredisCluster],
  ['node-redis cluster', nodeRedisCluster],
]

describe.each(CLIENTS)('%s', (kind, connect) => {
  test('the store operations work on keys spread over the three masters', async () => {
    const store = sdk.redisStore(await connect(), { prefix: `t-${kind.replace(/\W/g, '')}:` })
    expect(store.kind).toBe(`redis (${kind})`)
    // Twenty keys land in slots of every master (16384 slots in three ranges).
    for (let i = 0; i < 20; i++) {
      const key = `k${i}`
      await store.set(key, `v${i}`)
      expect(await store.get(key)).toBe(`v${i}`)
      expect(await store.compareAndDelete(key, 'other')).toBe(false)
      expect(await store.compareAndDelete(key, `v${i}`)).toBe(true)
      expect(await store.get(key)).toBeNull()
      const lock = await store.lock(`lock:${key}`, 5000)
      expect(lock).not.toBeNull()
      expect(await store.lock(`lock:${key}`, 5000)).toBeNull()
      await lock.release()
      expect(await store.lock(`lock:${key}`, 5000)).not.toBeNull()
    }
    await store.set('ttl', 'x', 50)
    await new Promise((r) => setTimeout(r, 120))
    expect(await store.get('ttl')).toBeNull()
  })

  test('two processes sharing the cluster: each authorizer creates its environments, one token request per token', async () => {
    const emu = await emulator()
    const prefix = `p-${kind.replace(/\W/g, '')}:`
    // Two clients with their own connections and stores: two processes' worth.
    const make = async () => {
      const store = sdk.redisStore(await connect(), { prefix })
      await store.set(keys.ticket(COMPONENT.componentAppid), 'ticket@@@cluster')
      for (const a of AUTHORIZERS) {
        if ((await store.get(keys.refreshToken(COMPONENT.componentAppid, a))) === null) {
          await store.set(keys.refreshToken(COMPONENT.componentAppid, a), `refresh-${a}`)
        }
      }
      const c = new sdk.Cloud()
      c.init({ ...COMPONENT, store, apiBaseUrl: emu.httpsBaseUrl, processEnv: {} })
      return c
    }
    const [one, two] = [await make(), await make()]
    const made = await Promise.all(
      AUTHORIZERS.flatMap((appid, i) =>
        [one, two].map((c, j) => c.openapi({ appid }).tcb.createenvandresource({ type: 'CreatePostpayPackage', alias: `c${i}${j}` })),
      ),
    )
    const envs = emu.environments()
    made.forEach((r, n) => {
      expect(r.errCode).toBe(0)
      expect(envs.find((e) => e.env === r.envid).account).toBe(AUTHORIZERS[Math.floor(n / 2)])
    })
    // However the two raced, the cluster's lock let one of them ask.
    expect(emu.stats().tokensIssued).toMatchObject({ component: 1, authorizer: AUTHORIZERS.length })
    // Rotated refresh tokens are in the cluster, one per authorizer.
    const store = sdk.redisStore(await connect(), { prefix })
    for (const a of AUTHORIZERS) {
      expect(await store.get(keys.refreshToken(COMPONENT.componentAppid, a))).toMatch(/^refreshtoken@@@/)
    }
  })
})

// A Sentinel failover (ioredis's `sentinels` option): the master is killed,
// the Sentinel promotes the replica, ioredis follows it, and the managed
// calls go on with every authorization.
test('ioredis through Sentinel: calls go on after the master is killed and the replica promoted', async () => {
  const { startRedisSentinel } = require('./helpers/redis.js')
  const set = await startRedisSentinel()
  const client = new Redis({ sentinels: [{ host: '127.0.0.1', port: set.sentinel.port }], name: set.name, lazyConnect: true })
  // While the master is down ioredis reports each failed reconnection as an
  // 'error' event (printed when nobody listens): expected here.
  client.on('error', () => {})
  try {
    const emu = await emulator()
    await client.connect()
    const store = sdk.redisStore(client, { prefix: 'sentinel:' })
    await store.set(keys.ticket(COMPONENT.componentAppid), 'ticket@@@cluster')
    for (const a of AUTHORIZERS) await store.set(keys.refreshToken(COMPONENT.componentAppid, a), `refresh-${a}`)
    const c = new sdk.Cloud()
    c.init({ ...COMPONENT, store, apiBaseUrl: emu.httpsBaseUrl, processEnv: {}, timeout: 5000 })
    const create = (appid, alias) => c.openapi({ appid }).tcb.createenvandresource({ type: 'CreatePostpayPackage', alias })
    for (const a of AUTHORIZERS) expect((await create(a, 'before')).errCode).toBe(0)
    // Everything written so far has reached the replica before the master dies.
    await client.call('WAIT', '1', '5000')
    await set.master.stop()
    // The Sentinel notices after 1 s and promotes the replica; ioredis asks
    // the Sentinel where the master is now. Wait for that (bounded by the
    // test's timeout), then every authorizer works, its tokens intact.
    for (;;) {
      const role = await client.call('ROLE').catch(() => null)
      if (role && role[0] === 'master') break
      await new Promise((r) => setTimeout(r, 200))
    }
    for (const a of AUTHORIZERS) expect((await create(a, 'after')).errCode).toBe(0)
    // A process started now (no cache of its own) reads every token from the promoted master.
    const fresh = new sdk.Cloud()
    fresh.init({ ...COMPONENT, store: sdk.redisStore(client, { prefix: 'sentinel:' }), apiBaseUrl: emu.httpsBaseUrl, processEnv: {} })
    const issued = emu.stats().tokensIssued.authorizer
    for (const a of AUTHORIZERS) {
      expect((await fresh.openapi({ appid: a }).tcb.createenvandresource({ type: 'CreatePostpayPackage', alias: 'fresh' })).errCode).toBe(0)
      expect(await store.get(keys.refreshToken(COMPONENT.componentAppid, a))).toMatch(/^refreshtoken@@@/)
    }
    expect(emu.stats().tokensIssued.authorizer).toBe(issued)
  } finally {
    client.disconnect()
    await set.stop()
  }
}, 60000)
