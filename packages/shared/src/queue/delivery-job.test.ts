import { deliveryJobOptions, PRIORITY_BY_TYPE, bulkPriority } from './delivery-job';

describe('deliveryJobOptions', () => {
  const schedule = [5_000, 300_000];

  it('keeps finished jobs (the payload redelivery needs) by age only, so load cannot shorten the promised windows', () => {
    const options = deliveryJobOptions('e1', 'FALL_DETECTION', schedule);
    expect(options.removeOnComplete).toEqual({ age: 24 * 60 * 60 });
    expect(options.removeOnFail).toEqual({ age: 7 * 24 * 60 * 60 });
  });

  it('retries on the schedule, except TEST (one attempt); falls first; the bulk lane behind the normal one', () => {
    expect(deliveryJobOptions('e1', 'VITAL_THRESHOLD', schedule)).toMatchObject({ jobId: 'e1', attempts: 3, priority: 2 });
    expect(deliveryJobOptions('e1', 'TEST', schedule).attempts).toBe(1);
    expect(deliveryJobOptions('e1', 'FALL_DETECTION', schedule, 'bulk').priority).toBe(bulkPriority('FALL_DETECTION'));
    expect(PRIORITY_BY_TYPE.FALL_DETECTION).toBeLessThan(PRIORITY_BY_TYPE.VITAL_THRESHOLD);
    expect(bulkPriority('FALL_DETECTION')).toBeGreaterThan(PRIORITY_BY_TYPE.VITAL_THRESHOLD);
  });
});
