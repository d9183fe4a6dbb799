import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { HUB_NODE_FLAGS } from '../../src/cli/node-flags.js';
import { ROOT } from '../helpers/process.js';

const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));

test('npm start and the switchyard bin run the compiled CLI that the build produces', () => {
  const start = /node (?:--\S+ )*(\S+) serve/.exec(pkg.scripts.start)?.[1];
  assert.equal(start, 'dist/src/cli/main.js', 'npm start must run the build output of src/cli/main.ts');
  const bin = readFileSync(join(ROOT, pkg.bin.switchyard), 'utf8');
  assert.match(bin, /import '\.\.\/dist\/src\/cli\/main\.js'/);
  // npm ci builds through the prepare script, so in CI (and after npm ci anywhere) the file exists
  if (!existsSync(join(ROOT, start))) {
    assert.ok(!process.env.CI, 'CI ran npm ci, which builds dist/');
    return;
  }
  const res = spawnSync(process.execPath, [join(ROOT, pkg.bin.switchyard), '--version'], {
    encoding: 'utf8',
  });
  assert.equal(res.status, 0, res.stderr);
  assert.equal(res.stdout.trim(), pkg.version);
});

test('npm start launches Node with the flags of src/cli/node-flags.ts; the bin has a portable first line', () => {
  const flags = HUB_NODE_FLAGS.join(' ');
  assert.ok(pkg.scripts.start.startsWith(`node ${flags} `), `npm start: ${pkg.scripts.start}`);
  const shebang = readFileSync(join(ROOT, pkg.bin.switchyard), 'utf8').split('\n')[0];
  assert.equal(shebang, '#!/usr/bin/env node');
});
