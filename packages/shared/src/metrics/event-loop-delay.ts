import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Gauge, type Registry } from 'prom-client';

/** How often the event loop is sampled (ms). */
const SAMPLE_MS = 5;

/**
 * novee_event_loop_delay_seconds{quantile="0.5"|"0.99"|"1"}: how late the event loop ran since the last scrape
 * (1 = the worst). A late loop delays every request and delivery of the process, so a tail in the latency
 * figures shows here first. perf_hooks records each sample's whole interval; the sampling interval itself is
 * subtracted, so an idle process reads 0 (prom-client's nodejs_eventloop_lag_* include its 10 ms interval).
 */
export function registerEventLoopDelay(registry: Registry): void {
  const histogram = monitorEventLoopDelay({ resolution: SAMPLE_MS });
  histogram.enable();
  const late = (nanoseconds: number) => Math.max(0, nanoseconds / 1e9 - SAMPLE_MS / 1000);
  new Gauge({
    name: 'novee_event_loop_delay_seconds',
    help: 'Event-loop delay since the previous scrape, by quantile (1 = max), beyond the 5 ms sampling interval',
    labelNames: ['quantile'],
    registers: [registry],
    collect() {
      if (histogram.count === 0) return;
      this.set({ quantile: '0.5' }, late(histogram.percentile(50)));
      this.set({ quantile: '0.99' }, late(histogram.percentile(99)));
      this.set({ quantile: '1' }, late(histogram.max));
      histogram.reset();
    },
  });
}
