'use strict'
// A "cloud function" using the reference wx-server-sdk: creates one
// environment with whatever process.env it was given and prints the outcome.
const cloud = require('wx-server-sdk')

cloud.init({ env: cloud.DYNAMIC_CURRENT_ENV })
cloud.openapi.tcb.createenvandresource({ type: 'CreatePostpayPackage', alias: process.argv[2] || 'sdk-env' }).then(
  (r) => process.stdout.write(`${JSON.stringify({ ok: true, value: r })}\n`),
  (e) => process.stdout.write(`${JSON.stringify({ ok: false, errCode: e.errCode, errMsg: e.errMsg })}\n`),
)
