import { atEvent } from './event-batch-routes';

describe('atEvent: a single event validation message, named by its index in the batch', () => {
  it('prefixes a field path with events[i]', () => {
    expect(atEvent(3, 'data.triggeredVitals[0].badValue must be of type number')).toBe(
      'events[3].data.triggeredVitals[0].badValue must be of type number',
    );
    expect(atEvent(0, 'projectId is required')).toBe('events[0].projectId is required');
  });
  it('replaces "body" (the whole event) with events[i]', () => {
    expect(atEvent(7, 'body must be of type object')).toBe('events[7] must be of type object');
  });
});
