import { Webhook } from 'standardwebhooks';
import {
  InvalidHeaderError,
  MissingHeaderError,
  NoMatchingSignatureError,
  StaleTimestampError,
  WebhookVerificationError,
  signStandardWebhook,
  signXSignature,
  standardWebhooksKey,
  verify,
} from './index';

const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const legacyHexSecret = 'whsec_' + '3f1c0b6a9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c8b7a6f5e4d3c2b';
const body = '{"firstName":"José","lastName":"李雷 🙂","badValue":0.00001}';
const nowMs = 1_700_000_000_000;
const seconds = String(nowMs / 1000);

function standardHeaders(signWith: string[], id = 'evt-1', timestamp = seconds) {
  return {
    'webhook-id': id,
    'webhook-timestamp': timestamp,
    'webhook-signature': signWith.map((s) => signStandardWebhook(s, id, timestamp, body)).join(' '),
  };
}

describe('signatures', () => {
  it('matches the Standard Webhooks reference vector', () => {
    expect(signStandardWebhook(secret, 'msg_p5jXN8AQM9LWM0D4loKWxJek', '1614265330', '{"test": 2432232314}')).toBe(
      'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
    );
  });

  it('matches the official standardwebhooks library, for a base64 secret and for a legacy hex secret', () => {
    for (const s of [secret, legacyHexSecret]) {
      const official = new Webhook(s).sign('evt-1', new Date(nowMs), body);
      expect(signStandardWebhook(s, 'evt-1', seconds, body)).toBe(official);
    }
    // A legacy hex secret's 64 digits are base64 text: 48 key bytes.
    expect(standardWebhooksKey(legacyHexSecret)).toHaveLength(48);
  });

  it('signs X-Signature with the whole secret string over "{ms}.{body}" (a known vector)', () => {
    expect(signXSignature('whsec_test', '1700000000000', '{"test":"test"}')).toBe(
      '22937a88521407fd7361dc274e8ccbd84a16f54e346eba937c3093f60f5f80cb',
    );
    expect(signXSignature('whsec_test', '1', Buffer.from(body))).toBe(signXSignature('whsec_test', '1', body));
  });

  it('refuses a secret that is not base64 for Standard Webhooks', () => {
    expect(() => standardWebhooksKey('whsec_not base64!')).toThrow(TypeError);
    expect(() => standardWebhooksKey('whsec_')).toThrow(TypeError);
  });
});

