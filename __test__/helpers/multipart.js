'use strict'

// A small multipart/form-data parser (RFC 7578) that keeps every part's raw
// bytes, its headers and the order of the parts.

function boundaryOf(contentType) {
  const m = /;\s*boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType || '')
  if (!m) throw new Error(`no boundary in content-type ${JSON.stringify(contentType)}`)
  return m[1] || m[2]
}

function parseHeaders(block) {
  const headers = {}
  for (const line of block.split('\r\n')) {
    if (!line) continue
    const i = line.indexOf(':')
    if (i < 0) throw new Error(`bad part header line ${JSON.stringify(line)}`)
    headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim()
  }
  return headers
}

function dispositionParam(disposition, name) {
  const m = new RegExp(`;\\s*${name}="((?:[^"\\\\]|\\\\.)*)"`, 'i').exec(disposition || '')
  return m ? m[1].replace(/\\(.)/g, '$1') : undefined
}

// Returns [{name, filename, headers, data: Buffer}] in body order.
// Throws when the body is not well-formed (missing delimiters, no close).
function parseMultipart(body, contentType) {
  const boundary = boundaryOf(contentType)
  const delim = Buffer.from(`--${boundary}`)
  const parts = []
  let pos = body.indexOf(delim)
  if (pos !== 0) throw new Error('body does not start with the boundary delimiter')
  for (;;) {
    pos += delim.length
    if (body.subarray(pos, pos + 2).toString() === '--') break // close delimiter
    if (body.subarray(pos, pos + 2).toString() !== '\r\n') throw new Error(`no CRLF after delimiter at ${pos}`)
    pos += 2
    const headerEnd = body.indexOf('\r\n\r\n', pos)
    if (headerEnd < 0) throw new Error('unterminated part headers')
    const headers = parseHeaders(body.subarray(pos, headerEnd).toString('utf8'))
    const dataStart = headerEnd + 4
    const next = body.indexOf(Buffer.concat([Buffer.from('\r\n'), delim]), dataStart)
    if (next < 0) throw new Error('part not followed by a delimiter')
    const disposition = headers['content-disposition']
    if (!/^form-data\b/i.test(disposition || '')) throw new Error(`part without form-data disposition: ${disposition}`)
    parts.push({
      name: dispositionParam(disposition, 'name'),
      filename: dispositionParam(disposition, 'filename'),
      headers,
      data: Buffer.from(body.subarray(dataStart, next)),
    })
    pos = next + 2
  }
  return parts
}

module.exports = { parseMultipart, boundaryOf }
