import { STATUS_CODES } from 'node:http';
import type { ErrorRequestHandler } from 'express';
import { UnauthorizedError } from 'express-oauth2-jwt-bearer';
import { MongoNetworkError, MongoNotConnectedError, MongoServerSelectionError, MongoTopologyClosedError } from 'mongodb';
import { EnqueueOutcomeUnknownError, QueueQuotaExceededError, QueueUnavailableError, type Logger } from '@novee/shared';
import { HttpError, enqueueNotConfirmed, errorBody, serviceUnavailable } from './http-error';

/** Driver errors that mean "MongoDB is unreachable right now", not "the request was wrong". */
function isMongoUnavailable(error: unknown): boolean {
  return (
    error instanceof MongoServerSelectionError ||
    error instanceof MongoNetworkError ||
    error instanceof MongoNotConnectedError ||
    error instanceof MongoTopologyClosedError
  );
}

interface StatusCarrier {
  status?: unknown;
  statusCode?: unknown;
  type?: unknown;
  code?: unknown;
  expose?: unknown;
  message?: unknown;
}

/** Clear messages for the client errors that body-parser, raw-body, zlib and the router raise. */
function describeClientError(error: StatusCarrier, status: number): string {
  const type = typeof error.type === 'string' ? error.type : '';
  const code = typeof error.code === 'string' ? error.code : '';
  if (type === 'entity.parse.failed') return 'Request body must be valid JSON';
  if (type === 'entity.too.large') return 'Request body is too large';
  if (type === 'charset.unsupported') return 'Request body charset must be utf-8 (Content-Type: application/json; charset=utf-8)';
  if (type === 'encoding.unsupported') return 'Content-Encoding must be gzip, deflate, br or identity';
  if (type === 'request.aborted') return 'Request was aborted by the client';
  if (type === 'request.size.invalid') return 'Request body length did not match Content-Length';
  if (code.startsWith('Z_') || code === 'ERR_BROTLI_DECOMPRESSION_FAILED' || code.startsWith('ERR__ERROR_FORMAT')) {
    return 'Request body could not be decompressed (invalid or truncated Content-Encoding data)';
  }
  if (error instanceof URIError) return 'Request path contains malformed percent-encoding';
  return STATUS_CODES[status] ?? 'Bad Request';
}

/**
 * Errors raised by Express and its parsers carry the 4xx status that fits them (malformed percent-encoding,
 * an unsupported charset, a truncated gzip body, an aborted upload...): honour it instead of answering 500.
 */
function clientError(error: unknown): HttpError | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const carrier = error as StatusCarrier;
  const status = Number(carrier.status ?? carrier.statusCode);
  if (!Number.isInteger(status) || status < 400 || status > 499) return undefined;
  return new HttpError(status, describeClientError(carrier, status));
}

/** The HttpError an error is answered with (also per event, in a batch's results). */
export function toHttpError(error: unknown): HttpError {
  if (error instanceof HttpError) return error;
  if (error instanceof UnauthorizedError) {
    return new HttpError(error.status, error.message || 'Unauthorized', error.headers);
  }
  if (isMongoUnavailable(error)) return serviceUnavailable('Database');
  if (error instanceof QueueUnavailableError) return serviceUnavailable('Event queue');
  if (error instanceof EnqueueOutcomeUnknownError) return enqueueNotConfirmed();
  // The project's queue is full: back off while its webhook catches up (the cap is per project, not global).
  if (error instanceof QueueQuotaExceededError) return new HttpError(429, error.message, { 'Retry-After': '30' });
  return clientError(error) ?? new HttpError(500, 'Internal Server Error');
}

/**
 * Every error leaves as `{statusCode, error, message}`; 5xx are logged at error level (without request
 * headers). An upload the client gave up on is the client's business: a debug line, not an error.
 */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (error: unknown, req, res, _next) => {
    const httpError = toHttpError(error);
    if (httpError.statusCode >= 500) {
      logger.error('request failed', {
        method: req.method,
        path: req.path,
        statusCode: httpError.statusCode,
        requestId: res.locals.requestId,
        error,
      });
    } else if ((error as StatusCarrier | null)?.type === 'request.aborted') {
      logger.debug('client aborted the request', { method: req.method, path: req.path, requestId: res.locals.requestId });
    }
    if (res.headersSent) return void res.end();
    res.set(httpError.headers).status(httpError.statusCode).json(errorBody(httpError.statusCode, httpError.message));
  };
}
