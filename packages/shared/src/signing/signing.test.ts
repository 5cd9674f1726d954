import { Webhook } from 'standardwebhooks';
import { generateWebhookSecret, sign, signatureHeaders, standardWebhookHeaders } from './sign-payload';
import { verifyWebhook } from './verify-webhook';

describe('sign', () => {
  it('matches a known HMAC-SHA256 vector over "{timestamp}.{body}"', () => {
    // Computed independently: printf '1700000000000.{"test":"test"}' | openssl dgst -sha256 -hmac whsec_test
    expect(sign('whsec_test', '1700000000000', '{"test":"test"}')).toBe('22937a88521407fd7361dc274e8ccbd84a16f54e346eba937c3093f60f5f80cb');
  });

  it('puts the signing time in X-Timestamp as Unix milliseconds', () => {
    const headers = signatureHeaders('whsec_test', '{"test":"test"}', 1700000000000);
    expect(headers).toEqual({
      'X-Timestamp': '1700000000000',
      'X-Signature': '22937a88521407fd7361dc274e8ccbd84a16f54e346eba937c3093f60f5f80cb',
    });
  });
});

describe('generateWebhookSecret', () => {
  it('is whsec_ followed by 32 random bytes in base64 (the Standard Webhooks form), different every time', () => {
    const a = generateWebhookSecret();
    expect(a).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(Buffer.from(a.slice('whsec_'.length), 'base64')).toHaveLength(32);
    expect(generateWebhookSecret()).not.toBe(a);
  });
});

describe('standardWebhookHeaders', () => {
  const body = '{"firstName":"José"}';
  const now = 1_700_000_000_999;

  it('webhook-id is the event id, webhook-timestamp Unix seconds, one v1 signature per secret', () => {
    const current = generateWebhookSecret();
    const previous = 'whsec_' + 'ab'.repeat(32);
    const headers = standardWebhookHeaders('evt-1', [current, previous], body, now);
    expect(headers['webhook-id']).toBe('evt-1');
    expect(headers['webhook-timestamp']).toBe('1700000000');
    const signatures = headers['webhook-signature']!.split(' ');
    expect(signatures).toHaveLength(2);
    expect(signatures[0]).toBe(new Webhook(current).sign('evt-1', new Date(now), body));
    expect(signatures[1]).toBe(new Webhook(previous).sign('evt-1', new Date(now), body));
  });
});

describe('verifyWebhook', () => {
  const secret = 'whsec_0123';
  const body = '{"userUUID":"u","reasons":["impact"]}';
  const now = 1_700_000_000_000;
  const headers = signatureHeaders(secret, body, now);

  it('accepts a genuine delivery (plain object headers, any case, or a Headers instance)', () => {
    expect(verifyWebhook(body, headers, secret, { now })).toBe(true);
    expect(
      verifyWebhook(Buffer.from(body), { 'x-timestamp': headers['X-Timestamp'], 'x-signature': headers['X-Signature'] }, secret, { now }),
    ).toBe(true);
    expect(verifyWebhook(body, new Headers(headers), secret, { now })).toBe(true);
  });

  it('rejects a changed body, a wrong secret, or a forged signature', () => {
    expect(verifyWebhook(body.replace('impact', 'none'), headers, secret, { now })).toBe(false);
    expect(verifyWebhook(body, headers, 'whsec_other', { now })).toBe(false);
    expect(verifyWebhook(body, { ...headers, 'X-Signature': '0'.repeat(64) }, secret, { now })).toBe(false);
    expect(verifyWebhook(body, { ...headers, 'X-Signature': 'not-hex' }, secret, { now })).toBe(false);
  });

  it('rejects a timestamp outside the tolerance (default 5 minutes), either way', () => {
    expect(verifyWebhook(body, headers, secret, { now: now + 5 * 60_000 })).toBe(true);
    expect(verifyWebhook(body, headers, secret, { now: now + 5 * 60_000 + 1 })).toBe(false);
    expect(verifyWebhook(body, headers, secret, { now: now - 5 * 60_000 - 1 })).toBe(false);
    expect(verifyWebhook(body, headers, secret, { now: now + 60_000, toleranceMs: 1_000 })).toBe(false);
  });

  it('rejects missing headers', () => {
    expect(verifyWebhook(body, {}, secret, { now })).toBe(false);
    expect(verifyWebhook(body, { 'X-Timestamp': headers['X-Timestamp'] }, secret, { now })).toBe(false);
  });

  it('leaves out a secret that is not base64 (none that we issue), and the headers altogether if none is left', () => {
    const current = generateWebhookSecret();
    expect(standardWebhookHeaders('evt-1', [current, 'whsec_legacy'], body, now)['webhook-signature']!.split(' ')).toHaveLength(1);
    expect(standardWebhookHeaders('evt-1', ['whsec_legacy'], body, now)).toEqual({});
  });
});
