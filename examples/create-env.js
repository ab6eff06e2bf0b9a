'use strict'
// Create a cloud environment from Node with wx-cloud-openapi, against the
// local emulator (no account, no network):
//
//   node examples/create-env.js
//
// In your project, require('wx-cloud-openapi') instead of require('..').
const cloud = require('..')

async function main() {
  const emulator = await cloud.startEmulator()
  try {
    // A cloud function's environment, pointed at the emulator; in a real
    // cloud function the runtime sets these variables.
    Object.assign(process.env, emulator.cloudEnv())
    cloud.init({ env: cloud.DYNAMIC_CURRENT_ENV })
    const result = await cloud.openapi.tcb.createenvandresource({ type: 'CreatePostpayPackage', alias: 'example' })
    // { envid: 'example-…', errMsg: 'openapi.tcb.createenvandresource:ok', errCode: 0 }
    console.log(JSON.stringify(result))
  } finally {
    await emulator.close()
  }
}

main().catch((e) => {
  console.error(e)
  process.exitCode = 1
})
