import { deliveriesCollection, registrationsCollection, type DeliveryRecord } from '@novee/shared';
import { eventually, startHarness, type Harness } from './support/harness';
import { fallDetection } from './support/fixtures';

describe('SSRF guard at registration', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ workers: 0 }); // loopback allowed (dev/test setting), nothing else private
    await h.createProject('ssrf', ['auth0|member']);
  });
  afterAll(() => h.stop());

  it.each([
    'https://10.0.0.1/hook',
    'https://172.16.5.4/hook',
    'https://192.168.1.1/hook',
    'https://169.254.169.254/latest/meta-data/',
    'https://[fd00:ec2::254]/',
    'https://[::ffff:10.0.0.1]/',
    'http://10.0.0.1/hook',
  ])('refuses %s with 400', async (url) => {
    const token = await h.token('auth0|member');
    const res = await h.request('POST', '/webhooks/register', { token, body: { projectId: 'ssrf', url, types: ['FALL_DETECTION'] } });
    expect(res.status).toBe(400);
    expect(res.body.message).toMatch(/^url must (point to a public address|use https)/);
    const patch = await h.request('PATCH', '/webhooks', { token, body: { projectId: 'ssrf', url } });
    expect(patch.status).toBe(400);
  });
});

describe('SSRF guard at delivery (checks the address connected to)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ workers: 1, env: { WEBHOOK_ALLOW_HTTP_LOOPBACK: 'false', RETRY_SCHEDULE: 'none' } });
  });
  afterAll(() => h.stop());

  // Registrations written before the guard existed, or whose DNS changed since: stored directly.
  async function storedRegistration(projectId: string, url: string) {
    const now = new Date();
    await registrationsCollection(h.db).insertOne({
      projectId,
      url,
      types: ['FALL_DETECTION'],
      secret: 'whsec_legacy',
      createdAt: now,
      updatedAt: now,
    });
  }
  const failure = (eventId: string) =>
    eventually(() => deliveriesCollection(h.db).findOne({ eventId, status: 'failed' })) as Promise<DeliveryRecord>;

  it('refuses a hostname that resolves to loopback (DNS checked at connect time)', async () => {
    const port = new URL(h.receiver.baseUrl).port;
    await storedRegistration('rebound', `https://localhost:${port}/hook`);
    const { eventId } = await h.producer.enqueue(fallDetection('rebound'));
    expect((await failure(eventId)).error).toMatch(
      /^EBLOCKEDADDRESS: blocked: localhost resolves to (127\.0\.0\.1|::1) is a loopback address/,
    );
    expect(h.receiver.received).toHaveLength(0);
  });

  it('refuses IP-literal private and metadata targets without connecting', async () => {
    await storedRegistration('literal', 'https://169.254.169.254/latest/meta-data/');
    const { eventId } = await h.producer.enqueue(fallDetection('literal'));
    const record = await failure(eventId);
    expect(record.error).toBe('blocked: url must point to a public address (169.254.169.254 is a linkLocal address)');
    expect(record.durationMs).toBe(0);
  });
});
