import { afterEach, describe, expect, it, jest } from '@jest/globals';
import winston from 'winston';
import { CoalescedStdout } from './coalesced-stdout';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('CoalescedStdout', () => {
  afterEach(() => jest.restoreAllMocks());

  it('writes the lines of a few milliseconds to stdout together, one JSON line per entry, in order', async () => {
    const writes: string[] = [];
    jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      writes.push(String(chunk));
      return true;
    });
    const logger = winston.createLogger({ format: winston.format.json(), transports: [new CoalescedStdout()] });
    logger.info('one', { n: 1 });
    logger.info('two', { n: 2 });
    logger.warn('three', { n: 3 });
    expect(writes).toHaveLength(0); // nothing written synchronously: the lines wait for the others
    await sleep(50);
    expect(writes).toHaveLength(1);
    const lines = writes[0]!
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as { message: string; n: number });
    expect(lines.map((l) => [l.message, l.n])).toEqual([
      ['one', 1],
      ['two', 2],
      ['three', 3],
    ]);
  });
});
