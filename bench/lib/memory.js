'use strict'
// Memory in a fresh process (run with --expose-gc):
//   node memory.js require ours|ref [root]  RSS before require, after
//                                     require, after init + one cloud call
//                                     (root: the checkout 'ours' loads)
//   node memory.js soak N1 N2 C       our SDK: RSS after N1 calls and after N2
//                                     calls at concurrency C
// RSS is read after a full GC; the environment is the gateway's cloudEnv().

const { ROOT, REFERENCE, report } = require('./common')

const rssMB = () => {
  global.gc()
  global.gc()
  return process.memoryUsage.rss() / 2 ** 20
}
/**
 * Resident pages of the node executable's own mappings (its code), MB: file
 * pages V8 and node fault in as they first run a path (the optimising
 * compiler, when our JavaScript first gets hot), shared and reclaimable,
 * not memory the SDK holds.
 */
function nodeCodeMB() {
  let mb = 0
  let ours = false
  for (const line of require('fs').readFileSync('/proc/self/smaps', 'utf8').split('\n')) {
    const mapping = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(line)
    if (mapping) ours = mapping[1] === process.execPath
    else if (ours && line.startsWith('Rss:')) mb += Number(line.slice(4).trim().split(' ')[0]) / 1024
  }
  return mb
}
/** Anonymous (private heap, stacks) and file-backed (mapped code) parts of RSS, MB. */
function rssParts() {
  const status = require('fs').readFileSync('/proc/self/status', 'utf8')
  const kb = (name) => Number((new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(status) || [])[1]) / 1024
  return { anon: kb('RssAnon'), file: kb('RssFile') }
}
const PARAMS = { type: 'CreatePostpayPackage', alias: 'mem' }

async function requireCost(which, root) {
  const before = rssMB()
  const p0 = rssParts()
  const cloud = require(which === 'ours' ? root || ROOT : REFERENCE)
  const afterRequire = rssMB()
  cloud.init({ env: cloud.DYNAMIC_CURRENT_ENV })
  const r = await cloud.openapi.tcb.createenvandresource(PARAMS)
  if (r.errCode !== 0) throw new Error(`errCode ${r.errCode}`)
  const afterCall = rssMB()
  const p1 = rssParts()
  report({
    before,
    afterRequire,
    afterCall,
    requireMB: afterRequire - before,
    firstCallMB: afterCall - before,
    firstCallAnonMB: p1.anon - p0.anon,
    firstCallFileMB: p1.file - p0.file,
  })
}

async function soak(n1, n2, concurrency) {
  const cloud = require(ROOT)
  cloud.init({ env: cloud.DYNAMIC_CURRENT_ENV })
  let done = 0
  let failures = 0
  async function runTo(n) {
    let next = done
    async function worker() {
      while (next < n) {
        next++
        const r = await cloud.openapi.tcb.createenvandresource(PARAMS).catch(() => null)
        if (r?.errCode !== 0) failures++
        done++
      }
    }
    await Promise.all(Array.from({ length: concurrency }, worker))
  }
  await runTo(n1)
  await new Promise((r) => setTimeout(r, 200))
  const rss1 = rssMB()
  const heap1 = process.memoryUsage().heapUsed / 2 ** 20
  const heapTotal1 = process.memoryUsage().heapTotal / 2 ** 20
  const parts1 = rssParts()
  const nodeCode1 = nodeCodeMB()
  await runTo(n2)
  await new Promise((r) => setTimeout(r, 200))
  const rss2 = rssMB()
  const heap2 = process.memoryUsage().heapUsed / 2 ** 20
  const heapTotal2 = process.memoryUsage().heapTotal / 2 ** 20
  const parts2 = rssParts()
  const nodeCode2 = nodeCodeMB()
  report({
    n1,
    n2,
    done,
    failures,
    rss1,
    rss2,
    grewMB: rss2 - rss1,
    heap1,
    heap2,
    heapTotal1,
    heapTotal2,
    anonGrewMB: parts2.anon - parts1.anon,
    fileGrewMB: parts2.file - parts1.file,
    nodeCodeGrewMB: nodeCode2 - nodeCode1,
  })
}

const [cmd, a, b, c] = process.argv.slice(2)
const job = cmd === 'require' ? requireCost(a, b) : soak(Number(a), Number(b), Number(c))
job.then(
  () => process.exit(0),
  (e) => {
    report({ error: String((e && (e.stack || e.errMsg)) || e) })
    process.exit(1)
  },
)
