import { request } from 'undici';
import { CLIENT_TIMEOUT_MS } from '../http-client.js';

/** A failed call: the hub's status and answer, for messages that say what the hub said. */
export class HubApiError extends Error {
  override name = 'HubApiError';
  constructor(
    readonly method: string,
    readonly path: string,
    readonly status: number,
    readonly body: unknown,
  ) {
    super(`${method} ${path} answered ${status}: ${typeof body === 'string' ? body : JSON.stringify(body)}`);
  }
}

/** The store-scoped JSON API of a running hub, as `switchyard apply` and `export` use it. */
export class HubApi {
  private readonly base: string;

  constructor(
    url: string,
    readonly storeId: string,
    private readonly token: string,
  ) {
    this.base = `${url.replace(/\/+$/, '')}/api/stores/${encodeURIComponent(storeId)}/`;
  }

  get<T>(path: string): Promise<T> {
    return this.call<T>('GET', path);
  }
  post<T>(path: string, body?: unknown): Promise<T> {
    return this.call<T>('POST', path, body);
  }
  put<T>(path: string, body: unknown): Promise<T> {
    return this.call<T>('PUT', path, body);
  }
  /** Deletes; a 404 counts as done (the item was already gone, e.g. with its integration). */
  async delete(path: string): Promise<void> {
    try {
      await this.call('DELETE', path);
    } catch (err) {
      if (!(err instanceof HubApiError && err.status === 404)) throw err;
    }
  }

  private async call<T>(method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown): Promise<T> {
    const res = await request(this.base + path, {
      method,
      // a hub that never answers ends the command instead of hanging it
      headersTimeout: CLIENT_TIMEOUT_MS,
      bodyTimeout: CLIENT_TIMEOUT_MS,
      headers: {
        'x-augury-token': this.token,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.body.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // keep the text
    }
    if (res.statusCode >= 400) throw new HubApiError(method, path, res.statusCode, parsed);
    return parsed as T;
  }
}

/** A path segment (names may hold `:` or `.`, which are fine, and `/`, which is not). */
export const seg = (name: string) => encodeURIComponent(name);
