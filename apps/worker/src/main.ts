import { createLogger, loadConfig } from '@novee/shared';
import { startWorker } from './worker-process';

const logger = createLogger('worker');

async function main(): Promise<void> {
  const running = await startWorker(loadConfig());
  const shutdown = (signal: string) => {
    logger.info('shutting down: finishing in-flight deliveries', { signal });
    running.stop().then(
      () => process.exit(0),
      (error) => {
        logger.error('shutdown failed', { error });
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}

main().catch((error) => {
  logger.error('worker failed to start', { error });
  process.exit(1);
});
