import type { FastifyBaseLogger } from 'fastify';
import type { Bindings, ChildLoggerOptions, Level } from 'pino';

/**
 * Fastify gives every request a child logger bound to its request id. A pino child costs a
 * prototype, a serialised copy of the bindings and, with redaction configured, a redaction
 * function: about a twentieth of a push's CPU beyond bare Fastify (profile of the push API with
 * its storage call taken out), spent on every request although at the default levels a request
 * that goes well logs nothing at `warn` (at `info` Fastify logs two lines per request, so the real
 * child is made every time and this saves nothing). This child is made for nothing: it forwards a
 * call to a real child, made on first use, only when the parent's level lets the call through, so
 * every line that is written still carries the request id.
 */
class LazyChildLogger {
  private real: FastifyBaseLogger | undefined;

  constructor(
    private readonly parent: FastifyBaseLogger,
    private readonly bindings: Bindings,
  ) {}

  private child_(): FastifyBaseLogger {
    this.real ??= this.parent.child(this.bindings);
    return this.real;
  }

  get level(): string {
    return this.real?.level ?? this.parent.level;
  }

  set level(level: string) {
    this.child_().level = level;
  }

  isLevelEnabled(level: Level): boolean {
    return enabled(this.real ?? this.parent, level);
  }

  child(bindings: Bindings, options?: ChildLoggerOptions): FastifyBaseLogger {
    return this.child_().child(bindings, options);
  }

  private log(level: Level, args: unknown[]): void {
    if (!this.isLevelEnabled(level)) return;
    (this.child_()[level] as (...a: unknown[]) => void)(...args);
  }

  fatal(...args: unknown[]): void {
    this.log('fatal', args);
  }
  error(...args: unknown[]): void {
    this.log('error', args);
  }
  warn(...args: unknown[]): void {
    this.log('warn', args);
  }
  info(...args: unknown[]): void {
    this.log('info', args);
  }
  debug(...args: unknown[]): void {
    this.log('debug', args);
  }
  trace(...args: unknown[]): void {
    this.log('trace', args);
  }
  silent(): void {}
}

/** pino loggers answer isLevelEnabled; another logger is asked every call (no laziness, no loss). */
function enabled(logger: FastifyBaseLogger, level: Level): boolean {
  const l = logger as FastifyBaseLogger & { isLevelEnabled?: (level: Level) => boolean };
  return typeof l.isLevelEnabled === 'function' ? l.isLevelEnabled(level) : true;
}

/**
 * Fastify's `childLoggerFactory`: a lazy child per request. A route with its own log level gets a
 * real child at once (the level is the child's, not the parent's).
 */
export function lazyChildLogger(
  logger: FastifyBaseLogger,
  bindings: Bindings,
  options: ChildLoggerOptions,
): FastifyBaseLogger {
  if (options.level !== undefined) return logger.child(bindings, options);
  return new LazyChildLogger(logger, bindings) as unknown as FastifyBaseLogger;
}
