import { Webhook } from 'standardwebhooks';
import { sign } from '@novee/shared';
import { buildDeliveryRequest } from './build-delivery-request';

describe('buildDeliveryRequest', () => {
  const data = { test: 'test' };
  const current = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
  const previous = 'whsec_' + '3f'.repeat(32);
  const request = buildDeliveryRequest({
    url: 'https://hooks.example.com/novee',
    secrets: [current],
    eventId: 'evt-1',
    webhookType: 'TEST',
    data,
    now: 1700000000000,
  });

  it('sends exactly JSON.stringify(data) (compact, no envelope)', () => {
    expect(request.body).toBe('{"test":"test"}');
  });

  it('signs exactly the bytes it sends, over "{X-Timestamp}.{body}"', () => {
    expect(request.headers['X-Timestamp']).toBe('1700000000000');
    expect(request.headers['X-Signature']).toBe(sign(current, '1700000000000', request.body));
    expect(request.headers['Content-Type']).toBe('application/json');
  });

  it('adds the stable event id and type', () => {
    expect(request.headers['X-Event-Id']).toBe('evt-1');
    expect(request.headers['X-Event-Type']).toBe('TEST');
  });

  it('adds Standard Webhooks headers from the same instant: webhook-id = event id, seconds, v1 signature', () => {
    expect(request.headers['webhook-id']).toBe('evt-1');
    expect(request.headers['webhook-timestamp']).toBe('1700000000');
    expect(request.headers['webhook-signature']).toBe(new Webhook(current).sign('evt-1', new Date(1700000000000), request.body));
  });

  it('during a rotation window: X-Signature with the current secret, webhook-signature with both', () => {
    const both = buildDeliveryRequest({
      url: 'https://x',
      secrets: [current, previous],
      eventId: 'evt-1',
      webhookType: 'TEST',
      data,
      now: 1700000000000,
    });
    expect(both.headers['X-Signature']).toBe(request.headers['X-Signature']);
    expect(both.headers['webhook-signature']).toBe(
      `${request.headers['webhook-signature']} ${new Webhook(previous).sign('evt-1', new Date(1700000000000), both.body)}`,
    );
  });

  it('keeps non-ASCII and key order as given', () => {
    const body = buildDeliveryRequest({
      url: 'https://x',
      secrets: ['whsec_dGVzdA=='],
      eventId: 'e',
      webhookType: 'TEST',
      data: { b: 'é', a: 1 },
    }).body;
    expect(body).toBe('{"b":"é","a":1}');
  });
});
