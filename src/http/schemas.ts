import { Type } from 'typebox';

/** Schemas shared by several routes (OpenAPI components in all but name). */

export const ErrorBody = Type.Object(
  {
    error: Type.String(),
    errors: Type.Optional(Type.Record(Type.String(), Type.Array(Type.String()))),
  },
  { description: 'An error answer; `errors` maps JSON pointers to reasons (422 only).' },
);

export const StoreParams = Type.Object({ store_id: Type.String({ description: 'The store id' }) });

export const storeSecurity = [{ storeToken: [] }];
export const adminSecurity = [{ adminToken: [] }];

export const errorResponses = {
  401: ErrorBody,
  404: ErrorBody,
  422: ErrorBody,
};

export const Timestamp = Type.Union([Type.String({ format: 'date-time' }), Type.Null()]);

export const QueueItem = Type.Object({
  id: Type.String(),
  message: Type.String(),
  state: Type.String(),
  queue_name: Type.String(),
  source: Type.Union([Type.String(), Type.Null()]),
  origin: Type.String(),
  parent_id: Type.Union([Type.String(), Type.Null()]),
  mapping_id: Type.Union([Type.String(), Type.Null()]),
  consumer: Type.Union([Type.String(), Type.Null()]),
  attempts: Type.Integer(),
  created_at: Type.String({ format: 'date-time' }),
  attempt_at: Timestamp,
  completed_at: Timestamp,
  locked_at: Timestamp,
});

export const JsonObject = Type.Record(Type.String(), Type.Unknown());
