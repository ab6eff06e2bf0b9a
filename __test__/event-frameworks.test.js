'use strict'
// The event endpoint snippets of docs/third-party-events.md for Express and
// Koa, run as the page writes them (Express 5 and Koa 3 are
// devDependencies), on loopback, with the emulator pushing real encrypted
// events as WeChat would: through each framework the verify ticket and an
// authorization reach the store, a client then creates an environment in
// the authorizer's account with what was stored, and a push that was not
// signed with the platform's token is answered `fail` and stores nothing.

const fs = require('fs')
const path = require('path')
const sdk = require('../index.js')
const { storeKeys } = require('../lib/component-events.js')

const COMPONENT_APPID = 'wx0emulatorcomp001'
const COMPONENT_SECRET = 'emulator-component-secret'
const TOKEN = 'framework-message-token'
const AES_KEY = 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG'
const SHOP = 'wxframeworkshop01'

/** The first js block after the heading `### {heading}` of the events page. */
function snippet(heading) {
  const doc = fs.readFileSync(path.join(__dirname, '..', 'docs', 'third-party-events.md'), 'utf8')
  const at = doc.indexOf(`### ${heading}\n`)
  if (at < 0) throw new Error(`docs/third-party-events.md has no "### ${heading}" section`)
  const block = /```js\n([\s\S]*?)```/.exec(doc.slice(at))
  if (!block) throw new Error(`the "${heading}" section has no js block`)
  return block[1]
}

/** The snippet's `app`, built with our `handle` (the snippet leaves listening to the caller). */
function appOf(heading, handle) {
  return new Function('require', 'handle', `${snippet(heading)}\nreturn app`)(require, handle)
}

describe.each(['Express', 'Koa'])('the %s snippet', (framework) => {
  let emu, server, url, store
  let handle = null

  beforeAll(async () => {
    store = sdk.memoryStore()
    // The emulator needs the endpoint's URL and the handler the emulator's:
    // the app calls the handler through this indirection.
    const app = appOf(framework, (req) => handle(req))
    server = await new Promise((resolve, reject) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s))
      s.on('error', reject)
    })
    url = `http://127.0.0.1:${server.address().port}/wechat/component`
    emu = await sdk.startEmulator({
      componentEventUrl: url,
      componentToken: TOKEN,
      componentEncodingAesKey: AES_KEY,
      ticketIntervalMs: 0,
      authorizers: [],
    })
    handle = sdk.createComponentEventHandler({
      componentAppid: COMPONENT_APPID,
      componentAppsecret: COMPONENT_SECRET,
      token: TOKEN,
      encodingAesKey: AES_KEY,
      store,
      apiBaseUrl: emu.httpsBaseUrl,
    })
  })

  afterAll(async () => {
    await emu.close()
    server.closeAllConnections()
    await new Promise((resolve) => server.close(resolve))
  })

  test('the ticket and an authorization reach the store; the client creates an environment in the authorizer account', async () => {
    const ticket = await emu.pushTicket()
    expect(await store.get(storeKeys.ticket(COMPONENT_APPID))).toBe(ticket)
    const auth = await emu.authorize(SHOP)
    expect(auth).toMatchObject({ infoType: 'authorized', pushed: true })
    expect(await store.get(storeKeys.refreshToken(COMPONENT_APPID, SHOP))).toMatch(/^refreshtoken@@@/)

    const cloud = new sdk.Cloud()
    cloud.init({ componentAppid: COMPONENT_APPID, componentAppsecret: COMPONENT_SECRET, store, apiBaseUrl: emu.httpsBaseUrl, processEnv: {} })
    const r = await cloud.openapi({ appid: SHOP }).tcb.createenvandresource({ type: 'CreatePostpayPackage', alias: framework.toLowerCase() })
    expect(r.errCode).toBe(0)
    expect(emu.environments().find((e) => e.env === r.envid).account).toBe(SHOP)
  })

  test('a push not signed with the platform token is answered fail and stores nothing', async () => {
    const before = await store.get(storeKeys.ticket(COMPONENT_APPID))
    const body = `<xml><AppId><![CDATA[${COMPONENT_APPID}]]></AppId><Encrypt><![CDATA[AAAA]]></Encrypt></xml>`
    const res = await fetch(`${url}?timestamp=1700000000&nonce=n1&encrypt_type=aes&msg_signature=${'0'.repeat(40)}`, {
      method: 'POST',
      headers: { 'content-type': 'text/xml' },
      body,
    })
    expect([res.status, await res.text()]).toEqual([400, 'fail'])
    expect(await store.get(storeKeys.ticket(COMPONENT_APPID))).toBe(before)
  })
})
