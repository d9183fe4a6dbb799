import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CLI = ['--import', 'tsx', 'src/cli/main.ts'];

/**
 * The child's environment: the test's own, minus the database and admin settings, so a CLI test
 * runs on the SQLite file it names even when the suite has DATABASE_URL set for PostgreSQL.
 * Pass them explicitly in `env` to use them.
 */
function childEnv(env: Record<string, string | undefined>): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = { ...process.env };
  for (const key of [
    'DATABASE_URL',
    'TEST_DATABASE_URL',
    'SWITCHYARD_ADMIN_TOKEN',
    'SWITCHYARD_DATA_DIR',
    'PORT',
    'HOST',
  ]) {
    delete out[key];
  }
  for (const [key, value] of Object.entries(env)) {
    if (value === undefined) delete out[key];
    else out[key] = value;
  }
  return out;
}

/** Runs the CLI to completion (through tsx, from the source tree). */
export function cli(args: string[], env: Record<string, string | undefined> = {}) {
  const res = spawnSync(process.execPath, [...CLI, ...args], {
    cwd: ROOT,
    env: childEnv(env),
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { status: res.status, stdout: res.stdout, stderr: res.stderr };
}

export interface ServerProcess {
  child: ChildProcess;
  url: string;
  output: () => string;
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
}

/** Spawns the CLI and waits until it prints "listening on <url>" (30 s at most). */
async function listening(
  args: string[],
  env: Record<string, string | undefined>,
  what: string,
): Promise<ServerProcess> {
  const child = spawn(process.execPath, [...CLI, ...args], {
    cwd: ROOT,
    env: childEnv(env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => {
    out += d;
  });
  child.stderr!.on('data', (d) => {
    out += d;
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const deadline = Date.now() + 30_000;
  const pattern = /listening on (http:\/\/\S+)/;
  while (!pattern.test(out)) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${what} did not start:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  return { child, url: pattern.exec(out)![1]!, output: () => out, exited };
}

/** Starts `switchyard serve` and waits for its banner; the banner holds the URL (and the default store). */
export function serve(args: string[], env: Record<string, string | undefined> = {}): Promise<ServerProcess> {
  return listening(['serve', '--port', '0', '--log-level', 'warn', ...args], env, 'server');
}

/** Starts `switchyard endpoint echo` on a free port and waits until it listens. */
export function echoEndpoint(): Promise<ServerProcess> {
  return listening(['endpoint', 'echo', '--port', '0'], {}, 'echo endpoint');
}

export function bannerCredentials(output: string): { storeId: string; token: string } {
  const storeId = /store id: (\S+)/.exec(output)?.[1];
  const token = /token: +(sy_\S+)/.exec(output)?.[1];
  if (!storeId || !token) throw new Error(`no default store in the banner:\n${output}`);
  return { storeId, token };
}
