import { isUtf8 } from 'node:buffer';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type RawReplyDefaultExpression,
  type RawRequestDefaultExpression,
  type RawServerDefault,
} from 'fastify';
import type { Dispatcher } from 'undici';
import { HubError, invalid } from '../errors.js';
import { newId } from '../ids.js';
import { jsonProblem } from '../json-limits.js';
import type { Metrics } from '../metrics.js';
import type { MessageValidator } from '../pipeline/message-validation.js';
import { isConnectionLost } from '../storage/connection-lost.js';
import type { Storage } from '../storage/contract.js';
import type { UrlPolicy } from '../url-policy.js';
import { VERSION } from '../version.js';
import type { StoreAuth } from './auth.js';
import {
  CONNECTION_DEFAULTS,
  type ConnectionLimits,
  guardConnections,
  serverOptions,
} from './connections.js';
import { lazyChildLogger } from './lazy-logger.js';
import type { RateLimiter } from './rate-limit.js';
import { RequestLogController } from './request-log.js';
import { type CircuitView, endpointRoutes } from './routes/endpoints.js';
import { explainRoutes } from './routes/explain.js';
import { healthRoutes } from './routes/health.js';
import { integrationRoutes } from './routes/integrations.js';
import { mappingRoutes } from './routes/mappings.js';
import { messageTypeRoutes } from './routes/message-types.js';
import { messageRoutes } from './routes/messages.js';
import { notificationRoutes } from './routes/notifications.js';
import { parameterRoutes } from './routes/parameters.js';
import { pushRoutes } from './routes/push.js';
import { queueRoutes } from './routes/queues.js';
import { sampleRoutes } from './routes/samples.js';
import { schedulerRoutes } from './routes/schedulers.js';
import { storeRoutes } from './routes/stores.js';
import type { MappingCaps } from './url-check.js';
import { ajvToFieldErrors, validatorCompiler } from './validation.js';

export interface AppContext {
  storage: Storage;
  auth: StoreAuth;
  validator: MessageValidator;
  /** Called after a message lands in the incoming queue, so intake starts without polling delay. */
  onIncoming: () => void;
  /** Called after a manual retry, so delivery starts without polling delay. */
  onDeliveryDue: () => void;
  adminToken: string | undefined;
  bodyLimit: number;
  /** Readiness beyond the database ping (workers running, not shutting down). */
  isReady: () => boolean;
  /** False for a worker-role process: only the health routes are served. */
  apiRoutes?: boolean;
  metrics?: Metrics;
  /** Called after a store's mappings change, so the router recompiles them (routing issue). */
  onMappingsChanged?: (storeId: string) => void;
  /** Which endpoint URLs stores may register (docs/security.md); none: only the URLs' syntax is checked. */
  urlPolicy?: UrlPolicy;
  /** Connections for the hub's own requests (endpoint.json), which obey that policy (pipeline/outbound.ts). */
  outbound?: Dispatcher;
  /** What a mapping may ask for at most (url-check.ts); none: only the API's own bounds. */
  mappingCaps?: MappingCaps;
  /** This process's circuit breakers, when it runs deliveries (routes/endpoints.ts). */
  circuits?: CircuitView | undefined;
  /** Per-store rate limits (rate-limit.ts); none: no limits. */
  limiter?: RateLimiter;
}

export interface AppOptions {
  /** A pino logger to use (the hub's); without one the app does not log. */
  logger?: FastifyBaseLogger;
  /** Timeouts and the cap on connections (connections.ts); CONNECTION_DEFAULTS where not given. */
  connections?: Partial<ConnectionLimits>;
}

export type App = FastifyInstance<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  FastifyBaseLogger,
  TypeBoxTypeProvider
>;

/**
 * Builds the HTTP app without listening, so tests drive it with `inject()` and the CLI binds it to
 * a port. Routes are one plugin per resource; errors from any layer are shaped here, once.
 */
