'use strict'
// Cold start in a fresh process: `node cold.js ours|ref [root]` (root: the
// checkout 'ours' loads, default this one), environment from
// the gateway's cloudEnv(). Reports the time from just before `require` to
// the resolved result of one cloud call (the package's cold start), and the
// time since the process began (node's own start-up included).

const t0 = performance.now()
const { ROOT, REFERENCE, report } = require('./common')
const which = process.argv[2]
const tRequire = performance.now()
const cloud = require(which === 'ours' ? process.argv[3] || ROOT : REFERENCE)
const tInit = performance.now()
cloud.init({ env: cloud.DYNAMIC_CURRENT_ENV })
const tCall = performance.now()
cloud.openapi.tcb.createenvandresource({ type: 'CreatePostpayPackage', alias: 'cold' }).then(
  (r) => {
    const tDone = performance.now()
    report({
      ok: r.errCode === 0,
      packageMs: tDone - tRequire,
      requireMs: tInit - tRequire,
      initMs: tCall - tInit,
      callMs: tDone - tCall,
      sinceProcessStartMs: tDone,
      helpersMs: tRequire - t0,
    })
    process.exit(0)
  },
  (e) => {
    report({ ok: false, error: String(e && (e.errMsg || e.message)) })
    process.exit(1)
  },
)
