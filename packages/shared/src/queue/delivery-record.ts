import type { WebhookType } from '../events/event-types';

/**
 * delivered: the receiver answered 2xx.
 * failed: non-2xx, timeout or unreachable.
 * rejected: the event breaks a delivery rule (type not subscribed, invalid data); never retried.
 */
export type DeliveryStatus = 'delivered' | 'failed' | 'rejected';

/** One delivery attempt, as stored in the `deliveries` collection and logged. */
export interface DeliveryRecord {
  eventId: string;
  projectId: string;
  webhookType: WebhookType;
  attempt: number;
  status: DeliveryStatus;
  /** Host of the receiver URL only: paths and query strings may carry customer tokens. */
  urlHost?: string;
  statusCode?: number;
  error?: string;
  durationMs?: number;
  /** On a failed attempt: true when no retry will follow (the event is permanently failed). */
  final?: boolean;
  /** The attempt belongs to a redelivery requested through the API. */
  redelivery?: true;
  createdAt: Date;
}
