'use strict'

// Runs an SDK in a child node process, so this process's environment is never
// touched: the child gets exactly `env` (plus PATH) as its process.env.
// TENCENTCLOUD_RUNENV=SCF is always set so the reference never probes a cloud
// metadata host; point TCB_CONTEXT_CNFG at the scripted gateway.

const path = require('path')
const v8 = require('v8')
const { spawn } = require('child_process')

const CHILD = path.join(__dirname, 'sdk-child.js')
const REFERENCE = require.resolve('wx-server-sdk', { paths: [path.join(__dirname, '..', '..')] })

// The test credentials, and the keyring the scripted gateway verifies with.
const SECRET_ID = 'AKIDtest'
const SECRET_KEY = 'testsecretkey'
const GATEWAY_KEYS = { [SECRET_ID]: SECRET_KEY }

// Environment of a cloud function whose gateway is `gatewayUrl` (values match
// the recorded sample_wire: env test-env-123, session token sesstoken).
function cloudEnv(gatewayUrl, extra = {}) {
  const env = {
    TENCENTCLOUD_RUNENV: 'SCF',
    TENCENTCLOUD_SECRETID: SECRET_ID,
    TENCENTCLOUD_SECRETKEY: SECRET_KEY,
    TENCENTCLOUD_SESSIONTOKEN: 'sesstoken',
    TENCENTCLOUD_REGION: 'ap-shanghai',
    SCF_NAMESPACE: 'test-env-123',
    TCB_ENV: 'test-env-123',
    TCB_CONTEXT_KEYS: 'TCB_ENV',
    TCB_CONTEXT_CNFG: JSON.stringify({ URL: gatewayUrl }),
    ...extra,
  }
  // `extra` may remove a variable by giving it as undefined
  for (const k of Object.keys(env)) if (env[k] === undefined) delete env[k]
  return env
}

// Returns {code, signal, stdout, stderr, outcomes, unhandled, fatal}. A child
// still running after `killAfterMs` (e.g. kept alive by an open handle) is
// killed, and reports signal SIGTERM.
function runSdk({ module = REFERENCE, env, steps, guard = true, timeoutMs = 10000, killAfterMs = 20000 }) {
  const childEnv = { PATH: process.env.PATH, ...env, TENCENTCLOUD_RUNENV: 'SCF' }
  for (const k of Object.keys(childEnv)) if (childEnv[k] === undefined) delete childEnv[k]
  const job = v8.serialize({ module, steps, guard, timeoutMs }).toString('base64')
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD], { env: childEnv, stdio: ['pipe', 'pipe', 'pipe'], timeout: killAfterMs })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (c) => (stdout += c))
    child.stderr.on('data', (c) => (stderr += c))
    child.on('error', reject)
    child.on('close', (code, signal) => {
      const line = stdout.split('\n').find((l) => l.startsWith('@@OUTCOMES@@ '))
      const report = line ? JSON.parse(line.slice('@@OUTCOMES@@ '.length)) : {}
      resolve({ code, signal, stdout, stderr, outcomes: report.outcomes, unhandled: report.unhandled, fatal: report.fatal, loadMs: report.loadMs })
    })
    child.stdin.end(job)
  })
}

// Convenience: init once with `config`, then each call {input, options, api?}.
// `dynamicEnv`: init with env = cloud.DYNAMIC_CURRENT_ENV.
async function runReference({ env, init = {}, dynamicEnv = false, calls, guard = true }) {
  const steps = [{ op: 'init', config: init, dynamicEnv }, ...calls.map((c) => ({ op: 'call', input: c.input, options: c.options || null, api: c.api }))]
  const r = await runSdk({ env, steps, guard })
  if (!r.outcomes) throw new Error(`reference child failed (exit ${r.code} ${r.signal || ''}): ${r.fatal || r.stderr.slice(-2000)}`)
  return { ...r, initOutcome: r.outcomes[0], outcomes: r.outcomes.slice(1) }
}

module.exports = { runSdk, runReference, cloudEnv, REFERENCE, GATEWAY_KEYS, SECRET_ID, SECRET_KEY }
