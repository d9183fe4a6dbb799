import type { Server } from 'node:http';
import type { Socket } from 'node:net';

/**
 * How long a client may hold a connection without using it, and how many it may hold
 * (docs/security.md, "Connections"). Node's own defaults let a connection that sends nothing, or
 * a header a byte at a time (slowloris), live for minutes, and Fastify turns the request timeout
 * off: 2,000 idle sockets and 500 slowloris ones were all still open after 77 s, each a file
 * descriptor and a little memory, with no cap on how many one client could open.
 */
export interface ConnectionLimits {
  /** From the connection (or the end of the previous request) to the end of the headers. */
  headersTimeoutMs: number;
  /** From the start of a request to the end of its body. */
  requestTimeoutMs: number;
  /** A kept-alive connection with no request in flight is closed after this. */
  keepAliveTimeoutMs: number;
  /** How often the server looks for connections past the two timeouts above. */
  checkEveryMs: number;
  /** Connections open at once; past it a new one is closed at once (the `maxConnections` setting). */
  maxConnections: number;
}

export const CONNECTION_DEFAULTS: ConnectionLimits = {
  headersTimeoutMs: 10_000,
  // a 64 MiB body (the largest bodyLimit) at ~2 MB/s
  requestTimeoutMs: 60_000,
  keepAliveTimeoutMs: 5_000,
  checkEveryMs: 1_000,
  maxConnections: 10_000,
};

/**
 * Node's header timeout only runs once a request has begun: a connection that sends nothing at all
 * would never be closed. So a new connection gets the header timeout as its idle timeout until
 * its first bytes arrive; from then on Node's own timeouts (header, request, keep-alive) apply,
 * checked by the server's periodic sweep, so no idle timer stays armed on a busy connection (one
 * is re-armed on every read and write). Past the cap, the server closes a new connection at once.
 */
export function guardConnections(server: Server, limits: ConnectionLimits): void {
  server.maxConnections = limits.maxConnections;
  server.on('connection', (socket: Socket) => {
    socket.setTimeout(limits.headersTimeoutMs);
    socket.once('data', () => socket.setTimeout(0));
  });
}

/** Fastify's server options for these limits (maxConnections is set on the server once built). */
export function serverOptions(limits: ConnectionLimits) {
  return {
    http: {
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      connectionsCheckingInterval: limits.checkEveryMs,
    },
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
  };
}
