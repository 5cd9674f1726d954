import { startMongoJavaServer, type LocalMongo } from '@novee/devkit';
import { startHarness, type Harness } from './support/harness';
import { fallDetection } from './support/fixtures';

/** Who may POST /events for which project, and what MongoDB being down changes. */
describe('POST /events: project and membership', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ workers: 0 });
    await h.createProject('acc-1', ['auth0|member', 'ingest-client@clients']);
    await h.createProject('acc-2', ['auth0|someone-else']);
  });
  afterAll(() => h.stop());

  const post = async (sub: string, scope: string | undefined, body: unknown) =>
    h.request('POST', '/events', { token: await h.token(sub, scope), body });

  it("unknown project: 404 with the management API's message, for every kind of token", async () => {
    for (const [sub, scope] of [
      ['auth0|member', 'events:write'],
      ['pipeline@clients', 'events:write:any'],
    ] as const) {
      const res = await post(sub, scope, fallDetection('acc-nope'));
      expect(res.body).toEqual({ statusCode: 404, error: 'Not Found', message: 'No project with id acc-nope was found' });
    }
  });

  it("events:write: only for projects whose members include the token's sub (machine clients too)", async () => {
    expect((await post('auth0|member', 'events:write', fallDetection('acc-1'))).status).toBe(202);
    expect((await post('ingest-client@clients', 'events:write', fallDetection('acc-1'))).status).toBe(202);
    const outsider = await post('auth0|member', 'events:write', fallDetection('acc-2'));
    expect(outsider.body).toEqual({ statusCode: 403, error: 'Forbidden', message: 'You are not a member of project acc-2' });
  });

  it("events:write:any (the platform's own pipelines): any existing project", async () => {
    const res = await post('pipeline@clients', 'events:write:any', fallDetection('acc-2'));
    expect(res.status).toBe(202);
    expect((await h.producer.queue.getJob(res.body.eventId))?.data.projectId).toBe('acc-2');
  });

  it('order: scope 403, then body 400, then project 404, then membership 403', async () => {
    // No scope: 403 even for a bad body and an unknown project.
    const noScope = await post('auth0|member', undefined, { projectId: 'acc-nope' });
    expect(noScope.status).toBe(403);
    expect(noScope.body.message).not.toContain('project');
    // A bad body is 400 before the project is looked up.
    const bad = await post('auth0|member', 'events:write', { ...fallDetection('acc-nope'), webhookType: 'SNEEZE' });
    expect(bad.status).toBe(400);
    // A valid event: 404 for an unknown project comes before membership.
    expect((await post('auth0|stranger', 'events:write', fallDetection('acc-nope'))).status).toBe(404);
    expect((await post('auth0|stranger', 'events:write', fallDetection('acc-1'))).status).toBe(403);
  });

  it('nothing is enqueued for a refused event', async () => {
    const before = await h.producer.queue.count();
    await post('auth0|member', 'events:write', fallDetection('acc-2'));
    await post('auth0|member', 'events:write', fallDetection('acc-nope'));
    expect(await h.producer.queue.count()).toBe(before);
  });
});

describe('POST /events while MongoDB is down', () => {
  let mongo: LocalMongo;
  let h: Harness;
  beforeAll(async () => {
    // Its own MongoDB, to stop it without disturbing the other test files.
    mongo = await startMongoJavaServer();
    h = await startHarness({ workers: 0, env: { MONGODB_URL: mongo.url, PROJECT_CACHE_TTL_MS: '200' } });
    await h.createProject('known', ['auth0|member']);
  });
  afterAll(async () => {
    await h.stop();
    await mongo.stop();
  });

  it('a project this API already knows is still served (202); an unknown one is 503, not 404', async () => {
    const token = await h.token('auth0|member', 'events:write');
    const post = (projectId: string) => h.request('POST', '/events', { token, body: fallDetection(projectId) });
    expect((await post('known')).status).toBe(202);

    await mongo.stop();
    await new Promise((resolve) => setTimeout(resolve, 400)); // past PROJECT_CACHE_TTL_MS: the next event asks MongoDB
    for (let i = 0; i < 3; i++) {
      const res = await post('known');
      expect(res.status).toBe(202);
      expect(await h.producer.queue.getJob(res.body.eventId)).toBeDefined();
    }
    const unknown = await post('never-seen');
    expect(unknown).toMatchObject({ status: 503, body: { message: 'Database is unavailable, try again shortly' } });
    expect(unknown.headers.get('retry-after')).toBe('5');
  });
});
