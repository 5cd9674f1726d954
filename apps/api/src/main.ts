import { runService } from '@novee/shared';
import { startApi } from './api-process';

runService('api', startApi);
