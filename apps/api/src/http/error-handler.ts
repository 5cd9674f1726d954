import type { ErrorRequestHandler } from 'express';
import { UnauthorizedError } from 'express-oauth2-jwt-bearer';
import { MongoNetworkError, MongoNotConnectedError, MongoServerSelectionError, MongoTopologyClosedError } from 'mongodb';
import { QueueUnavailableError, type Logger } from '@novee/shared';
import { HttpError, errorBody, serviceUnavailable } from './http-error';

/** Driver errors that mean "MongoDB is unreachable right now", not "the request was wrong". */
function isMongoUnavailable(error: unknown): boolean {
  return (
    error instanceof MongoServerSelectionError ||
    error instanceof MongoNetworkError ||
    error instanceof MongoNotConnectedError ||
    error instanceof MongoTopologyClosedError
  );
}

/** Body-parser errors carry a status and a type. */
function bodyParserError(error: unknown): HttpError | undefined {
  const type = (error as { type?: string } | null)?.type;
  if (type === 'entity.parse.failed') return new HttpError(400, 'Request body must be valid JSON');
  if (type === 'entity.too.large') return new HttpError(413, 'Request body is too large');
  if (typeof type === 'string' && type.startsWith('encoding.')) return new HttpError(415, 'Unsupported body encoding');
  return undefined;
}

function toHttpError(error: unknown): HttpError {
  if (error instanceof HttpError) return error;
  if (error instanceof UnauthorizedError) {
    return new HttpError(error.status, error.message || 'Unauthorized', error.headers);
  }
  if (isMongoUnavailable(error)) return serviceUnavailable('Database');
  if (error instanceof QueueUnavailableError) return serviceUnavailable('Event queue');
  return bodyParserError(error) ?? new HttpError(500, 'Internal Server Error');
}

/** Every error leaves as `{statusCode, error, message}`; 5xx are logged (without request headers). */
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
    }
    res.set(httpError.headers).status(httpError.statusCode).json(errorBody(httpError.statusCode, httpError.message));
  };
}
