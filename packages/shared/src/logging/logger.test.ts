import { Writable } from 'node:stream';
import winston from 'winston';
import { createLogger } from './logger';

function captureLines(logger: winston.Logger): string[] {
  const lines: string[] = [];
  logger.clear().add(
    new winston.transports.Stream({
      stream: new Writable({
        write(chunk: Buffer, _encoding, done) {
          lines.push(chunk.toString());
          done();
        },
      }),
    }),
  );
  return lines;
}

describe('createLogger', () => {
  it('writes one JSON object per line with service and timestamp', () => {
    const logger = createLogger('worker');
    const lines = captureLines(logger);
    logger.info('delivery attempt', { eventId: 'e1', statusCode: 200 });
    const entry = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(entry).toMatchObject({ level: 'info', message: 'delivery attempt', service: 'worker', eventId: 'e1', statusCode: 200 });
    expect(entry.timestamp).toEqual(expect.any(String));
  });

  it('never writes secrets or tokens, wherever they sit in the metadata', () => {
    const logger = createLogger('api');
    const lines = captureLines(logger);
    logger.warn('oops', {
      secret: 'whsec_abc',
      registration: { url: 'https://x', secret: 'whsec_def' },
      headers: { authorization: 'Bearer eyJ.token' },
      accessToken: 'eyJ.other',
    });
    const text = lines.join('');
    expect(text).not.toMatch(/whsec_|eyJ/);
    expect(JSON.parse(text)).toMatchObject({ secret: '[redacted]', registration: { url: 'https://x', secret: '[redacted]' } });
  });
});
