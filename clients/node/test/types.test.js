'use strict';
/** The hand-written types compile a strict TypeScript site (test/types/usage.ts) with tsc. */
const assert = require('node:assert/strict');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const { it } = require('node:test');

it('type-checks a TypeScript site that uses the package, refusing wrong amounts and fields', () => {
  const tsc = require.resolve('typescript/bin/tsc');
  let output = '';
  try {
    output = execFileSync(process.execPath, [tsc, '-p', path.join(__dirname, 'types')], {
      encoding: 'utf8',
    });
  } catch (error) {
    assert.fail(`tsc found errors:\n${error.stdout}${error.stderr}`);
  }
  assert.equal(output, '');
});
