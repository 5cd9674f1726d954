import type { Request } from 'express';
import { ajv } from '@novee/shared';
import { badRequest } from './http-error';

const isIdempotencyKey = ajv.compile({ type: 'string', format: 'uuid' });

/** The request's Idempotency-Key (POST /events, POST /events/batch): absent, or a UUID; anything else is a 400. */
export function idempotencyKeyHeader(req: Request): string | undefined {
  const key = req.header('idempotency-key');
  if (key !== undefined && !isIdempotencyKey(key)) throw badRequest('Idempotency-Key header must be a UUID');
  return key;
}
