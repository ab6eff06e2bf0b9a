'use strict'

// Deterministic generator of createenvandresource inputs for the differential
// test: a seeded PRNG (mulberry32) picks keys and values from pools meant to hit
// the conversion and serialisation edges (case conversion ordering and
// collisions, integer-like keys, json2 escape ranges, odd numbers, undefined).

function mulberry32(seed) {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const KEYS = [
  // camelCase, snake_case, UPPER / leading upper
  'envId',
  'someCamelKey',
  'aB',
  'aBC',
  'x1Y',
  'resourceList',
  'alias',
  'type',
  'env_id',
  'a_b',
  'resource_list',
  'a__b',
  '_lead',
  'trail_',
  'a_B',
  'A_b',
  'ALIAS',
  'XMLHttp',
  'Type',
  'A',
  'ID',
  // integer-like and almost integer-like
  '0',
  '2',
  '10',
  '4294967294',
  '4294967295',
  '007',
  '1x',
  '-1',
  // non-ASCII
  'ÉtatX',
  'clé',
  '名字',
  'emoji🚀Key',
]

const STRINGS = [
  '',
  'test-env',
  'CreatePostpayPackage',
  '测试环境',
  '🚀',
  'a🚀b👍🏽',
  '\u2028',
  '\u2029',
  '\u00ad',
  '\ufeff',
  '\u200c',
  '\u0600',
  '\u070f',
  '\u17b4',
  '\u2060',
  '\ufff0',
  '\uffff',
  '\x7f',
  '\x9f',
  '\x00',
  '\x01\x1f',
  'line\nbreak\ttab\r',
  'quote"back\\slash/',
  '</script>',
  ' padded ',
  'Ünïcödé',
  '\ud83d\ude80\u2028\u00ad',
]

const NUMBERS = [
  0,
  -0,
  1,
  -1,
  1.5,
  -2.25,
  0.1,
  1e21,
  1e-7,
  123456789,
  2 ** 53,
  -(2 ** 53),
  2 ** 31,
  -(2 ** 31),
  1.7976931348623157e308,
  5e-324,
  NaN,
  Infinity,
  -Infinity,
]

function generateInputs(seed, count) {
  const rnd = mulberry32(seed)
  const pick = (arr) => arr[Math.floor(rnd() * arr.length)]
  const int = (n) => Math.floor(rnd() * n)

  function value(depth) {
    const r = rnd()
    if (depth < 3 && r < 0.18) return object(depth + 1, 1 + int(4))
    if (depth < 3 && r < 0.3) {
      const arr = []
      for (let i = int(4); i > 0; i--) arr.push(value(depth + 1))
      return arr
    }
    if (r < 0.55) return pick(STRINGS)
    if (r < 0.75) return pick(NUMBERS)
    if (r < 0.83) return rnd() < 0.5
    if (r < 0.9) return null
    if (r < 0.96) return undefined
    return new Date(Date.UTC(2020, int(12), 1 + int(28), int(24), int(60), int(60), int(1000)))
  }

  function object(depth, n) {
    const o = {}
    for (let i = 0; i < n; i++) o[pick(KEYS)] = value(depth)
    return o
  }

  const inputs = []
  for (let i = 0; i < count; i++) inputs.push(object(0, 1 + int(7)))
  return inputs
}

// Hand-written inputs for edges the random pools may miss.
const FIXED_INPUTS = [
  { type: 'CreatePostpayPackage', alias: 'x' },
  {},
  { aB: 1, a_b: 2, A_b: 3, AB: 4 },
  { a_b: { cD: 1, c_d: 2 }, list: [[{ eF: [{ gH: 1 }] }], { iJ: undefined, k: [undefined, null] }] },
  { 2: 'two', b: 1, 1: 'one', zY: { 10: 1, 9: 2, aA: 3 } },
  { big: 2 ** 53 + 2, neg0: -0, tiny: 5e-324, exp: 1e21, frac: -0.000001, nan: NaN, inf: -Infinity },
  { s: '\u2028\u2029\u00ad\ufeff\u0604\u17b5\u200f\u206f\ufff9', e: '👨‍👩‍👧‍👦', c: '\u0000\u001f"\\' },
  { lone: 'a\ud800b', loneLow: '\udc00' },
  { when: new Date(Date.UTC(2026, 10, 27, 12, 0, 0, 5)), nested: { when: new Date(0) } },
  { onlyUndefined: undefined },
  { XMLHttpRequest: 1, URLs: ['a'], iOS: true, _private: 1, __proto2__: 2 },
]

module.exports = { generateInputs, FIXED_INPUTS, mulberry32 }
