import type { Db } from 'mongodb';
import type { DeliveryRecord } from '../queue/delivery-record';
import type { ProjectDocument, WebhookRegistrationDocument } from '../webhooks/registration';

export const COLLECTIONS = {
  projects: 'projects',
  registrations: 'registrations',
  deliveries: 'deliveries',
} as const;

export const projectsCollection = (db: Db) => db.collection<ProjectDocument>(COLLECTIONS.projects);
export const registrationsCollection = (db: Db) => db.collection<WebhookRegistrationDocument>(COLLECTIONS.registrations);
export const deliveriesCollection = (db: Db) => db.collection<DeliveryRecord>(COLLECTIONS.deliveries);

/**
 * Indexes both processes rely on. The unique index on registrations.projectId is what enforces
 * "exactly one webhook per project", so two concurrent registrations cannot both succeed.
 */
export async function ensureIndexes(db: Db, options: { deliveryRetentionDays?: number } = {}): Promise<void> {
  await registrationsCollection(db).createIndex({ projectId: 1 }, { unique: true, name: 'projectId_unique' });
  await deliveriesCollection(db).createIndex({ projectId: 1, _id: -1 }, { name: 'project_newest' });
  await deliveriesCollection(db).createIndex({ eventId: 1, attempt: 1 }, { name: 'event_attempts' });
  // Delivery records expire after the retention period (MongoDB's TTL monitor deletes them).
  const expireAfterSeconds = Math.round((options.deliveryRetentionDays ?? DEFAULT_DELIVERY_RETENTION_DAYS) * 86_400);
  try {
    await deliveriesCollection(db).createIndex({ createdAt: 1 }, { name: 'retention_ttl', expireAfterSeconds });
  } catch (error) {
    // The retention changed since the index was made: MongoDB changes a TTL in place with collMod.
    if ((error as { code?: number }).code !== INDEX_OPTIONS_CONFLICT) throw error;
    await db.command({ collMod: COLLECTIONS.deliveries, index: { name: 'retention_ttl', expireAfterSeconds } });
  }
}

const INDEX_OPTIONS_CONFLICT = 85;

export const DEFAULT_DELIVERY_RETENTION_DAYS = 30;

/**
 * ensureIndexes once, retried on the next call if it failed (e.g. MongoDB was down at start-up).
 * Writers that rely on an index await it first, so the unique index always exists before a registration.
 */
export function indexBootstrap(db: Db, options: { deliveryRetentionDays?: number } = {}): () => Promise<void> {
  let ready: Promise<void> | undefined;
  return () => {
    ready ??= ensureIndexes(db, options).catch((error: unknown) => {
      ready = undefined;
      throw error;
    });
    return ready;
  };
}