export async function buildApp(ctx: AppContext, options: AppOptions = {}): Promise<App> {
  const limits = { ...CONNECTION_DEFAULTS, ...options.connections };
  const app = Fastify({
    ...(options.logger ? { loggerInstance: options.logger } : { logger: false }),
    ...serverOptions(limits),
    bodyLimit: ctx.bodyLimit,
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 500 },
    requestIdHeader: 'x-request-id',
    // a UUIDv7 of our own: a tenth of the cost of randomUUID, and time-ordered like message ids
    genReqId: () => newId(),
    // errors Fastify raises before routing (a bad percent-encoding, an over-long path segment):
    // answered from the catalog like every other error, not in Fastify's own body shape
    frameworkErrors: (err, _req, reply) => {
      const e =
        err.code === 'FST_ERR_MAX_PARAM_LENGTH' ? new HubError('URI_TOO_LONG') : new HubError('BAD_URL');
      (reply as FastifyReply).code(e.status).send(e.body());
    },
    childLoggerFactory: lazyChildLogger,
    logController: new RequestLogController(),
  }).withTypeProvider<TypeBoxTypeProvider>() as unknown as App;

  guardConnections(app.server, limits);
  app.setValidatorCompiler(validatorCompiler);
  addRequestHooks(app, ctx.metrics);
  addJsonParser(app);
  addErrorHandlers(app);
  await registerOpenApi(app);
  await registerRoutes(app, ctx);
  return app;
}

/** The metrics of every request and the request id on every answer. */
function addRequestHooks(app: App, metrics: Metrics | undefined): void {
  if (metrics) {
    // hooks on every request are callback-style: an async hook costs a promise per request
    app.addHook('onResponse', (req, reply, done) => {
      metrics.observeRequest(
        req.method,
        req.routeOptions.url ?? 'unmatched',
        reply.statusCode,
        reply.elapsedTime / 1000,
      );
      done();
    });
  }
  // set when the request arrives, so every answer carries it, errors and 404s included (an
  // onRequest hook is cheaper than an onSend one, which runs with the payload)
  app.addHook('onRequest', (req, reply, done) => {
    reply.header('x-request-id', req.id);
    done();
  });
}

/**
 * JSON bodies are parsed here (not by Fastify's default parser) to control the error wording,
 * and strictly: JSON is UTF-8 (RFC 8259), so another charset is refused rather than misread,
 * and bytes that are not UTF-8 are refused rather than kept as U+FFFD (docs/errors.md).
 */
function addJsonParser(app: App): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (req, body, done) => {
    const charset = charsetOf(req.headers['content-type']);
    if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8')
      return done(new HubError('UNSUPPORTED_CHARSET'), undefined);
    const bytes = body as Buffer;
    if (!isUtf8(bytes)) return done(new HubError('INVALID_ENCODING'), undefined);
    const text = bytes.toString('utf8');
    if (text.trim() === '') return done(new HubError('EMPTY_BODY'), undefined);
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      return done(
        new HubError(
          'MALFORMED_JSON',
          undefined,
          `Request body is not valid JSON: ${(err as Error).message}`,
        ),
        undefined,
      );
    }
    const problem = jsonProblem(parsed, { exactNumbers: true });
    if (problem) return done(invalid({ [problem.pointer]: [problem.reason] }), undefined);
    done(null, parsed);
  });
}

/** Errors from any layer, and unknown routes, answered from the one catalog (src/errors.ts). */
function addErrorHandlers(app: App): void {
  app.setErrorHandler((err: FastifyError | HubError, req, reply) => {
    const hubError = toHubError(err);
    // a lost database connection is the database's state, not a bug: no stack trace (the pool
    // reconnects on the next query; the workers' ConnectionWatch reports loss and recovery)
    if (hubError.code === 'UNAVAILABLE')
      req.log.warn({ reason: err.message }, 'request failed: database unavailable');
    else if (hubError.status >= 500) req.log.error({ err }, 'request failed');
    reply.code(hubError.status).send(hubError.body());
  });
  app.setNotFoundHandler((_req, reply) => {
    reply.code(404).send(new HubError('ROUTE_NOT_FOUND').body());
  });
}

