import { type TString, Type } from 'typebox';
import { type ErrorCode, HubError } from '../../errors.js';

/**
 * The item routes of a store's parameters, schedulers and integrations (`…/{id or name}`,
 * docs/parameters.md, docs/integrations.md) and of its mappings (`…/{mapping_id}`, by id only):
 * how an item is found, and the one 404 of the error catalog (docs/errors.md) a route answers
 * whenever it is not there, before a change or because it went away during one.
 */
export interface StoreItems<T extends { id: string }> {
  notFound: Extract<ErrorCode, `${string}_NOT_FOUND`>;
  /** The item the path names, undefined when the store has none. */
  find(storeId: string, idOrName: string): Promise<T | undefined>;
  /** Deletes by id; false when there was none. */
  remove(storeId: string, id: string): Promise<boolean>;
}

export interface ItemAccess<T> {
  /** The item the path names, or the 404. */
  load(storeId: string, idOrName: string): Promise<T>;
  /** What a write answered: the item, or the 404 when it went away after it was loaded. */
  written(item: T | undefined): T;
  /** Deletes an item loaded before, or answers the 404 when it went away meanwhile. */
  remove(storeId: string, item: T): Promise<void>;
}

export function byIdOrName<T extends { id: string }>(items: StoreItems<T>): ItemAccess<T> {
  const written = (item: T | undefined): T => {
    if (!item) throw new HubError(items.notFound);
    return item;
  };
  return {
    load: async (storeId, idOrName) => written(await items.find(storeId, idOrName)),
    written,
    async remove(storeId, item) {
      if (!(await items.remove(storeId, item.id))) throw new HubError(items.notFound);
    },
  };
}

/** The path parameters of an item route: the store, and the item under `key`. */
export function itemParams<K extends string>(key: K, description?: string) {
  const item = description === undefined ? Type.String() : Type.String({ description });
  return Type.Object({ store_id: Type.String(), [key]: item } as { store_id: TString } & Record<K, TString>);
}
