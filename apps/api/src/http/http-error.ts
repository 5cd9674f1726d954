import { STATUS_CODES } from 'node:http';

/** An error that becomes the documented JSON body `{statusCode, error, message}`. */
export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    message: string = STATUS_CODES[statusCode] ?? 'Error',
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

export const badRequest = (message: string) => new HttpError(400, message);
export const forbidden = (message = 'Forbidden') => new HttpError(403, message);
export const notFound = (message: string) => new HttpError(404, message);
export const conflict = (message: string) => new HttpError(409, message);
export const serviceUnavailable = (dependency: string) =>
  new HttpError(503, `${dependency} is unavailable, try again shortly`, { 'Retry-After': '5' });

/** Redis stalled after the event was sent: it may be queued, so this is not a 503 (which means "not queued"). */
export const enqueueNotConfirmed = () =>
  new HttpError(
    504,
    'Event queue did not confirm the event in time; it may have been accepted. Retry with the same Idempotency-Key to get its eventId without a duplicate',
    { 'Retry-After': '5' },
  );

export function errorBody(statusCode: number, message: string) {
  return { statusCode, error: STATUS_CODES[statusCode] ?? 'Error', message };
}
