import { chmod, readFile, writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { applyPlan } from './apply.js';
import { exportConfig } from './export.js';
import { readConfig } from './file.js';
import { HubApi } from './hub-api.js';
import { currentState, formatPlan, hasChanges, makePlan } from './plan.js';

interface RemoteFlags {
  url: string;
  store: string;
  token?: string;
}

/**
 * `switchyard apply` and `switchyard export` (docs/configuration-as-code.md). Both talk to a
 * running hub over its HTTP API, so they work the same on SQLite and PostgreSQL and need nothing
 * but the store id and token.
 */
export function registerConfig(program: Command): void {
  const remote = (cmd: Command) =>
    cmd
      .requiredOption('--url <url>', 'the running hub, e.g. http://127.0.0.1:4000')
      .requiredOption('--store <id>', 'the store id')
      .option('--token <token>', 'the store API token (env SWITCHYARD_TOKEN)');

  remote(
    program
      .command('apply')
      .description("Make a store's integrations, mappings, parameters and schedulers match a YAML file")
      .argument('<file>', 'the configuration file (YAML)')
      .option('--dry-run', 'print the plan and change nothing')
      .option('--prune', 'also delete what the file does not list'),
  ).action(async (file: string, flags: RemoteFlags & { dryRun?: boolean; prune?: boolean }) => {
    const desired = readConfig(file, await readFile(file, 'utf8'));
    const api = client(flags);
    const plan = makePlan(desired, await currentState(api), flags.prune === true);
    process.stdout.write(`Plan for store ${flags.store}:\n${formatPlan(plan)}\n`);
    if (plan.conflicts.length > 0) {
      throw new Error(`the plan cannot be applied; nothing was changed:\n  ${plan.conflicts.join('\n  ')}`);
    }
    if (flags.dryRun) {
      process.stdout.write('Dry run: nothing was changed.\n');
      return;
    }
    if (!hasChanges(plan)) {
      process.stdout.write('Nothing to do.\n');
      return;
    }
    await applyPlan(api, desired, plan);
    process.stdout.write('Applied.\n');
  });

  remote(
    program
      .command('export')
      .description("Write a store's integrations, mappings, parameters and schedulers as a YAML file")
      .option('--out <file>', 'write here instead of to stdout'),
  ).action(async (flags: RemoteFlags & { out?: string }) => {
    const text = exportConfig(await currentState(client(flags)), flags.store);
    // readable by its owner only: the file holds endpoint tokens and parameter values
    if (flags.out && flags.out !== '-') {
      await writeFile(flags.out, text, { encoding: 'utf8', mode: 0o600 });
      await chmod(flags.out, 0o600); // (mode applies to a new file only)
    } else process.stdout.write(text);
  });
}

function client(flags: RemoteFlags): HubApi {
  const token = flags.token ?? process.env.SWITCHYARD_TOKEN;
  if (!token) throw new Error('--token is required (or set SWITCHYARD_TOKEN)');
  return new HubApi(flags.url, flags.store, token);
}
