export * from './child-process';
export * from './redis-server';
export * from './mongo-java-server';
export * from './local-services-setup';
export * from './token-issuer';
export * from './webhook-receiver';
export * from './local-stack';
