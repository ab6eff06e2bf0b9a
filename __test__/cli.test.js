'use strict'
// The CLI (cli.js) as a script sees it: `call` and `env` in child processes
// against an emulator started here, exit codes, redaction, --help.

const path = require('path')
const { spawn } = require('child_process')
const { startEmulator } = require('..')

const CLI = path.join(__dirname, '..', 'cli.js')
const CREATE = 'tcb.createenvandresource'
const params = (alias) => JSON.stringify({ type: 'CreatePostpayPackage', alias })

/** Run the CLI with exactly `env` as its environment (nothing inherited). */
function run(args, { env = {}, input } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    child.on('error', reject)
    child.on('close', (code) => resolve({ code, stdout, stderr }))
    child.stdin.end(input === undefined ? '' : input)
  })
}

/** The JSON line `{"errCode":…,"errMsg":…}` a failed call leaves on stderr. */
const errorJson = (stderr) => JSON.parse(stderr.trim().split('\n').pop())

let emu
let httpsFlags
beforeAll(async () => {
  emu = await startEmulator()
  httpsFlags = ['--mode', 'https', '--appid', 'wx0emulatorapp0001', '--secret', 'emulator-app-secret', '--api-base-url', emu.httpsBaseUrl]
})
afterAll(() => emu.close())

describe('call', () => {
  test('cloud mode, credentials from the environment (an emulator cloudEnv)', async () => {
    const r = await run(['call', CREATE, params('clicloud'), '--debug'], { env: emu.cloudEnv() })
    expect(r.code).toBe(0)
    const res = JSON.parse(r.stdout)
    expect(res).toEqual({ envid: expect.stringMatching(/^clicloud-[a-z0-9]{6}$/), errMsg: `openapi.${CREATE}:ok`, errCode: 0 })
    expect(emu.environments()).toContainEqual(expect.objectContaining({ env: res.envid, createdVia: 'gateway' }))
    expect(r.stderr).toMatch(new RegExp(`^\\[wx-cloud-openapi\\] openapi\\.${CREATE} mode=cloud elapsed=\\d+ms errCode=0 seqId=\\w+ `))
  })

  test('HTTPS mode from flags; params from stdin', async () => {
    const r = await run(['call', `openapi.${CREATE}`, '-', ...httpsFlags], { input: params('clihttps') })
    expect(r.code).toBe(0)
    const res = JSON.parse(r.stdout)
    expect(res.envid).toMatch(/^clihttps-[a-z0-9]{6}$/)
    expect(emu.environments()).toContainEqual(expect.objectContaining({ env: res.envid, createdVia: 'https' }))
    expect(r.stderr).toBe('')
  })

  test('a failed call exits 1 with its errCode on stderr, and is not retried', async () => {
    emu.injectFault({ api: CREATE, kind: 'errcode', errcode: -1, times: 1 })
    const before = emu.stats().calls[`gateway:${CREATE}`]
    const r = await run(['call', CREATE, params('busy')], { env: emu.cloudEnv() })
    expect(r.code).toBe(1)
    expect(r.stdout).toBe('')
    expect(errorJson(r.stderr)).toEqual({ errCode: -1, errMsg: expect.stringContaining(`openapi.${CREATE}:fail`) })
    expect(emu.stats().calls[`gateway:${CREATE}`]).toBe(before + 1)

    const bad = await run(['call', CREATE, '{"type":"Other","alias":"x"}', ...httpsFlags])
    expect(bad.code).toBe(1)
    expect(errorJson(bad.stderr).errCode).toBe(40097)
  })

  test('configuration errors exit 3 and send nothing', async () => {
    const calls = emu.stats().calls
    const none = await run(['call', CREATE, params('x')])
    expect(none.code).toBe(3)
    expect(errorJson(none.stderr).errCode).toBe(-501006)
    expect(none.stderr).toMatch(/WX_APPID and WX_APPSECRET/)
    const badMode = await run(['call', CREATE, params('x'), '--mode', 'ftp'], { env: emu.cloudEnv() })
    expect(badMode.code).toBe(3)
    expect(badMode.stderr).toMatch(/option `mode` must be/)
    const halfHttps = await run(['call', CREATE, params('x'), '--appid', 'wx0emulatorapp0001'], { env: emu.cloudEnv() })
    expect(halfHttps.code).toBe(3)
    expect(halfHttps.stderr).toMatch(/`secret` is required/)
    expect(emu.stats().calls).toEqual(calls)
  })

  test('API names that are JavaScript function properties are sent as API names, like any other', async () => {
    // Not looked up on the openapi proxy (where they are Function.prototype's
    // or the proxy's own): each is one request for that API, and the
    // emulator's answer (-604100, no such API, as the platform gives it) is
    // a failed call with its errCode.
    for (const name of ['constructor', 'then', 'call', 'bind', 'apply', 'toJSON', 'toString']) {
      const api = `tcb.${name}`
      const before = emu.stats().calls[`gateway:${api}`] || 0
      const r = await run(['call', api, params('x')], { env: emu.cloudEnv() })
      expect({ api, code: r.code, stdout: r.stdout }).toEqual({ api, code: 1, stdout: '' })
      const err = errorJson(r.stderr)
      expect(err).toEqual({ errCode: -604100, errMsg: 'system error: error code: -604100' })
      expect(emu.stats().calls[`gateway:${api}`]).toBe(before + 1)
    }
  })

  test('usage errors exit 2 and send nothing', async () => {
    const calls = emu.stats().calls
    const env = emu.cloudEnv()
    for (const args of [
      ['call'],
      ['call', CREATE, '{"type":'],
      ['call', CREATE, '[1,2]'],
      ['call', CREATE, '"text"'],
      ['call', CREATE, params('x'), '--bogus'],
      ['call', CREATE, params('x'), '--timeout', 'soon'],
      ['call', CREATE, params('x'), '--appid'],
      ['call', 'tcb..create', params('x')],
      ['call', 'toJSON', params('x')],
      ['call', 'openapi.then', params('x')],
      ['emulator', '--port', 'abc'],
      ['emulator', '--port', '70000'],
      ['emulator', '--token-lifetime', '1h'],
      ['call', CREATE, params('x'), 'extra'],
      ['env', 'extra'],
      ['env', '--debug=yes'],
      ['nope'],
      [],
    ]) {
      const r = await run(args, { env })
      expect({ args, code: r.code }).toEqual({ args, code: 2 })
      expect(r.stdout).toBe('')
      expect(r.stderr).toMatch(/^wx-cloud-openapi/)
    }
    expect(emu.stats().calls).toEqual(calls)
  })
})

