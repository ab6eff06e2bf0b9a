'use strict'
// What a Linux shared object needs from the process that loads it, read from
// its ELF dynamic sections (no binutils needed):
//   - the symbol versions it needs from each library (`.gnu.version_r`):
//     `GLIBC_2.17` and below is what a WeChat cloud function (CentOS 7.6) has;
//   - its undefined dynamic symbols (`.dynsym`): the `napi_*` functions it
//     expects node to export.
//
//   node scripts/elf.js FILE.node [NODE_BINARY]   prints both (and, given a
//                                                 node binary, what it lacks)

const fs = require('fs')

const SHT_DYNSYM = 11
const SHT_GNU_VERNEED = 0x6ffffffe

function readElf(file) {
  const b = fs.readFileSync(file)
  if (b.readUInt32BE(0) !== 0x7f454c46) throw new Error(`${file} is not an ELF file`)
  if (b[4] !== 2 || b[5] !== 1) throw new Error(`${file}: only 64-bit little-endian ELF is read here`)
  const shoff = Number(b.readBigUInt64LE(0x28))
  const shentsize = b.readUInt16LE(0x3a)
  const shnum = b.readUInt16LE(0x3c)
  const sections = []
  for (let i = 0; i < shnum; i++) {
    const o = shoff + i * shentsize
    sections.push({
      type: b.readUInt32LE(o + 4),
      offset: Number(b.readBigUInt64LE(o + 0x18)),
      size: Number(b.readBigUInt64LE(o + 0x20)),
      link: b.readUInt32LE(o + 0x28),
      info: b.readUInt32LE(o + 0x2c),
      entsize: Number(b.readBigUInt64LE(o + 0x38)),
    })
  }
  const str = (section, at) => {
    const start = section.offset + at
    return b.toString('latin1', start, b.indexOf(0, start))
  }
  return { b, sections, str }
}

/** `{ libraries: { 'libc.so.6': ['GLIBC_2.2.5', …] }, undefinedSymbols: ['napi_…', …], defined: […] }` */
function dynamicNeeds(file) {
  const { b, sections, str } = readElf(file)
  const libraries = {}
  for (const s of sections.filter((x) => x.type === SHT_GNU_VERNEED)) {
    const strtab = sections[s.link]
    let at = s.offset
    for (let n = 0; n < s.info; n++) {
      const cnt = b.readUInt16LE(at + 2)
      const lib = str(strtab, b.readUInt32LE(at + 4))
      if (!libraries[lib]) libraries[lib] = []
      const versions = libraries[lib]
      let aux = at + b.readUInt32LE(at + 8)
      for (let k = 0; k < cnt; k++) {
        versions.push(str(strtab, b.readUInt32LE(aux + 8)))
        aux += b.readUInt32LE(aux + 12)
      }
      at += b.readUInt32LE(at + 12)
    }
  }
  const undefinedSymbols = []
  const defined = []
  for (const s of sections.filter((x) => x.type === SHT_DYNSYM)) {
    const strtab = sections[s.link]
    for (let o = s.offset + s.entsize; o < s.offset + s.size; o += s.entsize) {
      const name = str(strtab, b.readUInt32LE(o))
      if (!name) continue
      ;(b.readUInt16LE(o + 6) === 0 ? undefinedSymbols : defined).push(name)
    }
  }
  return { libraries, undefinedSymbols: undefinedSymbols.sort(), defined: defined.sort() }
}

/** Compare dotted versions: `GLIBC_2.17` vs `GLIBC_2.2.5`. */
function compareVersions(a, b) {
  const pa = a.split('.').map(Number)
  const pb = b.split('.').map(Number)
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] || 0) - (pb[i] || 0)
    if (d !== 0) return d
  }
  return 0
}

/** The highest `GLIBC_x.y` any library is asked for (`null` when none is). */
function glibcNeed(file) {
  const all = Object.values(dynamicNeeds(file).libraries)
    .flat()
    .filter((v) => /^GLIBC_\d/.test(v))
    .map((v) => v.slice('GLIBC_'.length))
  if (all.length === 0) return null
  return all.sort(compareVersions)[all.length - 1]
}

/** The Node-API functions `addon` imports that `nodeBinary` does not export. */
function missingNodeApi(addon, nodeBinary) {
  const exported = new Set(dynamicNeeds(nodeBinary).defined)
  return dynamicNeeds(addon).undefinedSymbols.filter((s) => /^(napi_|node_api_)/.test(s) && !exported.has(s))
}

module.exports = { dynamicNeeds, glibcNeed, missingNodeApi, compareVersions }

if (require.main === module) {
  const [file, node] = process.argv.slice(2)
  if (!file) {
    console.error('usage: node scripts/elf.js FILE.node [NODE_BINARY]')
    process.exit(2)
  }
  const needs = dynamicNeeds(file)
  console.log(`highest glibc symbol version: ${glibcNeed(file) || '(none)'}`)
  for (const [lib, versions] of Object.entries(needs.libraries)) console.log(`  ${lib}: ${versions.join(' ')}`)
  console.log(`Node-API functions imported: ${needs.undefinedSymbols.filter((s) => /^(napi_|node_api_)/.test(s)).length}`)
  if (node) {
    const missing = missingNodeApi(file, node)
    console.log(missing.length === 0 ? `${node} exports all of them` : `${node} lacks: ${missing.join(' ')}`)
  }
}
