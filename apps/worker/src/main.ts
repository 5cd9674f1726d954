import { runService } from '@novee/shared';
import { startWorker } from './worker-process';

// SIGTERM: stop taking jobs, let in-flight deliveries finish (see startWorker().stop).
runService('worker', startWorker);
