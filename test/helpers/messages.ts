import { newId } from '../../src/ids.js';
import type { NewIncoming } from '../../src/storage/contract.js';

/**
 * A pushed message as storage receives it; by default a custom type with an empty payload, so
 * intake validates only its envelope.
 */
export function newIncoming(storeId: string, message = 'acme:thing:new', payload = '{}'): NewIncoming {
  return {
    id: newId(),
    store_id: storeId,
    message,
    payload,
    extra: null,
    origin: 'push',
    parent_id: null,
    depth: 0,
    created_at: Date.now(),
  };
}
