import { describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import winston from 'winston';
import { CoalescedStdout } from './coalesced-stdout';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('CoalescedStdout', () => {
  it('writes the lines of a few milliseconds to stdout together, one JSON line per entry, in order', async () => {
    const writes: string[] = [];
    // 200 ms instead of 10, so that a busy machine cannot split the three lines over two writes.
    const transport = new CoalescedStdout((text) => writes.push(text), 200);
    const logger = winston.createLogger({ format: winston.format.json(), transports: [transport] });
    logger.info('one', { n: 1 });
    logger.info('two', { n: 2 });
    logger.warn('three', { n: 3 });
    expect(writes).toHaveLength(0); // nothing written synchronously: the lines wait for the others
    await sleep(400);
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

  it('writes the lines still waiting when the process exits', () => {
    // A real process (its console has _stdout): it logs and exits at once, before the 10 ms flush.
    const logger = join(__dirname, '..', '..', 'dist', 'logging', 'logger.js');
    const script = `const l = require(${JSON.stringify(logger)}).createLogger('t'); l.info('first'); l.warn('last'); process.exit(0);`;
    const out = execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' });
    expect(
      out
        .trimEnd()
        .split('\n')
        .map((line) => (JSON.parse(line) as { message: string }).message),
    ).toEqual(['first', 'last']);
  });
});
