'use strict'
// A push as WeChat sends it to a third-party platform's event URL, made in
// the test from any XML: WeChat's message crypto (AES-256-CBC with the
// EncodingAESKey, IV = the key's first 16 bytes, PKCS#7 to 32 bytes;
// plaintext = 16 random bytes, the XML's length as 4 bytes big-endian, the
// XML, the component appid) and the msg_signature (SHA-1 of the sorted
// token, timestamp, nonce and ciphertext). Lets a test send what the
// emulator does not: an older CreateTime, a replay, a nested element.

const crypto = require('crypto')

function encrypt(aesKey, appid, xml) {
  const key = Buffer.from(`${aesKey}=`, 'base64')
  const msg = Buffer.from(xml, 'utf8')
  const len = Buffer.alloc(4)
  len.writeUInt32BE(msg.length)
  const plain = Buffer.concat([crypto.randomBytes(16), len, msg, Buffer.from(appid, 'utf8')])
  const pad = 32 - (plain.length % 32)
  const cipher = crypto.createCipheriv('aes-256-cbc', key, key.subarray(0, 16))
  cipher.setAutoPadding(false)
  return Buffer.concat([cipher.update(Buffer.concat([plain, Buffer.alloc(pad, pad)])), cipher.final()]).toString('base64')
}

/** `{ query, body }` for a handler: `xml` encrypted and signed for the platform. */
function wechatPush({ token, encodingAesKey, componentAppid, xml, timestamp = Math.floor(Date.now() / 1000), nonce = String(crypto.randomInt(1e9)) }) {
  const enc = encrypt(encodingAesKey, componentAppid, xml)
  const ts = String(timestamp)
  const msgSignature = crypto.createHash('sha1').update([token, ts, nonce, enc].sort().join('')).digest('hex')
  return {
    query: `/wechat/component?timestamp=${ts}&nonce=${nonce}&encrypt_type=aes&msg_signature=${msgSignature}`,
    body: Buffer.from(`<xml><AppId><![CDATA[${componentAppid}]]></AppId><Encrypt><![CDATA[${enc}]]></Encrypt></xml>`),
  }
}

/** The XML of a component event: strings as CDATA, numbers bare (as WeChat writes CreateTime), objects as nested elements. */
function eventXml(fields) {
  const el = ([k, v]) => {
    if (v !== null && typeof v === 'object') return `<${k}>${Object.entries(v).map(el).join('')}</${k}>`
    return typeof v === 'number' ? `<${k}>${v}</${k}>` : `<${k}><![CDATA[${v}]]></${k}>`
  }
  return `<xml>${Object.entries(fields).map(el).join('')}</xml>`
}

module.exports = { wechatPush, eventXml }
