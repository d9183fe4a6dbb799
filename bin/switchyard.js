#!/usr/bin/env node
// The package's command. It runs the compiled CLI (`npm ci` builds it through the `prepare` script).
import '../dist/src/cli/main.js';
