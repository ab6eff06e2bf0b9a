'use strict'

// Loads OUR SDK (../../index.js) as a fresh module instance, so each test file
// (or each configuration) gets its own cloud object and init() state.

const fs = require('fs')
const path = require('path')

const OURS = path.join(__dirname, '..', '..', 'index.js')

function loadOurs() {
  if (!fs.existsSync(OURS)) {
    throw new Error(
      `our SDK entry ${OURS} does not exist (yet): index.js must export the wx-server-sdk surface ` +
        '(init, openapi, CloudSDKError, DYNAMIC_CURRENT_ENV); these tests cannot run without it',
    )
  }
  let mod
  jest.isolateModules(() => {
    mod = require(OURS)
  })
  return mod
}

// A fresh instance initialised with `processEnv` standing in for process.env
// (`dynamicEnv`: with env = cloud.DYNAMIC_CURRENT_ENV).
function initOurs(processEnv, config = {}, { dynamicEnv = false } = {}) {
  const cloud = loadOurs()
  cloud.init({ ...config, ...(dynamicEnv ? { env: cloud.DYNAMIC_CURRENT_ENV } : {}), processEnv: { ...processEnv } })
  return cloud
}

module.exports = { loadOurs, initOurs, OURS }