describe('env', () => {
  const SECRETS = ['emulator-test-secret-key', 'emulator-session-token', 'AKIDemulatortestsecretid0000000000', 'emulator-app-secret']

  test('cloud: mode, reason and sources, secrets redacted; the library agrees', async () => {
    const env = emu.cloudEnv()
    const r = await run(['env'], { env })
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/^mode: cloud$/m)
    expect(r.stdout).toMatch(/^why: +TENCENTCLOUD_SECRETID/m)
    expect(r.stdout).toMatch(/secretId +AKID…0000 +\(env TENCENTCLOUD_SECRETID\)/)
    expect(r.stdout).toMatch(/secretKey +\*\*\* +\(env TENCENTCLOUD_SECRETKEY\)/)
    expect(r.stdout).toMatch(/sessionToken +\*\*\*/)
    expect(r.stdout).toContain(`${emu.url}/admin`)
    expect(r.stdout).toMatch(/env +emulator-env/)
    for (const s of SECRETS) expect(r.stdout).not.toContain(s)

    const json = JSON.parse((await run(['env', '--json'], { env })).stdout)
    expect(json).toMatchObject({ ok: true, mode: 'cloud' })
    // The same decision as a real call makes (its debug line names the mode).
    const call = await run(['call', CREATE, params('agree'), '--debug'], { env })
    expect(call.stderr).toMatch(/ mode=cloud /)
  })

  test('HTTPS from flags and from WX_APPID/WX_APPSECRET; flags win over the cloud environment', async () => {
    const flags = await run(['env', ...httpsFlags.filter((f) => f !== '--mode' && f !== 'https')], { env: emu.cloudEnv() })
    expect(flags.code).toBe(0)
    expect(flags.stdout).toMatch(/^mode: https$/m)
    expect(flags.stdout).toMatch(/^why: +init\(\) was given `appid` and `secret`/m)
    expect(flags.stdout).toMatch(/secret +\*\*\* +\(init option secret\)/)
    expect(flags.stdout).toContain(`apiBaseUrl  ${emu.httpsBaseUrl}`)
    for (const s of SECRETS) expect(flags.stdout).not.toContain(s)

    const fromEnv = await run(['env', '--json'], {
      env: { WX_APPID: 'wx0emulatorapp0001', WX_APPSECRET: 'emulator-app-secret', WX_API_BASE_URL: emu.httpsBaseUrl },
    })
    const x = JSON.parse(fromEnv.stdout)
    expect(x.mode).toBe('https')
    expect(x.reason).toMatch(/WX_APPID and WX_APPSECRET are set in the environment/)
    expect(x.settings).toContainEqual({ name: 'apiBaseUrl', value: emu.httpsBaseUrl, source: 'env WX_API_BASE_URL' })
    expect(fromEnv.stdout).not.toContain('emulator-app-secret')

    const token = await run(['env', '--access-token', 'SUPPLIED-TOKEN-VALUE'])
    expect(token.stdout).toMatch(/^mode: https$/m)
    expect(token.stdout).not.toContain('SUPPLIED-TOKEN-VALUE')
    const third = await run(['env', '--authorizer-access-token', 'AUTHORIZER-TOKEN-VALUE'])
    expect(third.stdout).toMatch(/^mode: thirdparty$/m)
    expect(third.stdout).not.toContain('AUTHORIZER-TOKEN-VALUE')
  })

  test('in a cloud runtime WX_APPID/WX_APPSECRET do not switch to HTTPS, and `why` says so (issue 12 item 1)', async () => {
    const env = { ...emu.cloudEnv(), WX_APPID: 'wx0emulatorapp0001', WX_APPSECRET: 'emulator-app-secret', WX_API_BASE_URL: emu.httpsBaseUrl }
    const r = await run(['env'], { env })
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/^mode: cloud$/m)
    expect(r.stdout).toMatch(/^why: .*WX_APPID and WX_APPSECRET are set in the environment too.*mode: 'https'/m)
    expect(r.stdout).not.toContain('emulator-app-secret')
    const call = await run(['call', CREATE, params('runtime'), '--debug'], { env })
    expect(call.code).toBe(0)
    expect(call.stderr).toMatch(/ mode=cloud /)
    const https = await run(['env', '--mode', 'https'], { env })
    expect(https.stdout).toMatch(/^mode: https$/m)
    expect(https.stdout).toMatch(/appid +wx0emulatorapp0001 +\(env WX_APPID\)/)
  })

  test('a password in a URL (TCB_CONTEXT_CNFG, WX_API_BASE_URL, --service-url, --api-base-url) never shows (issue 12 item 2)', async () => {
    const closed = 'http://user:PASSW0RD-1@127.0.0.1:1'
    const cloud = emu.cloudEnv()
    const app = { WX_APPID: 'wx0emulatorapp0001', WX_APPSECRET: 'emulator-app-secret' }
    const cases = [
      [[], { ...cloud, TCB_CONTEXT_CNFG: JSON.stringify({ URL: `${closed}/admin` }) }],
      [[], { ...app, WX_API_BASE_URL: closed }],
      [['--service-url', `${closed}/admin`], cloud],
      [['--api-base-url', closed, '--access-token', 'SUPPLIED-TOKEN-VALUE'], {}],
    ]
    for (const [flags, env] of cases) {
      const shown = await run(['env', ...flags], { env })
      expect(shown.stdout).toContain('http://***@127.0.0.1:1')
      const called = await run(['call', CREATE, params('pw'), ...flags], { env })
      expect(called.code).not.toBe(0)
      expect(called.stderr).toContain('***@127.0.0.1:1')
      for (const out of [shown.stdout, shown.stderr, called.stdout, called.stderr]) {
        expect(out).not.toContain('PASSW0RD')
        expect(out).not.toContain('SUPPLIED-TOKEN-VALUE')
      }
    }
  })

  test.each([
    ["the shell's unquoted {URL:…}", (url) => `{URL:${url}}`],
    ['a lowercase url key', (url) => JSON.stringify({ url })],
    ['a bare URL', (url) => url],
    ['an ftp:// URL', (url) => JSON.stringify({ URL: url.replace('http:', 'ftp:') })],
  ])('TCB_CONTEXT_CNFG as %s: -501007 naming the variable, nothing sent (issue 12 item 9)', async (_name, make) => {
    const env = { ...emu.cloudEnv(), TCB_CONTEXT_CNFG: make(`${emu.url}/admin`) }
    const shown = await run(['env'], { env })
    expect(shown.code).toBe(3)
    expect(shown.stdout).toMatch(/errCode -501007: .*TCB_CONTEXT_CNFG/)
    const before = emu.stats().calls
    const called = await run(['call', CREATE, params('cnfg')], { env })
    expect(called.code).not.toBe(0)
    expect(errorJson(called.stderr)).toMatchObject({ errCode: -501007, errMsg: expect.stringContaining('TCB_CONTEXT_CNFG') })
    expect(emu.stats().calls).toEqual(before)
  })

  test('nothing usable: exit 3 with what would work', async () => {
    const r = await run(['env'])
    expect(r.code).toBe(3)
    expect(r.stdout).toMatch(/^mode: none$/m)
    expect(r.stdout).toMatch(/errCode -501006/)
    expect(r.stdout).toMatch(/WX_APPID and WX_APPSECRET/)
  })
})

