'use strict'

// Runs one SDK (the reference or ours) in a child process whose process.env is
// exactly `env` (plus PATH and TENCENTCLOUD_RUNENV=SCF, so the reference never
// probes a cloud metadata host), through steps beyond openapi calls:
//   {op: 'init', config}
//   {op: 'context'}                       -> cloud.getWXContext(), with its key list
//   {op: 'signature', options}            -> cloud.signature(options), described
//   {op: 'call', api, data, options, sig} -> cloud.openapi[(options)].<api>(data),
//        with data[sig.key] = cloud.signature({ type: 'midas', ...sig }) when `sig`
// Steps travel as v8.serialize (undefined, -0 and Buffers survive); outcomes
// come back as one line `@@OUTCOMES@@ {json}` (helpers/outcome.js shapes).

const path = require('path')
const v8 = require('v8')
const { spawn } = require('child_process')

function describeSignature(s) {
  if (s === undefined) return { undefined: true }
  return { ctor: s.constructor.name, keys: Object.keys(s), json: JSON.stringify(s), type: s.type, params: s.params, secret: s.secret }
}

async function main(job) {
  const { capture, describeError } = require('./outcome')
  const unhandled = []
  process.on('unhandledRejection', (reason) => unhandled.push({ kind: 'unhandledRejection', ...describeError(reason) }))
  const cloud = require(job.module)
  const outcomes = []
  for (const step of job.steps) {
    if (step.op === 'init') outcomes.push(await capture(() => cloud.init(step.config)))
    else if (step.op === 'context') {
      outcomes.push(
        await capture(() => {
          const ctx = cloud.getWXContext()
          return { keys: Object.keys(ctx), value: ctx }
        }),
      )
    } else if (step.op === 'signature') outcomes.push(await capture(() => describeSignature(cloud.signature(step.options))))
    else if (step.op === 'call') {
      outcomes.push(
        await capture(() => {
          const data = step.data === undefined ? undefined : { ...step.data }
          if (step.sig) data[step.sig.key] = cloud.signature({ type: 'midas', params: step.sig.params, secret: step.sig.secret })
          let fn = step.options ? cloud.openapi(step.options) : cloud.openapi
          for (const part of step.api.split('.')) fn = fn[part]
          return fn(data)
        }),
      )
    } else throw new Error(`unknown step ${step.op}`)
  }
  await new Promise((resolve) => setTimeout(resolve, 50))
  process.stdout.write(`\n@@OUTCOMES@@ ${JSON.stringify({ outcomes, unhandled })}\n`)
}

// Parent side: run `steps` with `module` under `env`; resolves the outcomes.
function runSurface({ module, env, steps, killAfterMs = 20000 }) {
  const childEnv = { PATH: process.env.PATH, ...env, TENCENTCLOUD_RUNENV: 'SCF' }
  for (const k of Object.keys(childEnv)) if (childEnv[k] === undefined) delete childEnv[k]
  const job = v8.serialize({ module, steps }).toString('base64')
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [__filename], { env: childEnv, stdio: ['pipe', 'pipe', 'pipe'], timeout: killAfterMs })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (c) => (stdout += c))
    child.stderr.on('data', (c) => (stderr += c))
    child.on('error', reject)
    child.on('close', (code) => {
      const line = stdout.split('\n').find((l) => l.startsWith('@@OUTCOMES@@ '))
      if (!line) return reject(new Error(`child exited ${code} without outcomes: ${stderr.slice(-2000)}`))
      const report = JSON.parse(line.slice('@@OUTCOMES@@ '.length))
      if (report.unhandled.length) return reject(new Error(`unhandled in child: ${JSON.stringify(report.unhandled)}`))
      resolve(report.outcomes)
    })
    child.stdin.end(job)
  })
}

if (require.main === module) {
  const chunks = []
  process.stdin.on('data', (c) => chunks.push(c))
  process.stdin.on('end', () => {
    const job = v8.deserialize(Buffer.from(Buffer.concat(chunks).toString(), 'base64'))
    main(job).catch((e) => process.stdout.write(`\n@@OUTCOMES@@ ${JSON.stringify({ outcomes: null, unhandled: [{ fatal: String(e?.stack) }] })}\n`))
  })
}

module.exports = { runSurface, OURS: path.join(__dirname, '..', '..', 'index.js') }