/** The OpenAPI document (/api/openapi.json) and its browsable form (/docs). */
async function registerOpenApi(app: App): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Switchyard',
        version: VERSION,
        description:
          'Message hub for commerce integrations, wire-compatible with the Spree Commerce Hub (Augury). ' +
          'Store routes need `X-Augury-Token`; the /api/stores collection needs `X-Admin-Token`.',
      },
      components: {
        securitySchemes: {
          storeToken: { type: 'apiKey', in: 'header', name: 'X-Augury-Token' },
          adminToken: { type: 'apiKey', in: 'header', name: 'X-Admin-Token' },
        },
      },
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  app.get('/api/openapi.json', { schema: { hide: true } }, async () => app.swagger());
}

/** Health and metrics on every process; the store API unless the process is a worker. */
async function registerRoutes(app: App, ctx: AppContext): Promise<void> {
  await app.register(healthRoutes(ctx));
  // after the OpenAPI plugin, so that the document lists it
  const metrics = ctx.metrics;
  if (metrics)
    app.get(
      '/metrics',
      { schema: { summary: 'Prometheus metrics of this process', tags: ['health'] } },
      async (_req, reply) => {
        reply.type(metrics.registry.contentType);
        return metrics.registry.metrics();
      },
    );
  if (ctx.apiRoutes === false) return;
  await app.register(storeRoutes(ctx));
  await app.register(pushRoutes(ctx));
  await app.register(queueRoutes(ctx));
  await app.register(messageRoutes(ctx));
  await app.register(notificationRoutes(ctx));
  await app.register(endpointRoutes(ctx));
  await app.register(messageTypeRoutes(ctx));
  await app.register(sampleRoutes());
  await app.register(mappingRoutes(ctx));
  await app.register(explainRoutes(ctx));
  await app.register(parameterRoutes(ctx));
  await app.register(integrationRoutes(ctx));
  await app.register(schedulerRoutes(ctx));
}

function toHubError(err: FastifyError | HubError): HubError {
  if (err instanceof HubError) return err;
  if (err.validation) {
    const context = err.validationContext;
    const prefix = context === 'body' ? '' : `/${context === 'querystring' ? 'query' : context}`;
    return new HubError('INVALID_OBJECT', ajvToFieldErrors(err.validation as never, prefix));
  }
  switch (err.code) {
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new HubError('UNSUPPORTED_MEDIA_TYPE');
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new HubError('BODY_TOO_LARGE');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new HubError('EMPTY_BODY');
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new HubError('MALFORMED_JSON', undefined, 'Content-Length does not match the body.');
  }
  if (isDatabaseUnavailable(err))
    return new HubError('UNAVAILABLE', undefined, 'Database unavailable; retry later.');
  if (err.statusCode === 405) return new HubError('METHOD_NOT_ALLOWED');
  if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) {
    return new HubError('MALFORMED_JSON', undefined, err.message);
  }
  return new HubError('INTERNAL');
}

/** Connection-level database failures: the request was fine, the database was not there. */
function isDatabaseUnavailable(err: { code?: string; message?: string }): boolean {
  const code = String(err.code ?? '');
  // lost connections (storage/connection-lost.ts), a busy or failing SQLite file, no resources (53…)
  return (
    isConnectionLost(err) || ['SQLITE_BUSY', 'SQLITE_IOERR', 'SQLITE_FULL'].includes(code) || /^53/.test(code)
  );
}

/** The lower-cased `charset` parameter of a Content-Type header, or undefined when it has none. */
function charsetOf(contentType: string | undefined): string | undefined {
  if (!contentType?.includes(';')) return undefined;
  const match = /;\s*charset\s*=\s*"?([^";\s]*)"?/i.exec(contentType);
  return match ? match[1]!.toLowerCase() : undefined;
}
