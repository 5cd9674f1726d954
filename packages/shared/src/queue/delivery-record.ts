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
  /**
   * The worker died while this attempt was under way (its request may or may not have reached the receiver);
   * the job runs the same attempt again after the crash, with the next `run`.
   */
  interrupted?: true;
  /** How often this attempt's job was taken over after a worker crash (absent: never). */
  run?: number;
  /** The attempt belongs to a redelivery requested through the API. */
  redelivery?: true;
  /** The attempt belongs to a bulk recovery (its id: GET /webhooks/project/:projectId/recoveries/:id). */
  recovery?: string;
  createdAt: Date;
}
