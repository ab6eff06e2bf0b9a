'use strict'

// A tiny protobuf wire-format reader and writer, independent of the SDKs under
// test: enough for CommApiData (what the SDK sends) and CommOpenApiResp (what
// the scripted gateway answers). Field numbers follow spec section 5.

function varint(n) {
  // n: a non-negative BigInt or a number (negative int32 is sign-extended to 64 bits)
  let v = typeof n === 'bigint' ? n : BigInt(n)
  if (v < 0n) v += 1n << 64n
  const out = []
  do {
    let byte = Number(v & 0x7fn)
    v >>= 7n
    if (v > 0n) byte |= 0x80
    out.push(byte)
  } while (v > 0n)
  return Buffer.from(out)
}

function tag(field, wireType) {
  return varint((field << 3) | wireType)
}

function lenField(field, bytes) {
  const b = Buffer.isBuffer(bytes) ? bytes : Buffer.from(String(bytes), 'utf8')
  return Buffer.concat([tag(field, 2), varint(b.length), b])
}

function varintField(field, n) {
  return Buffer.concat([tag(field, 0), varint(n)])
}

// CommOpenApiResp { bytes respData = 1; string contentType = 2; int32 errorCode = 3;
//   uint32 httpCode = 4; repeated HttpHeader headers = 5; int32 svrkitErrorCode = 6; }
// Only the fields given are written, in field order (strings as UTF-8).
function encodeCommOpenApiResp(msg) {
  const parts = []
  if (msg.respData !== undefined) parts.push(lenField(1, msg.respData))
  if (msg.contentType !== undefined) parts.push(lenField(2, msg.contentType))
  if (msg.errorCode !== undefined) parts.push(varintField(3, msg.errorCode))
  if (msg.httpCode !== undefined) parts.push(varintField(4, msg.httpCode))
  for (const h of msg.headers || []) {
    parts.push(lenField(5, Buffer.concat([lenField(1, h.key), lenField(2, h.value)])))
  }
  if (msg.svrkitErrorCode !== undefined) parts.push(varintField(6, msg.svrkitErrorCode))
  return Buffer.concat(parts)
}

// Generic reader: a list of {field, wireType, value} (value: BigInt for
// varints, Buffer for length-delimited). Throws on anything malformed.
function readFields(buf) {
  const fields = []
  let pos = 0
  const readVarint = () => {
    let result = 0n
    let shift = 0n
    for (;;) {
      if (pos >= buf.length) throw new Error(`truncated varint at ${pos}`)
      const b = buf[pos++]
      result |= BigInt(b & 0x7f) << shift
      if (!(b & 0x80)) return result
      shift += 7n
      if (shift > 63n) throw new Error(`varint too long at ${pos}`)
    }
  }
  while (pos < buf.length) {
    const key = Number(readVarint())
    const field = key >>> 3
    const wireType = key & 7
    if (field === 0) throw new Error(`field number 0 at ${pos}`)
    let value
    if (wireType === 0) value = readVarint()
    else if (wireType === 2) {
      const len = Number(readVarint())
      if (pos + len > buf.length) throw new Error(`truncated bytes at ${pos}`)
      value = buf.subarray(pos, pos + len)
      pos += len
    } else if (wireType === 1 || wireType === 5) {
      const len = wireType === 1 ? 8 : 4
      if (pos + len > buf.length) throw new Error(`truncated fixed at ${pos}`)
      value = buf.subarray(pos, pos + len)
      pos += len
    } else throw new Error(`unsupported wire type ${wireType} at ${pos}`)
    fields.push({ field, wireType, value })
  }
  return fields
}

function int32(v) {
  return Number(BigInt.asIntN(32, v))
}

// CommApiData { ApiType apiType = 1; OpenApiData openapiData = 2; string appid = 6; }
// OpenApiData { repeated KeyValuePair pairs = 1; }
// KeyValuePair { string key = 1; bytes value = 2; string contenttype = 3; string filename = 4; }
// `fieldOrder` lists the top-level field numbers as they appear on the wire.
function decodeCommApiData(buf) {
  const out = { fieldOrder: [], apiType: undefined, openapiData: undefined, appid: undefined, other: [] }
  for (const f of readFields(buf)) {
    out.fieldOrder.push(f.field)
    if (f.field === 1 && f.wireType === 0) out.apiType = int32(f.value)
    else if (f.field === 2 && f.wireType === 2) {
      const pairs = []
      for (const p of readFields(f.value)) {
        if (p.field !== 1 || p.wireType !== 2) throw new Error(`unexpected OpenApiData field ${p.field}`)
        const kv = {}
        for (const q of readFields(p.value)) {
          if (q.wireType !== 2) throw new Error(`unexpected KeyValuePair wire type ${q.wireType}`)
          if (q.field === 1) kv.key = q.value.toString('utf8')
          else if (q.field === 2) kv.value = Buffer.from(q.value)
          else if (q.field === 3) kv.contenttype = q.value.toString('utf8')
          else if (q.field === 4) kv.filename = q.value.toString('utf8')
          else throw new Error(`unexpected KeyValuePair field ${q.field}`)
        }
        pairs.push(kv)
      }
      out.openapiData = { pairs }
    } else if (f.field === 6 && f.wireType === 2) out.appid = f.value.toString('utf8')
    else out.other.push(f)
  }
  return out
}

function decodeCommOpenApiResp(buf) {
  const out = { headers: [] }
  for (const f of readFields(buf)) {
    if (f.field === 1) out.respData = Buffer.from(f.value)
    else if (f.field === 2) out.contentType = f.value.toString('utf8')
    else if (f.field === 3) out.errorCode = int32(f.value)
    else if (f.field === 4) out.httpCode = Number(BigInt.asUintN(32, f.value))
    else if (f.field === 5) {
      const h = {}
      for (const q of readFields(f.value)) h[q.field === 1 ? 'key' : 'value'] = q.value.toString('utf8')
      out.headers.push(h)
    } else if (f.field === 6) out.svrkitErrorCode = int32(f.value)
  }
  return out
}

module.exports = { encodeCommOpenApiResp, decodeCommApiData, decodeCommOpenApiResp, readFields, varint, lenField }