describe('verify: Standard Webhooks', () => {
  it('accepts a genuine request (string or bytes body, any header casing, Headers instance) and says what matched', () => {
    const headers = standardHeaders([secret]);
    expect(verify(body, headers, [secret], { now: nowMs })).toEqual({
      scheme: 'standard-webhooks',
      id: 'evt-1',
      timestamp: new Date(nowMs),
      secretIndex: 0,
    });
    expect(
      verify(
        Buffer.from(body),
        { 'Webhook-Id': 'evt-1', 'WEBHOOK-TIMESTAMP': seconds, 'webhook-signature': headers['webhook-signature'] },
        secret,
        { now: nowMs },
      ).id,
    ).toBe('evt-1');
    expect(verify(body, new Headers(headers), [secret], { now: nowMs }).scheme).toBe('standard-webhooks');
  });

  it('accepts any of several signatures, with any of several secrets (rotation)', () => {
    const newer = 'whsec_' + Buffer.alloc(32, 7).toString('base64');
    const headers = standardHeaders([newer, legacyHexSecret]);
    expect(verify(body, headers, [legacyHexSecret], { now: nowMs }).secretIndex).toBe(0);
    expect(verify(body, headers, ['whsec_AAAA', newer], { now: nowMs }).secretIndex).toBe(1);
    expect(() => verify(body, standardHeaders([newer]), [legacyHexSecret], { now: nowMs })).toThrow(NoMatchingSignatureError);
  });

  it('refuses an altered body, id or timestamp with NoMatchingSignatureError', () => {
    const headers = standardHeaders([secret]);
    expect(() => verify(body.replace('José', 'Jose'), headers, [secret], { now: nowMs })).toThrow(NoMatchingSignatureError);
    expect(() => verify(body, { ...headers, 'webhook-id': 'evt-2' }, [secret], { now: nowMs })).toThrow(NoMatchingSignatureError);
    expect(() => verify(body, { ...headers, 'webhook-timestamp': String(Number(seconds) + 1) }, [secret], { now: nowMs })).toThrow(
      NoMatchingSignatureError,
    );
    expect(() => verify(body, { ...headers, 'webhook-signature': 'v2,abc' }, [secret], { now: nowMs })).toThrow('no v1 signature');
  });

  it('refuses a timestamp more than 5 minutes away, either way, with StaleTimestampError', () => {
    const headers = standardHeaders([secret]);
    expect(verify(body, headers, [secret], { now: nowMs + 300_000 }).scheme).toBe('standard-webhooks');
    const late = (() => {
      try {
        verify(body, headers, [secret], { now: nowMs + 301_000 });
      } catch (e) {
        return e;
      }
    })();
    expect(late).toBeInstanceOf(StaleTimestampError);
    expect(late).toMatchObject({ reason: 'stale_timestamp', message: 'timestamp is 301 s old; tolerance is 300 s' });
    expect(() => verify(body, headers, [secret], { now: nowMs - 301_000 })).toThrow('in the future');
    expect(() => verify(body, headers, [secret], { now: nowMs + 2_000, toleranceMs: 1_000 })).toThrow(StaleTimestampError);
  });

  it('names a missing or malformed header', () => {
    const headers = standardHeaders([secret]);
    const { 'webhook-id': _id, ...noId } = headers;
    expect(() => verify(body, noId, [secret], { now: nowMs })).toThrow(new MissingHeaderError('webhook-id'));
    expect(() => verify(body, {}, [secret], { now: nowMs })).toThrow('missing webhook-signature (or X-Signature) header');
    expect(() => verify(body, { ...headers, 'webhook-timestamp': '17e8' }, [secret], { now: nowMs })).toThrow(InvalidHeaderError);
  });
});

describe('verify: X-Signature', () => {
  const timestamp = String(nowMs);
  const headers = { 'X-Timestamp': timestamp, 'X-Signature': signXSignature(secret, timestamp, body), 'X-Event-Id': 'evt-1' };

  it('is used when there is no webhook-signature, or when asked for', () => {
    expect(verify(body, headers, [secret], { now: nowMs })).toEqual({
      scheme: 'x-signature',
      id: 'evt-1',
      timestamp: new Date(nowMs),
      secretIndex: 0,
    });
    const both = { ...headers, ...standardHeaders([secret]) };
    expect(verify(body, both, [secret], { now: nowMs }).scheme).toBe('standard-webhooks');
    expect(verify(body, both, [secret], { now: nowMs, scheme: 'x-signature' }).scheme).toBe('x-signature');
    expect(() => verify(body, headers, [secret], { now: nowMs, scheme: 'standard-webhooks' })).toThrow(MissingHeaderError);
  });

  it('refuses a wrong secret, an altered body, a stale or malformed timestamp', () => {
    expect(() => verify(body, headers, ['whsec_other'], { now: nowMs })).toThrow(NoMatchingSignatureError);
    expect(() => verify(body + ' ', headers, [secret], { now: nowMs })).toThrow(NoMatchingSignatureError);
    expect(() => verify(body, headers, [secret], { now: nowMs + 300_001 })).toThrow(StaleTimestampError);
    expect(() => verify(body, { ...headers, 'X-Timestamp': 'soon' }, [secret], { now: nowMs })).toThrow(InvalidHeaderError);
    expect(() => verify(body, { ...headers, 'X-Signature': 'not-hex' }, [secret], { now: nowMs })).toThrow(InvalidHeaderError);
  });

  it('every failure is a WebhookVerificationError with a reason; no secrets is a programming error', () => {
    expect.assertions(3);
    try {
      verify(body, headers, ['whsec_other'], { now: nowMs });
    } catch (error) {
      expect(error).toBeInstanceOf(WebhookVerificationError);
      expect((error as WebhookVerificationError).reason).toBe('no_matching_signature');
    }
    expect(() => verify(body, headers, [], { now: nowMs })).toThrow(TypeError);
  });
});
