import { randomUUID } from 'node:crypto';
import { MongoClient } from 'mongodb';
import { startApi, type RunningApi } from '@novee/api';
import { LocalTokenIssuer, findFreePort } from '@novee/devkit';
import { SecretCipher, loadConfig, projectsCollection } from '@novee/shared';
import { AUDIENCE, type ApiBody } from './support/harness';
import { fallDetection } from './support/fixtures';

/** An API whose Redis, MongoDB and/or issuer are down (nothing listens on their ports). */
async function apiWith(down: { redis?: boolean; mongo?: boolean; issuer?: boolean }, issuer: LocalTokenIssuer) {
  const deadUrl = async (scheme: string) => `${scheme}://127.0.0.1:${await findFreePort()}`;
  return startApi(
    loadConfig({
      REDIS_URL: down.redis ? await deadUrl('redis') : process.env.REDIS_URL,
      MONGODB_URL: down.mongo ? await deadUrl('mongodb') : process.env.MONGODB_URL,
      MONGODB_DB: 'outage_test',
      HOST: '127.0.0.1',
      PORT: '0',
      AUTH0_ISSUER_BASE_URL: down.issuer ? `${await deadUrl('http')}/` : issuer.issuer,
      AUTH0_AUDIENCE: AUDIENCE,
      LOG_LEVEL: 'error',
      METRICS_PORT: '0',
      SECRETS_ENCRYPTION_KEYS: SecretCipher.generateKeyEntry(),
    }),
  );
}

async function call(api: RunningApi, method: string, path: string, token?: string, body?: unknown) {
  const res = await fetch(api.url + path, {
    method,
    headers: { 'content-type': 'application/json', ...(token && { authorization: `Bearer ${token}` }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, retryAfter: res.headers.get('retry-after'), body: (await res.json()) as ApiBody };
}

let issuer: LocalTokenIssuer;
beforeAll(async () => {
  issuer = await LocalTokenIssuer.start({ audience: AUDIENCE });
});
afterAll(() => issuer.stop());

describe('when a dependency is down', () => {
  it('Redis and MongoDB down: /healthz 200, /readyz 503 naming both, API calls 503 (no crash)', async () => {
    const api = await apiWith({ redis: true, mongo: true }, issuer);
    try {
      expect((await call(api, 'GET', '/healthz')).status).toBe(200);
      const ready = await call(api, 'GET', '/readyz');
      expect(ready).toMatchObject({
        status: 503,
        body: { status: 'unavailable', checks: { redis: 'unavailable', mongodb: 'unavailable' } },
      });

      const token = await issuer.issueToken({ sub: 'auth0|member', scope: 'events:write' });
      const register = await call(api, 'POST', '/webhooks/register', token, {
        projectId: 'p1',
        url: 'https://hooks.example.com/',
        types: ['FALL_DETECTION'],
      });
      expect(register).toMatchObject({
        status: 503,
        retryAfter: '5',
        body: { statusCode: 503, error: 'Service Unavailable', message: 'Database is unavailable, try again shortly' },
      });
      // The project cannot be checked (and has never been seen by this API): 503, not 404 and not 202.
      const event = await call(api, 'POST', '/events', token, fallDetection('p1'));
      expect(event).toMatchObject({
        status: 503,
        body: { statusCode: 503, error: 'Service Unavailable', message: 'Database is unavailable, try again shortly' },
      });
      // Still serving afterwards.
      expect((await call(api, 'GET', '/healthz')).status).toBe(200);
    } finally {
      await api.stop();
    }
  });

  it('only Redis down: an event for a known project is 503 and nothing is enqueued', async () => {
    const mongo = new MongoClient(process.env.MONGODB_URL!);
    const projectId = `outage-${randomUUID().slice(0, 8)}`;
    await projectsCollection(mongo.db('outage_test')).insertOne({ _id: projectId, members: ['auth0|member'] });
    const api = await apiWith({ redis: true }, issuer);
    try {
      const token = await issuer.issueToken({ sub: 'auth0|member', scope: 'events:write' });
      const event = await call(api, 'POST', '/events', token, fallDetection(projectId));
      expect(event).toMatchObject({
        status: 503,
        retryAfter: '5',
        body: { statusCode: 503, error: 'Service Unavailable', message: 'Event queue is unavailable, try again shortly' },
      });
      // A batch: 503 for the request (no event could be enqueued), not a 200 of per-event failures.
      const batch = await call(api, 'POST', '/events/batch', token, { events: [fallDetection(projectId), fallDetection(projectId)] });
      expect(batch).toMatchObject({
        status: 503,
        retryAfter: '5',
        body: { statusCode: 503, error: 'Service Unavailable', message: 'Event queue is unavailable, try again shortly' },
      });
    } finally {
      await api.stop();
      await mongo.close();
    }
  });

  it('only MongoDB down: an event for a project this API has not seen is 503 (it may exist); /readyz names MongoDB', async () => {
    // A project seen before the outage is still served from the cache: see event-access.test.ts.
    const api = await apiWith({ mongo: true }, issuer);
    try {
      const token = await issuer.issueToken({ sub: 'pipeline@clients', scope: 'events:write:any' });
      const event = await call(api, 'POST', '/events', token, fallDetection('p1'));
      expect(event).toMatchObject({ status: 503, retryAfter: '5', body: { message: 'Database is unavailable, try again shortly' } });
      expect((await call(api, 'GET', '/readyz')).body.checks).toEqual({ redis: 'ok', mongodb: 'unavailable' });
    } finally {
      await api.stop();
    }
  });

  it('the token issuer unreachable: 503, not 401 and not a crash', async () => {
    const api = await apiWith({ issuer: true }, issuer);
    try {
      const token = await issuer.issueToken({ sub: 'auth0|member' });
      const res = await call(api, 'GET', '/webhooks/project/p1', token);
      expect(res).toMatchObject({
        status: 503,
        body: { statusCode: 503, error: 'Service Unavailable', message: 'Authorization server is unavailable, try again shortly' },
      });
    } finally {
      await api.stop();
    }
  });
});
