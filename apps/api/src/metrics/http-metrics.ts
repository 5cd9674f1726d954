import type { RequestHandler } from 'express';
import { Histogram, type Registry } from 'prom-client';
import { routePattern } from '../http/route-pattern';

/** Request duration by method, route pattern (never the raw path: ids would explode the label set) and status. */
export function httpMetrics(registry: Registry): RequestHandler {
  const duration = new Histogram({
    name: 'novee_http_request_duration_seconds',
    help: 'API request duration',
    labelNames: ['method', 'route', 'status_code'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  return (req, res, next) => {
    const end = duration.startTimer({ method: req.method });
    res.once('finish', () => {
      const route = routePattern(req) ?? 'unmatched';
      end({ route, status_code: String(res.statusCode) });
    });
    next();
  };
}
