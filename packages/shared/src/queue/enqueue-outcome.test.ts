import { ReplyError } from 'ioredis';
import { EnqueueOutcomeUnknownError, QueueUnavailableError, addAllConfirmed } from './enqueue-outcome';

const ids = ['e1', 'e2', 'e3'];
const soon = () => Date.now() + 1_000;

describe('addAllConfirmed: each job of a pipelined add known added, known not added, or unknown', () => {
  it('all added when the pipeline succeeds', async () => {
    expect(
      await addAllConfirmed(
        () => Promise.resolve(),
        () => Promise.reject(new Error('not asked')),
        ids,
        soon(),
      ),
    ).toEqual(['added', 'added', 'added']);
  });

  it('never sent (the connection was not writable): every job known not added, nothing asked', async () => {
    const exists = jest.fn(() => Promise.resolve([true, true, true]));
    const outcomes = await addAllConfirmed(
      () => Promise.reject(new Error("Stream isn't writeable and enableOfflineQueue options is false")),
      exists,
      ids,
      soon(),
    );
    expect(outcomes.every((outcome) => outcome instanceof QueueUnavailableError)).toBe(true);
    expect(exists).not.toHaveBeenCalled();
  });

  it('one job refused by Redis (an error reply in the pipeline): the others may be in; each is asked', async () => {
    const outcomes = await addAllConfirmed(
      () => Promise.reject(new (ReplyError as new (message: string) => Error)('OOM command not allowed')),
      () => Promise.resolve([true, false, true]),
      ids,
      soon(),
    );
    expect(outcomes[0]).toBe('added');
    expect(outcomes[1]).toBeInstanceOf(QueueUnavailableError);
    expect(outcomes[2]).toBe('added');
  });

  it('the connection lost in flight: asked again once Redis answers', async () => {
    let calls = 0;
    const exists = () => (++calls < 3 ? Promise.reject(new Error('Connection is closed.')) : Promise.resolve([false, true, false]));
    const outcomes = await addAllConfirmed(() => Promise.reject(new Error('Connection is closed.')), exists, ids, Date.now() + 2_000);
    expect(outcomes.map((outcome) => (outcome === 'added' ? 'added' : outcome.name))).toEqual([
      'QueueUnavailableError',
      'added',
      'QueueUnavailableError',
    ]);
  });

  it('no answer by the deadline: every job unknown, and a late confirmation is reported', async () => {
    let confirm!: () => void;
    const late = jest.fn();
    const outcomes = await addAllConfirmed(
      () => new Promise<void>((resolve) => (confirm = resolve)),
      () => Promise.resolve([]),
      ids,
      Date.now() + 50,
      late,
    );
    expect(outcomes.every((outcome) => outcome instanceof EnqueueOutcomeUnknownError)).toBe(true);
    confirm();
    await new Promise((resolve) => setImmediate(resolve));
    expect(late).toHaveBeenCalledTimes(1);
  });
});
