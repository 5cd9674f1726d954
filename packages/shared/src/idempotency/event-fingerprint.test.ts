import { eventFingerprint } from './event-fingerprint';

describe('eventFingerprint', () => {
  const event = { projectId: 'p1', userUUID: 'u1', webhookType: 'FALL_DETECTION', data: { reasons: ['a', 'b'], email: 'e@example.com' } };

  it('is the same for the same event whatever the key order', () => {
    const reordered = {
      data: { email: 'e@example.com', reasons: ['a', 'b'] },
      webhookType: 'FALL_DETECTION',
      userUUID: 'u1',
      projectId: 'p1',
    };
    expect(eventFingerprint(reordered)).toBe(eventFingerprint(event));
  });

  it('differs when any value, array order or project differs', () => {
    const base = eventFingerprint(event);
    expect(eventFingerprint({ ...event, projectId: 'p2' })).not.toBe(base);
    expect(eventFingerprint({ ...event, data: { ...event.data, reasons: ['b', 'a'] } })).not.toBe(base);
    expect(eventFingerprint({ ...event, data: { ...event.data, email: 'x@example.com' } })).not.toBe(base);
    // A string that looks like a nested value is not the value.
    expect(eventFingerprint({ a: '{"b":1}' })).not.toBe(eventFingerprint({ a: { b: 1 } }));
  });
});
