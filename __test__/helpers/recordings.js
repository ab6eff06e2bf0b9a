'use strict'

// The shared recordings of the reference SDK, and how recorded results and
// captured outcomes (helpers/outcome.js) are compared.

const path = require('path')

const SHARED = path.join(__dirname, '..', '..', '..', 'shared')
const recording = require(path.join(SHARED, 'conformance', 'wx-server-sdk-4.0.2.json'))
const signatureVectors = require(path.join(SHARED, 'conformance', 'signature-vectors.json'))

// The fields of an outcome that conformance compares. Resolved values are
// compared as JSON text, so key order counts.
function comparable(outcome) {
  if (outcome.threw) {
    const { ctor, errCode, errMsg, message, keys, sync, timeout } = outcome
    return { threw: true, ctor, errCode, errMsg, message, keys, ...(sync ? { sync } : {}), ...(timeout ? { timeout } : {}) }
  }
  return { threw: false, json: outcome.json }
}

// A recorded `result` in the same shape.
function expectedFrom(result) {
  if (result.threw) {
    const { ctor, errCode, errMsg, message, keys } = result
    return { threw: true, ctor, errCode, errMsg, message, keys }
  }
  return { threw: false, json: JSON.stringify(result.value) }
}

// The description the reference's CloudSDKError message shows for an errCode
// ('errCode: {code} {description} | errMsg: …'), learned from the recordings.
function descriptionFor(errCode) {
  for (const c of recording.responses) {
    const r = c.result
    if (r.threw && r.ctor === 'CloudSDKError' && r.errCode === errCode) {
      const m = /^errCode: (-?\d+) (.*?) \| errMsg: /.exec(r.message)
      if (m) return m[2]
    }
  }
  throw new Error(`no recorded CloudSDKError with errCode ${errCode}`)
}

function cloudSdkMessage(errCode, errMsg) {
  return `errCode: ${errCode} ${descriptionFor(errCode)} | errMsg: ${errMsg}`
}

const byName = (list, name) => {
  const c = list.find((x) => x.name === name)
  if (!c) throw new Error(`no recorded case ${name}`)
  return c
}

module.exports = { recording, signatureVectors, comparable, expectedFrom, cloudSdkMessage, descriptionFor, byName, SHARED }
