/** BullMQ queue that carries every event from ingestion to the delivery workers. */
export const DELIVERY_QUEUE = 'webhook-deliveries';

/** Default Redis key prefix for all queues (override with QUEUE_PREFIX). */
export const DEFAULT_QUEUE_PREFIX = 'novee';
