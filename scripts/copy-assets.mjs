#!/usr/bin/env node
// tsc compiles only TypeScript; the message library's JSON schemas and samples are read at run
// time from beside the compiled module, so the build copies them into dist/.
import { cpSync, writeFileSync } from 'node:fs';

for (const dir of ['src/library/schemas', 'src/library/samples']) {
  cpSync(dir, `dist/${dir}`, { recursive: true });
}

// the date of this build, read by scripts/build-if-stale.mjs (npm start's prestart)
writeFileSync('dist/.built', `${new Date().toISOString()}\n`);
