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
    'https://hooks.example.com:22/', // a public host's SSH port
    'https://hooks.example.com:6379/'.replace('6379', '25'), // SMTP
    'https://[::7f00:1]/', // IPv4-compatible ::127.0.0.1
    'https://[::a9fe:a9fe]/', // IPv4-compatible metadata address
    'https://[64:ff9b::a9fe:a9fe]/', // NAT64 of the metadata address
    'https://[2002:a00:1::]/', // 6to4 of 10.0.0.1
    'https://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/', // Teredo
  ])('refuses %s with 400', async (url) => {
    const token = await h.token('auth0|member');
    const res = await h.request('POST', '/webhooks/register', { token, body: { projectId: 'ssrf', url, types: ['FALL_DETECTION'] } });
    expect(res.status).toBe(400);
    expect(res.body.message).toMatch(/^url (must (point to a public address|use https)|port \d+ is not allowed)/);
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

  it('refuses a port outside the allow-list without connecting', async () => {
    await storedRegistration('port22', 'https://93.184.216.34:22/hook');
    const { eventId } = await h.producer.enqueue(fallDetection('port22'));
    const record = await failure(eventId);
    expect(record.error).toBe('blocked: url port 22 is not allowed (allowed: 443,1024-65535)');
    expect(record.durationMs).toBe(0);
  });

  it('refuses an IPv4-compatible IPv6 literal without connecting', async () => {
    await storedRegistration('compat', 'https://[::7f00:1]/hook');
    const { eventId } = await h.producer.enqueue(fallDetection('compat'));
    expect((await failure(eventId)).error).toBe('blocked: url must point to a public address (::7f00:1 is a ipv4Compatible address)');
  });

  it('refuses IP-literal private and metadata targets without connecting', async () => {
    await storedRegistration('literal', 'https://169.254.169.254/latest/meta-data/');
    const { eventId } = await h.producer.enqueue(fallDetection('literal'));
    const record = await failure(eventId);
    expect(record.error).toBe('blocked: url must point to a public address (169.254.169.254 is a linkLocal address)');
    expect(record.durationMs).toBe(0);
  });
});
