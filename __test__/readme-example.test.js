'use strict'
// The README's jest example for users' own tests, extracted from README.md
// and run as written (only the package name is pointed at this checkout):
// if the README changes, this runs the new text; if the example goes
// missing, this suite fails.

const fs = require('fs')
const path = require('path')

const ROOT = path.join(__dirname, '..')
const README = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8')

const blocks = [...README.matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1])
const example = blocks.find((b) => b.startsWith('// my-function.test.js (jest)'))
if (!example) throw new Error('README.md has no ```js block starting with "// my-function.test.js (jest)"')
if (!/require\('wx-cloud-openapi'\)/.test(example)) throw new Error('the README example does not require wx-cloud-openapi')

const registered = []
const localRequire = (id) => require(id === 'wx-cloud-openapi' ? ROOT : id)
const countingTest = (name, fn, timeout) => {
  registered.push(name)
  return test(`README: ${name}`, fn, timeout)
}
// eslint-disable-next-line no-new-func
new Function('require', 'beforeAll', 'afterAll', 'beforeEach', 'afterEach', 'test', 'it', 'describe', 'expect', example)(
  localRequire,
  beforeAll,
  afterAll,
  beforeEach,
  afterEach,
  countingTest,
  countingTest,
  describe,
  expect,
)

test('the README example registers its tests', () => {
  expect(registered.length).toBeGreaterThanOrEqual(1)
})
