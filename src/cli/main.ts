#!/usr/bin/env node
import { Command } from 'commander';
import { VERSION } from '../version.js';
import { registerConfig } from './config/commands.js';
import { registerEndpoint } from './endpoint.js';
import { registerPush } from './push.js';
import { registerServe } from './serve.js';
import { registerStores } from './stores.js';

const program = new Command()
  .name('switchyard')
  .description('Message hub for commerce integrations (wire-compatible with the Spree Commerce Hub)')
  .version(VERSION);

registerServe(program);
registerStores(program);
registerPush(program);
registerEndpoint(program);
registerConfig(program);

program.parseAsync(process.argv).catch((err: Error) => {
  process.stderr.write(`switchyard: ${err.message}\n`);
  process.exit(1);
});
