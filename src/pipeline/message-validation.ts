import { library, type SchemaIssue, StoreSchemaCache, StoreSchemaError } from '../library/index.js';
import type { Storage, StoreSchema } from '../storage/contract.js';

interface StoreEntry {
  schemas: Map<string, StoreSchema>;
  loadedAt: number;
}

/**
 * Validates payloads against the message library and the store's own registered schemas. A store
 * schema applies in addition to the library's (the library's requirements are what endpoints
 * rely on, so a store may tighten a type but not loosen it). Each store's schema list is cached
 * for a few seconds; compiled validators are cached per (store, type, version).
 */
export class MessageValidator {
  private readonly stores = new Map<string, StoreEntry>();
  private readonly compiled = new StoreSchemaCache();

  constructor(
    private readonly storage: Storage,
    private readonly ttlMs = 5000,
  ) {}

  async validate(storeId: string, type: string, payload: unknown, now = Date.now()): Promise<SchemaIssue[]> {
    const issues = library.validate(type, payload);
    const own = (await this.storeSchemas(storeId, now)).get(type);
    if (own) {
      let validator: (payload: unknown) => SchemaIssue[];
      try {
        validator = this.compiled.validator(
          `${storeId}\u0000${type}\u0000${own.version}`,
          JSON.parse(own.schema),
        );
      } catch (err) {
        if (!(err instanceof StoreSchemaError)) throw err;
        // registered under older rules (a lookaround pattern, before patterns ran on RE2): the
        // type's messages are refused with the reason until the store registers a schema anew
        return [
          ...issues,
          {
            pointer: '',
            message: `cannot be checked: the store's schema for ${type} no longer compiles (${err.issues.map((i) => i.message).join('; ')}); register it again`,
          },
        ];
      }
      issues.push(...validator(payload));
    }
    return issues;
  }

  invalidate(storeId: string): void {
    this.stores.delete(storeId);
  }

  private async storeSchemas(storeId: string, now: number): Promise<Map<string, StoreSchema>> {
    const cached = this.stores.get(storeId);
    if (cached && now - cached.loadedAt <= this.ttlMs) return cached.schemas;
    const list = await this.storage.listStoreSchemas(storeId);
    const schemas = new Map(list.map((s) => [s.message, s]));
    if (this.stores.size > 10_000) this.stores.clear();
    this.stores.set(storeId, { schemas, loadedAt: now });
    return schemas;
  }
}

export function issuesToFieldErrors(issues: readonly SchemaIssue[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const issue of issues) {
    const list = (out[issue.pointer || '/'] ??= []);
    if (!list.includes(issue.message)) list.push(issue.message);
  }
  return out;
}
