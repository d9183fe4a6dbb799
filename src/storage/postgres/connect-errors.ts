/**
 * What went wrong reaching PostgreSQL, in words an operator can act on: the server refused the
 * connection, the host is unknown, the database or the login is wrong. Undefined for any other
 * error (a failed statement, a failed migration), which is reported as it is.
 */
export function connectionProblem(err: unknown, url: string): string | undefined {
  const e = err as { code?: string; message?: string };
  const at = `PostgreSQL at ${serverOf(url)}`;
  switch (String(e.code ?? '')) {
    case 'ECONNREFUSED':
      return `cannot connect to ${at}: connection refused`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `cannot connect to ${at}: host not found`;
    case 'ETIMEDOUT':
      return `cannot connect to ${at}: timed out`;
    case 'ECONNRESET':
      return `cannot connect to ${at}: the connection was reset`;
    case '3D000': // invalid_catalog_name
      return `${e.message} on ${at}`;
    case '28P01': // invalid_password
    case '28000': // invalid_authorization_specification
      return `${at} refused the login: ${e.message}`;
    case '57P03': // cannot_connect_now (starting up, shutting down)
      return `cannot connect to ${at}: ${e.message}`;
  }
  return undefined;
}

/** host:port from a postgres:// URL (5432 when it names none). */
function serverOf(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname || 'localhost'}:${u.port || '5432'}`;
  } catch {
    return 'the configured URL';
  }
}
