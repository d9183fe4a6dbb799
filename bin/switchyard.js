#!/usr/bin/env node
// The package's command. It runs the compiled CLI (`npm ci` builds it through the `prepare` script).
// A plain `env node` line: `env -S` (to pass src/cli/node-flags.ts here too) is missing from
// BusyBox (Alpine images) and older coreutils; docs/configuration.md says how to pass the flags.
import '../dist/src/cli/main.js';
