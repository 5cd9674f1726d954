import { createLogger, loadConfig } from '@novee/shared';
import { startApi } from './api-process';

const logger = createLogger('api');

async function main(): Promise<void> {
  const api = await startApi(loadConfig());
  const shutdown = (signal: string) => {
    logger.info('shutting down', { signal });
    api.stop().then(
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
  logger.error('api failed to start', { error });
  process.exit(1);
});
