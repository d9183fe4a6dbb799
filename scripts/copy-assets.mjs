#!/usr/bin/env node
// tsc compiles only TypeScript; the message library's JSON schemas and samples are read at run
// time from beside the compiled module, so the build copies them into dist/.
import { chmodSync, cpSync, writeFileSync } from 'node:fs';

for (const dir of ['src/library/schemas', 'src/library/samples']) {
  cpSync(dir, `dist/${dir}`, { recursive: true });
}

// the command's file is executable, as an install (npm i -g, npm link) would make it, so the
// build can be put on PATH as it is (test/cli/shell-examples.test.ts does)
chmodSync('dist/src/cli/main.js', 0o755);

// the date of this build, read by scripts/build-if-stale.mjs (npm start's prestart)
writeFileSync('dist/.built', `${new Date().toISOString()}\n`);
