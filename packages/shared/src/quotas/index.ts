export * from './queued-events-quota';
