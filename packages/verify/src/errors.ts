/** Why a request was refused: one code per cause, so a receiver can log and count them. */
export type VerificationFailure = 'missing_header' | 'invalid_header' | 'stale_timestamp' | 'no_matching_signature';

/** The request is not a genuine, fresh Novee webhook. Answer it with 401 (or 400); never process it. */
export class WebhookVerificationError extends Error {
  override name = 'WebhookVerificationError';
  constructor(
    readonly reason: VerificationFailure,
    message: string,
  ) {
    super(message);
  }
}

/** A header the scheme needs is absent (e.g. a proxy dropped it, or the request is not from Novee). */
export class MissingHeaderError extends WebhookVerificationError {
  override name = 'MissingHeaderError';
  constructor(
    readonly header: string,
    detail = `missing ${header} header`,
  ) {
    super('missing_header', detail);
  }
}

/** A header is present but not in the documented form (e.g. a timestamp that is not a number). */
export class InvalidHeaderError extends WebhookVerificationError {
  override name = 'InvalidHeaderError';
  constructor(
    readonly header: string,
    detail: string,
  ) {
    super('invalid_header', `${header} ${detail}`);
  }
}

/** The signed timestamp is further from now than the tolerance: a replay, or a clock that is off. */
export class StaleTimestampError extends WebhookVerificationError {
  override name = 'StaleTimestampError';
  constructor(
    readonly timestamp: Date,
    readonly toleranceMs: number,
    now: number,
  ) {
    const seconds = Math.round((now - timestamp.getTime()) / 1000);
    const when = seconds >= 0 ? `${seconds} s old` : `${-seconds} s in the future`;
    super('stale_timestamp', `timestamp is ${when}; tolerance is ${toleranceMs / 1000} s`);
  }
}

/** No signature on the request matches the body with any of the given secrets: wrong secret or altered body. */
export class NoMatchingSignatureError extends WebhookVerificationError {
  override name = 'NoMatchingSignatureError';
  constructor(detail = 'no signature matches the body with the given secret(s)') {
    super('no_matching_signature', detail);
  }
}
