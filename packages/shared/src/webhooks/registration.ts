import type { SubscribableType } from '../events/event-types';

/** A stored webhook registration (collection `registrations`, one per project). */
export interface WebhookRegistrationDocument {
  projectId: string;
  url: string;
  types: SubscribableType[];
  /**
   * The signing secret (encrypted at rest): `whsec_` + 32 random bytes in base64; registrations made before
   * Standard Webhooks support have `whsec_` + 64 hex digits, which stay valid. Shown only on register and rotate.
   */
  secret: string;
  /** After a rotation, the replaced secret, still signing (webhook-signature only) until expiresAt. */
  previousSecret?: { secret: string; expiresAt: Date };
  /** Absent = enabled. A disabled endpoint is sent nothing: its events end as failed ("endpoint disabled"). */
  status?: EndpointStatus;
  disabledReason?: string;
  disabledAt?: Date;
  /** Since when every attempt to it has failed (absent while it is healthy); written on transitions only. */
  failingSince?: Date;
  /**
   * When it was last (re-)enabled or given a new URL: its failure streak counts from then, so re-enabling it
   * starts a new one (see the worker's health/). Absent = never (older registrations).
   */
  enabledAt?: Date;
  createdAt: Date;
  updatedAt: Date;
}

export type EndpointStatus = 'enabled' | 'disabled';

/** Why an endpoint that answered 410 Gone was disabled. */
export const GONE_REASON = 'receiver answered 410';
/** What a disabled endpoint's events are recorded with. */
export const ENDPOINT_DISABLED_ERROR = 'endpoint disabled';

/** A project and who may manage its webhook (collection `projects`). */
export interface ProjectDocument {
  _id: string;
  name?: string;
  /** Token `sub`s of the project's members. */
  members: string[];
}

/**
 * The secrets a delivery signed now carries in webhook-signature: the current one first, then the previous one
 * while its grace window is open. X-Signature uses the first alone.
 */
export function signingSecrets(
  registration: Pick<WebhookRegistrationDocument, 'secret' | 'previousSecret'>,
  now: number = Date.now(),
): string[] {
  const previous = registration.previousSecret;
  return previous && previous.expiresAt.getTime() > now ? [registration.secret, previous.secret] : [registration.secret];
}
