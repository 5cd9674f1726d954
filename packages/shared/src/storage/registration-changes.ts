import type { Redis } from 'ioredis';

/** Redis channel on which the API announces that a project's registration changed (register, PATCH, DELETE, rotate). */
export const registrationChangesChannel = (queuePrefix: string) => `${queuePrefix}:registrations:changed`;

/** Tell every worker to forget its cached copy of this project's registration. */
export async function announceRegistrationChange(redis: Redis, queuePrefix: string, projectId: string): Promise<void> {
  await redis.publish(registrationChangesChannel(queuePrefix), projectId);
}
