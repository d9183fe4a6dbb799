#!/usr/bin/env node
// `npm start`'s prestart: builds only when a source is newer than the last build, so a start with
// nothing changed runs the built code at once instead of spending 5-10 s in tsc. The last build is
// dated by dist/.built, which scripts/copy-assets.mjs (the build's last step) writes.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const SOURCES = ['src', 'bench', 'tsconfig.json', 'tsconfig.build.json', 'package.json', 'scripts'];

function newest(path) {
  const stat = statSync(path, { throwIfNoEntry: false });
  if (!stat) return 0;
  if (!stat.isDirectory()) return stat.mtimeMs;
  let latest = stat.mtimeMs; // a deleted file changes its directory's time
  for (const entry of readdirSync(path)) latest = Math.max(latest, newest(join(path, entry)));
  return latest;
}

const built = statSync('dist/.built', { throwIfNoEntry: false })?.mtimeMs ?? 0;
if (Math.max(...SOURCES.map(newest)) > built) {
  const result = spawnSync('npm', ['run', '--silent', 'build'], { stdio: 'inherit' });
  process.exit(result.status ?? 1);
}
