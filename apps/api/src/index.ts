export { createApp, type AppDeps } from './app';
export { startApi, type RunningApi } from './api-process';
