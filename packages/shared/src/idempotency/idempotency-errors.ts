/**
 * An Idempotency-Key that was first used for a different request. Answered 422 (as in the IETF
 * Idempotency-Key draft: the key is reused with a different payload), never by dropping either event.
 */
export class IdempotencyKeyReusedError extends Error {
  constructor(
    readonly key: string,
    readonly conflict: 'project' | 'event',
  ) {
    super(
      conflict === 'project'
        ? `Idempotency-Key ${key} was already used for an event of another project; use a new key for each event`
        : `Idempotency-Key ${key} was already used for a different event; use a new key for each event`,
    );
    this.name = 'IdempotencyKeyReusedError';
  }
}

/** An Idempotency-Key the producer cannot store (empty, too long or not printable ASCII). */
export class InvalidIdempotencyKeyError extends Error {
  constructor(readonly key: string) {
    super('idempotencyKey must be 1-255 printable ASCII characters');
    this.name = 'InvalidIdempotencyKeyError';
  }
}