test('--help for every command: exit 0, the exit codes documented', async () => {
  for (const args of [['--help'], ['call', '--help'], ['env', '-h'], ['emulator', '--help'], ['help', 'call']]) {
    const r = await run(args)
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/^Usage: wx-cloud-openapi/)
    expect(r.stdout).toMatch(/Exit codes:/)
  }
  const call = (await run(['call', '--help'])).stdout
  for (const flag of ['--mode', '--appid', '--secret', '--access-token', '--api-base-url', '--service-url', '--env', '--timeout']) {
    expect(call).toContain(flag)
  }
  expect(call).toMatch(/1 +the API call failed/)
  expect(call).toMatch(/3 +configuration error/)
})

test('--version (and -V, version) prints the package version and exits 0', async () => {
  const { version } = require('../package.json')
  for (const flag of ['--version', '-V', 'version']) {
    const r = await run([flag])
    expect({ code: r.code, stdout: r.stdout, stderr: r.stderr }).toEqual({ code: 0, stdout: `wx-cloud-openapi ${version}\n`, stderr: '' })
  }
  expect((await run(['--help'])).stdout).toContain('--version')
})

describe('emulator', () => {
  /** Start `emulator` with `args` and `env`; resolves its output once it printed its export lines. */
  function serve(args, env = {}) {
    const child = spawn(process.execPath, [CLI, 'emulator', ...args], { env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stderr.on('data', (d) => (stderr += d))
    const ready = new Promise((resolve, reject) => {
      child.stdout.on('data', (d) => {
        stdout += d
        if (stdout.includes('TENCENTCLOUD_SESSIONTOKEN')) resolve()
      })
      child.on('exit', (code) => reject(new Error(`exited ${code}: ${stderr}`)))
    })
    const stop = () =>
      new Promise((resolve) => {
        child.on('exit', (code) => resolve(code))
        child.kill('SIGTERM')
      })
    return ready.then(() => ({ stdout, stderr: () => stderr, stop }))
  }
  const urlOf = (stdout) => stdout.match(/listening on (http:\/\/127\.0\.0\.1:\d+)/)[1]

  test('prints the credentials a WeChat client must use; flags and variables set them; secrets given are not printed', async () => {
    const APP_SECRET = 'cli-app-secret-from-env'
    const REFRESH = 'cli-refresh-from-flag'
    const s = await serve(
      [
        '--appid',
        'wxcliapp',
        '--component-appid',
        'wxclicomp',
        '--authorizer',
        `wxcliauth:${REFRESH}`,
        '--authorizer',
        'wxcliauth2:r2',
        '--token-lifetime',
        '60',
        '--token-grace',
        '5',
        '--rotate-refresh-tokens',
      ],
      {
        WX_EMULATOR_APP_SECRET: APP_SECRET,
        WX_EMULATOR_COMPONENT_APPSECRET: 'cli-comp-secret',
        WX_EMULATOR_SECRET_ID: 'AKIDcli',
        WX_EMULATOR_SECRET_KEY: 'cli-secret-key',
      },
    )
    try {
      expect(s.stdout).toMatch(/^# app: appid wxcliapp, secret \(the WX_EMULATOR_APP_SECRET you gave\)$/m)
      expect(s.stdout).toMatch(/^# third-party platform: component_appid wxclicomp, component_appsecret \(the WX_EMULATOR_COMPONENT_APPSECRET you gave\)$/m)
      expect(s.stdout).toMatch(/^# authorizer: authorizer_appid wxcliauth, authorizer_refresh_token \(the --authorizer you gave\)$/m)
      expect(s.stdout).toMatch(/^# authorizer: authorizer_appid wxcliauth2, /m)
      expect(s.stdout).toMatch(/^# tokens: lifetime 60 s, grace 5 s; refresh tokens rotate on every renewal$/m)
      expect(s.stdout).toMatch(/^export TENCENTCLOUD_SECRETID='AKIDcli'$/m)
      expect(s.stdout).toMatch(/^export TENCENTCLOUD_SECRETKEY="\$WX_EMULATOR_SECRET_KEY"$/m)
      for (const secret of [APP_SECRET, 'cli-comp-secret', 'cli-secret-key', REFRESH]) expect(s.stdout + s.stderr()).not.toContain(secret)
      expect(s.stderr()).toBe('')
      // The emulator took them: the app's token, 60 s; the authorizer's refresh token rotates.
      const url = urlOf(s.stdout)
      const get = await fetch(`${url}/cgi-bin/token?grant_type=client_credential&appid=wxcliapp&secret=${APP_SECRET}`).then((r) => r.json())
      expect(get).toEqual({ access_token: expect.any(String), expires_in: 60 })
      const post = (p, b) => fetch(url + p, { method: 'POST', body: JSON.stringify(b) }).then((r) => r.json())
      const ct = (
        await post('/cgi-bin/component/api_component_token', {
          component_appid: 'wxclicomp',
          component_appsecret: 'cli-comp-secret',
          component_verify_ticket: 't',
        })
      ).component_access_token
      const a = await post(`/cgi-bin/component/api_authorizer_token?component_access_token=${ct}`, {
        component_appid: 'wxclicomp',
        authorizer_appid: 'wxcliauth',
        authorizer_refresh_token: REFRESH,
      })
      expect(a.authorizer_refresh_token).toMatch(/^refreshtoken@@@/)
    } finally {
      expect(await s.stop()).toBe(0)
    }
  })

  test('the defaults are printed in full', async () => {
    const s = await serve([])
    try {
      expect(s.stdout).toMatch(/^# app: appid wx0emulatorapp0001, secret emulator-app-secret$/m)
      expect(s.stdout).toMatch(/^# authorizer: authorizer_appid wx0emulatorauth001, authorizer_refresh_token emulator-refresh-token$/m)
      expect(s.stdout).toMatch(/refresh tokens stay the same$/m)
      // The control API, served by the emulator the CLI started (docs/emulator.md).
      const url = urlOf(s.stdout)
      expect(s.stdout).toContain(`\n# control API: ${url}/__emulator/ (authorize, revoke, push-ticket, faults, environments, stats)\n`)
      const authorized = await fetch(`${url}/__emulator/authorize`, { method: 'POST', body: '{"authorizerAppid":"wxclictl"}' })
      expect(authorized.status).toBe(200)
      expect(await authorized.json()).toMatchObject({ authorizerAppid: 'wxclictl', infoType: 'authorized', pushed: false })
      const stats = await fetch(`${url}/__emulator/stats`).then((r) => r.json())
      expect(stats).toMatchObject({ activeFaults: 0, faultsFired: 0 })
      expect(s.stderr()).toBe('')
    } finally {
      expect(await s.stop()).toBe(0)
    }
  })

  test('its export lines, pasted, point HTTPS calls at it too (WX_API_BASE_URL); the ticket line tells the truth', async () => {
    const s = await serve([])
    try {
      expect(s.stdout).toMatch(/^# component_verify_ticket: any non-empty value$/m)
      const exported = {}
      for (const [, k, v] of s.stdout.matchAll(/^export (\w+)='([^']*)'$/gm)) exported[k] = v
      expect(exported.WX_API_BASE_URL).toBe(urlOf(s.stdout))
      // HTTPS with the emulator's test app and no --api-base-url: only the pasted variable points it there.
      const r = await run(
        [
          'call',
          'tcb.createenvandresource',
          '{"type":"CreatePostpayPackage","alias":"pasted"}',
          '--mode',
          'https',
          '--appid',
          'wx0emulatorapp0001',
          '--secret',
          'emulator-app-secret',
        ],
        { env: { PATH: process.env.PATH, ...exported } },
      )
      expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' })
      expect(JSON.parse(r.stdout)).toMatchObject({ envid: expect.stringMatching(/^pasted-/), errCode: 0 })
    } finally {
      expect(await s.stop()).toBe(0)
    }
    const withEvents = await serve(['--component-event-url', 'http://platform:banner-url-password@127.0.0.1:9/wechat/component'], {
      WX_EMULATOR_COMPONENT_TOKEN: 't',
      WX_EMULATOR_COMPONENT_ENCODING_AES_KEY: 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG',
    })
    try {
      expect(withEvents.stdout).toMatch(/^# component_verify_ticket: the tickets it pushes to the event URL \(any other: 61006\)$/m)
      // The event URL's password is not shown (issue 19 item 10).
      expect(withEvents.stdout).toContain('pushed to http://***@127.0.0.1:9/wechat/component')
      expect(withEvents.stdout + withEvents.stderr()).not.toContain('banner-url-password')
    } finally {
      await withEvents.stop()
    }
  })

  test('a non-loopback address is warned about before listening', async () => {
    // Tests listen on loopback only: 192.0.2.1 (TEST-NET-1) is on no
    // interface here, so the bind fails (exit 3) after the warning.
    const r = await run(['emulator', '--host', '192.0.2.1'])
    expect(r.stderr).toMatch(/warning: --host 192\.0\.2\.1 is not a loopback address: the emulator will be reachable from other machines/)
    expect(r.code).toBe(3)
    expect(r.stderr).toMatch(/cannot listen on 192\.0\.2\.1/)
  })

  test('usage errors: a flag and its variable both set, an id without its secret, a bad authorizer', async () => {
    const cases = [
      [['--app-secret', 'x', '--appid', 'a'], { WX_EMULATOR_APP_SECRET: 'y' }, /--app-secret and WX_EMULATOR_APP_SECRET are both set/],
      [['--appid', 'a'], {}, /--appid and an app secret/],
      [['--component-appsecret', 's'], {}, /--component-appid and a component secret/],
      [[], { WX_EMULATOR_SECRET_KEY: 'k' }, /a secret id .* and a secret key/],
      [['--authorizer', 'nocolon'], {}, /--authorizer takes APPID:REFRESH_TOKEN/],
      [[], { WX_EMULATOR_AUTHORIZERS: 'a:' }, /WX_EMULATOR_AUTHORIZERS takes APPID:REFRESH_TOKEN, got an empty refresh token/],
      [['--token-grace', 'soon'], {}, /--token-grace must be a whole number/],
    ]
    for (const [args, env, msg] of cases) {
      const r = await run(['emulator', ...args], { env })
      expect({ args, code: r.code }).toEqual({ args, code: 2 })
      expect(r.stderr).toMatch(msg)
      expect(r.stdout).toBe('')
    }
  })
})
