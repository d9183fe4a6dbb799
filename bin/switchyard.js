#!/usr/bin/env -S node --max-old-space-size=1536
// The package's command. It runs the compiled CLI (`npm ci` builds it through the `prepare` script)
// with the hub's Node.js flags (src/cli/node-flags.ts).
import '../dist/src/cli/main.js';
