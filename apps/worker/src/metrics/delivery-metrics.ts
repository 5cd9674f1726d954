import { Counter, Histogram, type Registry } from 'prom-client';
import type { DeliveryRecord, WebhookType } from '@novee/shared';
import type { LimitObservation } from '../isolation/endpoint-state';

const SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 3600];
const SLOTS = [1, 2, 4, 8, 16, 32, 64, 100, 128, 256, 512, 1000];
const BASELINE_SECONDS = [0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/** What the worker tells Prometheus about deliveries. */
export class DeliveryMetrics {
  private readonly attempts: Counter<'outcome' | 'type'>;
  private readonly outcomes: Counter<'outcome' | 'type'>;
  private readonly retries: Counter<'type'>;
  private readonly deferrals: Counter<'reason'>;
  private readonly latency: Histogram<'type'>;
  private readonly receiverTime: Histogram<'outcome'>;
  private readonly endpointLimit: Histogram;
  private readonly endpointInFlight: Histogram;
  private readonly endpointBaseline: Histogram;
  private readonly limitCuts: Counter<'reason'>;

  constructor(registry: Registry) {
    const registers = [registry];
    this.attempts = new Counter({
      name: 'novee_delivery_attempts_total',
      help: 'Delivery attempts by outcome',
      labelNames: ['outcome', 'type'],
      registers,
    });
    this.outcomes = new Counter({
      name: 'novee_deliveries_total',
      help: 'Events by final outcome (delivered, failed after the last retry, rejected, skipped)',
      labelNames: ['outcome', 'type'],
      registers,
    });
    this.retries = new Counter({ name: 'novee_delivery_retries_total', help: 'Attempts after the first', labelNames: ['type'], registers });
    this.deferrals = new Counter({
      name: 'novee_delivery_deferrals_total',
      help: 'Jobs delayed by endpoint isolation',
      labelNames: ['reason'],
      registers,
    });
    this.latency = new Histogram({
      name: 'novee_delivery_latency_seconds',
      help: 'From enqueue to the receiver answering 2xx',
      labelNames: ['type'],
      buckets: SECONDS,
      registers,
    });
    this.receiverTime = new Histogram({
      name: 'novee_receiver_response_seconds',
      help: 'How long receivers took to answer',
      labelNames: ['outcome'],
      buckets: SECONDS,
      registers,
    });
    // Per finished delivery rather than per endpoint (no label per endpoint: there may be many thousands).
    this.endpointLimit = new Histogram({
      name: 'novee_endpoint_concurrency_limit',
      help: "The delivering endpoint's adaptive in-flight limit, observed as each delivery ends",
      buckets: SLOTS,
      registers,
    });
    this.endpointInFlight = new Histogram({
      name: 'novee_endpoint_in_flight',
      help: "The delivering endpoint's deliveries in flight (all workers), observed as each delivery ends",
      buckets: SLOTS,
      registers,
    });
    this.endpointBaseline = new Histogram({
      name: 'novee_endpoint_baseline_seconds',
      help: "The delivering endpoint's baseline latency (decaying minimum), observed as each delivery ends",
      buckets: BASELINE_SECONDS,
      registers,
    });
    this.limitCuts = new Counter({
      name: 'novee_endpoint_limit_cuts_total',
      help: "Cuts of an endpoint's in-flight limit: overload (timeout, 5xx, 429, connection error) or latency (rose above baseline)",
      labelNames: ['reason'],
      registers,
    });
  }

  /** An endpoint's adaptive limit after a delivery ended. */
  observeLimit({ limit, inFlight, baselineMs, cut }: LimitObservation): void {
    this.endpointLimit.observe(limit);
    this.endpointInFlight.observe(inFlight);
    this.endpointBaseline.observe(baselineMs / 1000);
    if (cut) this.limitCuts.inc({ reason: cut });
  }

  /** One recorded attempt (see DeliveryLog) of an event enqueued at `enqueuedAt` (Unix ms). */
  observeAttempt(record: Omit<DeliveryRecord, 'createdAt'>, enqueuedAt: number): void {
    const type = record.webhookType;
    this.attempts.inc({ outcome: record.status, type });
    if (record.attempt > 1) this.retries.inc({ type });
    if (record.durationMs !== undefined && record.urlHost) this.receiverTime.observe({ outcome: record.status }, record.durationMs / 1000);
    if (record.status === 'delivered') {
      this.outcomes.inc({ outcome: 'delivered', type });
      this.latency.observe({ type }, (Date.now() - enqueuedAt) / 1000);
    } else if (record.status === 'rejected' || record.final) {
      this.outcomes.inc({ outcome: record.status, type });
    }
  }

  skipped(type: WebhookType): void {
    this.outcomes.inc({ outcome: 'skipped', type });
  }

  deferred(reason: string): void {
    this.deferrals.inc({ reason });
  }
}
