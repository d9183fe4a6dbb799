import { createRequire } from 'node:module';
import type { DestinationStream } from 'pino';
import type { prettyFactory as PrettyFactory } from 'pino-pretty';

/**
 * Where the hub's log lines go, and in which shape (docs/configuration.md, "Logs").
 *
 * - `json`: pino's JSON lines, unchanged, for log collectors. The default when stdout is not a
 *   terminal (a service manager, a container, a pipe).
 * - `pretty`: one readable line per record for a person at a terminal (the default there):
 *   time, level, message, and a request line folded to `POST /api/… → 201 in 1.2 ms`.
 *
 * Lines are held until `open()`: `switchyard serve` prints its banner (the URL, the first store's
 * token) once the port is bound, and Fastify logs "Server listening" while binding, so without
 * the hold that line and any start-up warning would come first and push the banner out of view.
 * A start that fails opens the output too, so nothing written before the failure is lost.
 */
export type LogFormat = 'json' | 'pretty';

interface Target {
  write(chunk: string): unknown;
  isTTY?: boolean;
}

export class LogOutput implements DestinationStream {
  private held: string[] | undefined;
  private readonly shape: (line: string) => string;

  constructor(
    format: LogFormat,
    private readonly target: Target = process.stdout,
    options: { hold?: boolean } = {},
  ) {
    this.held = options.hold ? [] : undefined;
    this.shape = format === 'pretty' ? prettyLines(target.isTTY === true) : (line) => line;
  }

  write(line: string): void {
    const out = this.shape(line);
    if (this.held) this.held.push(out);
    else this.target.write(out);
  }

  /** Writes what was held, in order, and everything after it straight away. */
  open(): void {
    const held = this.held;
    this.held = undefined;
    if (held?.length) this.target.write(held.join(''));
  }
}

/** `auto` → pretty on a terminal, JSON elsewhere. */
export function resolveLogFormat(
  setting: LogFormat | 'auto',
  stdout: { isTTY?: boolean } = process.stdout,
): LogFormat {
  if (setting !== 'auto') return setting;
  return stdout.isTTY ? 'pretty' : 'json';
}

interface RequestRecord {
  req?: { method?: string; url?: string };
  res?: { statusCode?: number };
  responseTime?: number;
}

function prettyLines(colorize: boolean): (line: string) => string {
  // loaded only for the pretty format: a hub logging JSON does not carry pino-pretty's modules
  const { prettyFactory } = createRequire(import.meta.url)('pino-pretty') as {
    prettyFactory: typeof PrettyFactory;
  };
  const pretty = prettyFactory({
    colorize,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'pid,hostname,service,req,res,responseTime',
    singleLine: true,
    messageFormat: (log, messageKey) => {
      const record = log as RequestRecord;
      const msg = String(log[messageKey] ?? '');
      if (!record.req || !record.res) return msg;
      const ms = typeof record.responseTime === 'number' ? ` in ${record.responseTime.toFixed(1)} ms` : '';
      return `${record.req.method} ${record.req.url} → ${record.res.statusCode}${ms}`;
    },
  });
  return (line) => pretty(line);
}
