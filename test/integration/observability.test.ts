import { expect } from '@jest/globals';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import type { Express } from 'express';
import { openApiDocument } from '../../apps/api/src/openapi/openapi-document';
import { metric } from './support/prometheus';
import { eventually, startHarness, type Harness } from './support/harness';
import { fallDetection } from './support/fixtures';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ workers: 1 });
});
afterAll(() => h.stop());

/** What the walker reads of Express's (untyped) router internals. */
interface RouterLayer {
  route?: { path: unknown; methods: Record<string, boolean> };
  handle?: { stack?: RouterLayer[] };
}

/** Every METHOD path the Express app routes (nested routers included), as OpenAPI paths. */
function appRoutes(app: Express): string[] {
  const routes: string[] = [];
  const walk = (stack: RouterLayer[]) => {
    for (const layer of stack) {
      if (layer.route) {
        for (const method of Object.keys(layer.route.methods)) {
          routes.push(`${method.toUpperCase()} ${String(layer.route.path).replace(/:(\w+)/g, '{$1}')}`);
        }
      } else if (layer.handle?.stack) {
        walk(layer.handle.stack);
      }
    }
  };
  walk((app as unknown as { router: { stack: RouterLayer[] } }).router.stack);
  return routes.filter((route) => !route.includes('/admin/queues') && !route.includes('/docs'));
}

/** The parts of an operation in the document that carry examples. */
interface DocumentedMedia {
  schema: { $ref?: string };
  example?: unknown;
  examples?: Record<string, { value: unknown }>;
}
interface DocumentedOperation {
  requestBody?: { content?: Record<string, DocumentedMedia> };
  responses?: Record<string, { content?: Record<string, DocumentedMedia> }>;
}

describe('OpenAPI', () => {
  it('documents every route of the app', () => {
    const documented = Object.entries(openApiDocument.paths).flatMap(([path, item]) =>
      Object.keys(item)
        .filter((key) => key !== 'parameters')
        .map((method) => `${method.toUpperCase()} ${path}`),
    );
    const routes = appRoutes(h.api.app);
    expect(routes.length).toBeGreaterThan(10); // the walker found the nested routers
    expect(routes.filter((route) => !documented.includes(route))).toEqual([]);
    expect(documented.filter((route) => !routes.includes(route))).toEqual([]);
  });

  it('every documented example validates against its schema', () => {
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    addFormats(ajv);
    ajv.addSchema({ ...openApiDocument, $id: 'openapi.json' });
    let checked = 0;
    // The outgoing webhooks' examples too.
    const items = { ...openApiDocument.paths, ...openApiDocument.webhooks } as Record<string, Record<string, DocumentedOperation>>;
    for (const [path, item] of Object.entries(items)) {
      for (const [method, operation] of Object.entries(item)) {
        if (method === 'parameters') continue;
        const contents = [operation.requestBody?.content, ...Object.values(operation.responses ?? {}).map((r) => r.content)];
        for (const content of contents) {
          const media = content?.['application/json'];
          if (!media) continue;
          const examples = [media.example, ...Object.values(media.examples ?? {}).map((e) => e.value)].filter((e) => e !== undefined);
          const schema = media.schema.$ref ? { $ref: `openapi.json${media.schema.$ref}` } : media.schema;
          const validate = ajv.compile(schema);
          for (const example of examples) {
            checked++;
            if (!validate(example)) throw new Error(`${method.toUpperCase()} ${path}: ${ajv.errorsText(validate.errors)}`);
          }
        }
      }
    }
    expect(checked).toBeGreaterThan(30);
  });

  it('is served at /openapi.json, with Swagger UI at /docs', async () => {
    const doc = await h.request('GET', '/openapi.json');
    expect(doc.status).toBe(200);
    expect(doc.body.openapi).toBe('3.1.0');
    const ui = await fetch(`${h.api.url}/docs/`);
    expect(ui.status).toBe(200);
    expect(await ui.text()).toContain('swagger-ui');
  });
});

describe('Prometheus metrics', () => {
  it('the worker reports deliveries by outcome and type, latency and receiver time; the API reports queue depth and requests', async () => {
    const project = await h.webhookProject('metrics');
    const pipeline = await h.token('pipeline@clients', 'events:write:any');
    await h.request('POST', '/events', { token: pipeline, body: fallDetection(project.projectId) });
    await h.receiver.waitFor(1, { path: project.path });

    const fall = { type: 'FALL_DETECTION', service: 'worker' };
    const worker = await eventually(async () => {
      const text = await (await fetch(h.workers[0]!.metricsUrl)).text();
      return metric(text, 'novee_deliveries_total', { ...fall, outcome: 'delivered' }) === 1 ? text : null;
    });
    expect(metric(worker, 'novee_delivery_latency_seconds_count', fall)).toBe(1);
    expect(metric(worker, 'novee_receiver_response_seconds_count', { outcome: 'delivered' })).toBe(1);
    expect(metric(worker, 'novee_delivery_attempts_total', { ...fall, outcome: 'delivered' })).toBe(1);
    expect(worker).toContain('novee_process_cpu_seconds_total');
    // The delay since the previous scrape: present, and a non-negative number of seconds.
    expect(metric(worker, 'novee_event_loop_delay_seconds', { quantile: '0.99', service: 'worker' })).toBeGreaterThanOrEqual(0);

    // The worker counts the delivery before BullMQ moves its job to completed: read the queue once it has.
    const queue = { queue: 'webhook-deliveries', service: 'api' };
    const api = await eventually(async () => {
      const text = await (await fetch(h.api.metricsUrl)).text();
      return metric(text, 'novee_queue_jobs', { ...queue, state: 'completed' }) === 1 ? text : null;
    });
    expect(metric(api, 'novee_queue_jobs', { ...queue, state: 'waiting' })).toBe(0);
    expect(metric(api, 'novee_http_request_duration_seconds_count', { method: 'POST', route: '/events', status_code: '202' })).toBe(1);
    expect(metric(api, 'novee_events_enqueued_total', { type: 'FALL_DETECTION', lane: 'normal', service: 'api' })).toBe(1);
    expect(metric(api, 'novee_event_loop_delay_seconds', { quantile: '1', service: 'api' })).toBeGreaterThanOrEqual(0);
  });

  it('/metrics is not on the public API port', async () => {
    expect((await fetch(`${h.api.url}/metrics`)).status).toBe(401);
  });
});

describe('Bull Board', () => {
  it('needs the admin:queues scope and is read-only by default', async () => {
    const admin = await h.token('ops@novee', 'admin:queues');
    const res = await h.request('GET', '/admin/queues/api/queues', { token: admin });
    expect(res.status).toBe(200);
    expect(res.body.queues).toEqual([expect.objectContaining({ name: 'webhook-deliveries', readOnlyMode: true })]);
    expect((await h.request('GET', '/admin/queues/api/queues', { token: await h.token('auth0|member') })).status).toBe(403);
    expect((await h.request('GET', '/admin/queues/api/queues')).status).toBe(401);
  });
});
