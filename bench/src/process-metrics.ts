import { getText } from './bench-client';

/**
 * A service's event-loop delay and CPU over a phase, from its Prometheus endpoint. novee_event_loop_delay_seconds
 * is reset at every scrape, so a scrape before the phase (`start`) and one after it (`read`) give the phase's
 * own p99 and max; CPU is the
 * difference of process_cpu_seconds_total (user + system), which, unlike wall time, the other processes on the
 * machine do not inflate.
 */
export class ProcessMetrics {
  private cpuAtStart = 0;

  constructor(private readonly metricsUrl: string) {}

  async start(): Promise<void> {
    this.cpuAtStart = gauge(await getText(this.metricsUrl), 'novee_process_cpu_seconds_total');
  }

  /** Since `start`: event-loop delay p99 and max (ms), and CPU time used (ms). */
  async read(): Promise<{ loopP99: number; loopMax: number; cpuMs: number }> {
    const text = await getText(this.metricsUrl);
    return {
      loopP99: gauge(text, 'novee_event_loop_delay_seconds', '0.99') * 1000,
      loopMax: gauge(text, 'novee_event_loop_delay_seconds', '1') * 1000,
      cpuMs: (gauge(text, 'novee_process_cpu_seconds_total') - this.cpuAtStart) * 1000,
    };
  }
}

function gauge(metrics: string, name: string, quantile?: string): number {
  const line = metrics
    .split('\n')
    .find((l) =>
      quantile ? l.startsWith(`${name}{`) && l.includes(`quantile="${quantile}"`) : l.startsWith(`${name}{`) || l.startsWith(`${name} `),
    );
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : NaN;
}
