import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
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

test('SIGTERM to npm start stops the hub, which npm does not pass the signal to', async (t) => {
  if (!existsSync(join(ROOT, 'dist/src/cli/main.js'))) {
    assert.ok(!process.env.CI, 'CI ran npm ci, which builds dist/');
    t.skip('dist/ is not built: run npm run build');
    return;
  }
  const data = mkdtempSync(join(tmpdir(), 'switchyard-npm-start-'));
  t.after(() => rmSync(data, { recursive: true, force: true }));
  const env: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: 'warn' };
  delete env.npm_command; // set when this suite itself runs under npm test: npm start sets its own
  const npm = spawn('npm', ['start', '--silent', '--', '--port', '0', '--data', data], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  t.after(() => {
    if (npm.exitCode === null) npm.kill('SIGKILL');
  });
  let out = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no banner in 60 s: ${out}`)), 60_000);
    npm.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const found = /listening on (http:\/\/\S+)/.exec(out)?.[1];
      if (found) {
        clearTimeout(timer);
        resolve(found);
      }
    });
  });
  assert.equal((await fetch(`${url}/healthz`)).status, 200);
  npm.kill('SIGTERM');
  // the hub notices that npm is gone and shuts down: its port closes within a few seconds
  const until = Date.now() + 10_000;
  let open = true;
  while (open && Date.now() < until) {
    open = await fetch(`${url}/healthz`).then(
      () => true,
      () => false,
    );
    if (open) await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(open, false, `the hub at ${url} still answers 10 s after npm got SIGTERM`);
});
