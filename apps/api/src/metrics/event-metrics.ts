import { Counter, type Registry } from 'prom-client';

/** Events accepted by POST /events, by type and lane (bulk: beyond the project's per-second share). */
export function enqueuedEventsCounter(registry: Registry): Counter<'type' | 'lane'> {
  return new Counter({
    name: 'novee_events_enqueued_total',
    help: "Events enqueued through the API, by type and lane (bulk = beyond the project's per-second share)",
    labelNames: ['type', 'lane'],
    registers: [registry],
  });
}

/** Bulk recoveries: events re-sent, and those that could not be (payload no longer in the queue, or the quota). */
export function recoveredEventsCounter(registry: Registry): Counter<'outcome'> {
  return new Counter({
    name: 'novee_recovered_events_total',
    help: 'Events re-sent by bulk recoveries (queued), or found failed but no longer re-sendable (not_queued)',
    labelNames: ['outcome'],
    registers: [registry],
  });
}
