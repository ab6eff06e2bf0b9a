'use strict'

// Child process: load an SDK (argv[2], default wx-server-sdk), run the steps
// read from stdin (base64 of v8.serialize, so undefined and -0 survive), print
// one line `@@OUTCOMES@@ {json}`. With `guard`, unhandled rejections and
// uncaught exceptions are caught and reported instead of killing the process.
//   steps: [{op: 'init', config, dynamicEnv}, {op: 'call', input, options, api?}]

const v8 = require('v8')
const { capture, invoke, describeError } = require('./outcome')

async function main(job) {
  const unhandled = []
  if (job.guard) {
    process.on('unhandledRejection', (reason) => unhandled.push({ kind: 'unhandledRejection', ...describeError(reason) }))
    process.on('uncaughtException', (err) => unhandled.push({ kind: 'uncaughtException', ...describeError(err) }))
  }
  const t0 = Date.now()
  const cloud = require(job.module)
  const loadMs = Date.now() - t0
  const outcomes = []
  for (const step of job.steps) {
    if (step.op === 'init') {
      const config = { ...step.config }
      if (step.dynamicEnv) config.env = cloud.DYNAMIC_CURRENT_ENV
      outcomes.push(await capture(() => cloud.init(config), job.timeoutMs))
    } else if (step.op === 'call') {
      outcomes.push(await capture(() => invoke(cloud, step.input, step.options, step.api), job.timeoutMs))
    } else throw new Error(`unknown step ${step.op}`)
  }
  // let late rejections (e.g. from un-awaited promises) surface before reporting
  await new Promise((resolve) => setTimeout(resolve, 50))
  process.stdout.write(`\n@@OUTCOMES@@ ${JSON.stringify({ outcomes, unhandled, loadMs })}\n`)
}

const chunks = []
process.stdin.on('data', (c) => chunks.push(c))
process.stdin.on('end', () => {
  const job = v8.deserialize(Buffer.from(Buffer.concat(chunks).toString(), 'base64'))
  main(job).catch((e) => {
    process.stdout.write(`\n@@OUTCOMES@@ ${JSON.stringify({ fatal: String(e?.stack) })}\n`)
  })
})
