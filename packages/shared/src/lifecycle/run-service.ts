import { loadConfig, type Config } from '../config/config';
import { createLogger } from '../logging/logger';

/**
 * The main() of a process: load config, start, and on SIGTERM/SIGINT stop gracefully, exiting 0 when the
 * stop finished and 1 when it failed. A start-up failure (bad config, say) exits 1 with the reason logged.
 */
export function runService(service: string, start: (config: Config) => Promise<{ stop(): Promise<void> }>): void {
  const logger = createLogger(service);
  const main = async () => {
    const running = await start(loadConfig());
    const shutdown = (signal: string) => {
      logger.info('shutting down', { signal });
      running.stop().then(
        () => process.exit(0),
        (error: unknown) => {
          logger.error('shutdown failed', { error });
          process.exit(1);
        },
      );
    };
    process.once('SIGTERM', () => shutdown('SIGTERM'));
    process.once('SIGINT', () => shutdown('SIGINT'));
  };
  main().catch((error: unknown) => {
    logger.error(`${service} failed to start`, { error });
    process.exit(1);
  });
}
