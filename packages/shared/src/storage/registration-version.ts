import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';

/**
 * A registration's version: a random token in Redis that the API replaces after every change (register, PATCH,
 * DELETE, rotate) and before it answers. Workers read it on every delivery and use their cached copy only while
 * it is unchanged, so no attempt starts with an old URL or secret once the change was answered, even if a
 * worker missed every notification. A random token (not a counter) stays correct if Redis loses the key.
 */
export const registrationVersionKey = (queuePrefix: string, projectId: string) => `${queuePrefix}:registration:{${projectId}}:version`;

export async function markRegistrationChanged(redis: Redis, queuePrefix: string, projectId: string): Promise<void> {
  await redis.set(registrationVersionKey(queuePrefix, projectId), randomUUID());
}

/** null: never changed since versions were introduced (any later change sets one). */
export async function readRegistrationVersion(redis: Redis, queuePrefix: string, projectId: string): Promise<string | null> {
  return redis.get(registrationVersionKey(queuePrefix, projectId));
}
