import { sign } from '@novee/shared';
import { buildDeliveryRequest } from './build-delivery-request';

describe('buildDeliveryRequest', () => {
  const data = { test: 'test' };
  const request = buildDeliveryRequest({
    url: 'https://hooks.example.com/novee',
    secret: 'whsec_test',
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
    expect(request.headers['X-Signature']).toBe(sign('whsec_test', '1700000000000', request.body));
    expect(request.headers['Content-Type']).toBe('application/json');
  });

  it('adds the stable event id and type', () => {
    expect(request.headers['X-Event-Id']).toBe('evt-1');
    expect(request.headers['X-Event-Type']).toBe('TEST');
  });

  it('keeps non-ASCII and key order as given', () => {
    const body = buildDeliveryRequest({ url: 'https://x', secret: 's', eventId: 'e', webhookType: 'TEST', data: { b: 'é', a: 1 } }).body;
    expect(body).toBe('{"b":"é","a":1}');
  });
});
