import { spawn } from 'node:child_process';
import { ROOT } from './process.js';

/**
 * Runs the CLI to completion without blocking the event loop: needed when the hub it talks to runs
 * inside the test process (process.ts's `cli` uses spawnSync, which would freeze that hub).
 * The database and admin settings are left out of the child's environment, as `cli` does.
 */
export function cliAsync(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const key of ['DATABASE_URL', 'TEST_DATABASE_URL', 'SWITCHYARD_ADMIN_TOKEN', 'SWITCHYARD_DATA_DIR']) {
    delete env[key];
  }
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => {
    stdout += d;
  });
  child.stderr.on('data', (d) => {
    stderr += d;
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  return new Promise((resolve) =>
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    }),
  );
}
