/**
 * Whether an error means the connection to the database went away (a cut or refused connection,
 * a server shutting down or refusing connections), rather than a statement that failed. Such a
 * failure heals by itself once a new connection can be made: the pool opens one on the next query.
 */
export function isConnectionLost(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown } | undefined;
  const code = String(e?.code ?? '');
  return (
    ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN'].includes(code) ||
    // connection_exception, operator_intervention (admin shutdown, terminated backend), no database
    /^(08|57P|3D000)/.test(code) ||
    /Connection terminated|timeout exceeded when trying to connect|not currently accepting connections|not queryable/i.test(
      String(e?.message ?? ''),
    )
  );
}
