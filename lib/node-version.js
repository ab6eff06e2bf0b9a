'use strict'
// The Node.js versions the package supports (package.json `engines`), checked
// first by index.js and cli.js, in syntax every Node parses: a runtime older
// than that (a cloud function left on Nodejs10.15) gets an Error that says
// what to change, never a SyntaxError or a crash further in.

var engines = require('../package.json').engines

function requireSupportedNode() {
  var min = /(\d+)\.(\d+)/.exec(engines.node)
  var have = process.versions.node.split('.')
  var major = Number(have[0])
  if (major > Number(min[1]) || (major === Number(min[1]) && Number(have[1]) >= Number(min[2]))) return
  var err = new Error(
    'wx-cloud-openapi needs Node.js ' +
      min[1] +
      '.' +
      min[2] +
      ' or later; this process runs Node.js ' +
      process.version +
      '. ' +
      "In a WeChat cloud function, change its runtime (运行环境) to Nodejs12.16 or Nodejs16.13 in the function's configuration " +
      '(WeChat DevTools or the CloudBase console) and deploy it again; see docs/cloud-function.md.',
  )
  err.code = 'WX_CLOUD_OPENAPI_NODE_TOO_OLD'
  throw err
}

module.exports = { requireSupportedNode: requireSupportedNode }
