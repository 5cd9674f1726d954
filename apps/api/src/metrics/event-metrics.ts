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
