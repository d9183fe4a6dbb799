import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { bannerCredentials, echoEndpoint, ROOT, serve } from '../helpers/process.js';

/**
 * Every shell example in README.md and docs/ runs as written. A shell example is a fenced block
 * marked `sh`; one that starts a server, needs another machine or runs for minutes is marked
 * `sh no-run` and only shown. Any other code block that looks like a command fails this test, so
 * no example escapes it.
 *
 * Each document's `sh` blocks run in order, as one `sh -eu` script, against a fresh hub (started
 * as `switchyard serve` on a new SQLite file) and a fresh echo endpoint, with what the hub's
 * banner tells a user to export: `HUB`, `STORE_ID`, `TOKEN` (and `ADMIN_TOKEN`, the one it was
 * started with). The documents name the echo
 * endpoint at 127.0.0.1:4001, as `switchyard endpoint echo --port 4001` listens; the test's
 * endpoint listens on a free port, and that address is the one thing rewritten. curl runs with
 * `--fail-with-body` (a .curlrc), so an answer of 4xx or 5xx fails the script. README's blocks run
 * from the repository root, as the README says; the others from an empty directory, with the
 * built `switchyard` command on PATH as `npm i -g` would put it.
 */

const DOCUMENTS = [
  'README.md',
  ...readdirSync(join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .sort()
    .map((f) => `docs/${f}`),
];

/** What each document's script must print, beyond exiting 0: the point of its examples. */
const EXPECT: Record<string, RegExp> = {
  'README.md': /"state":"completed"/,
  'docs/integrations.md': /"custom_endpoint\.products"/,
  'docs/configuration-as-code.md': /unchanged/,
  'docs/security.md': /"push_rate":50/,
};

const COMMAND = /^(curl|npx|npm|switchyard|node|export|cd|sh|sleep|[A-Z_]+=\S*\s)/;

interface Block {
  file: string;
  line: number;
  info: string;
  code: string;
}

function codeBlocks(file: string): Block[] {
  const lines = readFileSync(join(ROOT, file), 'utf8').split('\n');
  const blocks: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)(`{3,})(.*)$/.exec(lines[i] ?? '');
    if (open) {
      const [, indent = '', fence = '', info = ''] = open;
      const body: string[] = [];
      let j = i + 1;
      for (; j < lines.length && !(lines[j] ?? '').trim().startsWith(fence); j++) {
        body.push((lines[j] ?? '').slice(Math.min(indent.length, /^\s*/.exec(lines[j] ?? '')![0].length)));
      }
      blocks.push({ file, line: i + 1, info: info.trim(), code: body.join('\n') });
      i = j;
      continue;
    }
    // an indented code block: four spaces after a blank line (or a list item's indented paragraph:
    // it is checked for commands all the same); a fence ends it
    if (/^ {4}\S/.test(lines[i] ?? '') && (lines[i - 1] ?? '').trim() === '') {
      const body: string[] = [];
      let j = i;
      const inBlock = (line: string) =>
        (/^ {4}/.test(line) || line.trim() === '') && !line.trim().startsWith('```');
      for (; j < lines.length && inBlock(lines[j] ?? ''); j++) {
        body.push((lines[j] ?? '').slice(4));
      }
      blocks.push({ file, line: i + 1, info: '(indented)', code: body.join('\n').trimEnd() });
      i = j - 1;
    }
  }
  return blocks;
}

test('every command shown in README.md and docs/ is in a sh block, run or marked no-run', () => {
  const stray: string[] = [];
  for (const file of DOCUMENTS) {
    for (const block of codeBlocks(file)) {
      if (block.info === 'sh' || block.info === 'sh no-run') continue;
      if (!/^(|\(indented\)|bash|shell|console)$/.test(block.info)) continue; // json, yaml, text …
      const first = block.code.split('\n').find((l) => l.trim() && !l.trim().startsWith('#')) ?? '';
      if (COMMAND.test(first.trim())) stray.push(`${file}:${block.line}: ${first.trim()}`);
    }
  }
  assert.deepEqual(stray, [], 'commands outside a ```sh block: mark them sh (run) or sh no-run');
});

const bin = join(ROOT, 'dist/src/cli/main.js');
for (const file of DOCUMENTS) {
  const runnable = codeBlocks(file).filter((b) => b.info === 'sh');
  if (runnable.length === 0) continue;
  test(`the sh examples of ${file} run as written`, async (t) => {
    if (!existsSync(bin)) {
      assert.ok(!process.env.CI, 'CI ran npm ci, which builds dist/');
      t.skip('dist/ is not built (the examples use the switchyard command): run npm run build');
      return;
    }
    const home = mkdtempSync(join(tmpdir(), 'switchyard-examples-'));
    t.after(() => rmSync(home, { recursive: true, force: true }));
    for (const dir of ['data', 'bin', 'work']) rmSync(join(home, dir), { recursive: true, force: true });
    const echo = await echoEndpoint();
    t.after(() => echo.child.kill('SIGTERM'));
    const adminToken = 'examples-admin-token-0123456789';
    const hub = await serve(['--data', join(home, 'data'), '--admin-token', adminToken]);
    t.after(() => hub.child.kill('SIGTERM'));
    const { storeId, token } = bannerCredentials(hub.output());

    // the switchyard command, as installed; curl that fails on an error status
    spawnSync('mkdir', ['-p', join(home, 'bin'), join(home, 'work')]);
    symlinkSync(bin, join(home, 'bin', 'switchyard'));
    writeFileSync(join(home, '.curlrc'), 'fail-with-body\nsilent\nshow-error\n');
    const echoAddress = new URL(echo.url).host;
    const script = [
      'set -eu',
      ...runnable.map((b) => `# ${b.file}:${b.line}\n${b.code.replaceAll('127.0.0.1:4001', echoAddress)}`),
    ].join('\n');
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      PATH: `${join(home, 'bin')}:${process.env.PATH}`,
      CURL_HOME: home,
      HUB: hub.url,
      STORE_ID: storeId,
      TOKEN: token,
      ADMIN_TOKEN: adminToken,
    };
    for (const key of ['DATABASE_URL', 'TEST_DATABASE_URL', 'SWITCHYARD_DATA_DIR', 'npm_command'])
      delete env[key];
    const run = spawnSync('sh', ['-c', script], {
      cwd: file === 'README.md' ? ROOT : join(home, 'work'),
      env,
      encoding: 'utf8',
      timeout: 90_000,
    });
    const shown = `\n--- script\n${script}\n--- stdout\n${run.stdout}\n--- stderr\n${run.stderr}`;
    assert.equal(run.status, 0, `the examples of ${file} failed:${shown}`);
    const expected = EXPECT[file];
    assert.ok(expected, `${file} has runnable examples: say in EXPECT what they must show`);
    assert.match(run.stdout, expected, shown);
  });
}
