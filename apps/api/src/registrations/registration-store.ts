import { MongoServerError, type Db, type WithId } from 'mongodb';
import {
  generateWebhookSecret,
  type SecretCipher,
  registrationsCollection,
  type SubscribableType,
  type WebhookRegistrationDocument,
} from '@novee/shared';
import { conflict, notFound } from '../http/http-error';

/** A registration as the API shows it: never with its secret. */
export interface PublicRegistration {
  _id: string;
  projectId: string;
  url: string;
  types: SubscribableType[];
}

const DUPLICATE_KEY = 11000;

function toPublic(doc: WithId<WebhookRegistrationDocument>): PublicRegistration {
  return { _id: doc._id.toHexString(), projectId: doc.projectId, url: doc.url, types: doc.types };
}

/** Where webhook registrations are stored: MongoDB `registrations`, one per project (unique index). */
export class RegistrationStore {
  constructor(
    private readonly db: Db,
    /** Resolves once the unique index on projectId exists: it is what makes "one per project" hold. */
    private readonly indexesReady: () => Promise<void>,
    /** Secrets are stored encrypted (AES-256-GCM) and shown in plaintext only to the caller who created them. */
    private readonly cipher: SecretCipher,
    /** Marks the registration changed, so no worker uses its cached copy again (see registration-version.ts). */
    private readonly announceChange: (projectId: string) => Promise<void>,
  ) {}

  private get collection() {
    return registrationsCollection(this.db);
  }

  /** Insert and return it with its new secret. A second registration for the project hits the unique index: 409. */
  async register(input: { projectId: string; url: string; types: SubscribableType[] }) {
    await this.indexesReady();
    const now = new Date();
    const secret = generateWebhookSecret();
    const doc: WebhookRegistrationDocument = { ...input, secret: this.cipher.encrypt(secret), createdAt: now, updatedAt: now };
    try {
      const { insertedId } = await this.collection.insertOne(doc);
      // The registration stands and its secret must reach the caller even if Redis is down: a worker caches
      // "no registration" for a few seconds only, so it sees the new one soon in any case.
      await this.announceChange(input.projectId).catch(() => undefined);
      return { ...toPublic({ ...doc, _id: insertedId }), secret };
    } catch (error) {
      if (error instanceof MongoServerError && error.code === DUPLICATE_KEY) {
        throw conflict('Webhook has already been registered previously');
      }
      throw error;
    }
  }

  /**
   * A new secret, returned this once. One atomic update: every delivery signed after it (including retries
   * of earlier events) uses the new secret; none is signed with a mix.
   */
  async rotateSecret(projectId: string) {
    const secret = generateWebhookSecret();
    const updated = await this.collection.findOneAndUpdate(
      { projectId },
      { $set: { secret: this.cipher.encrypt(secret), updatedAt: new Date() } },
      { returnDocument: 'after', projection: { secret: 0 } },
    );
    if (!updated) throw notFound(noRegistration(projectId));
    await this.announceChange(projectId);
    return { ...toPublic(updated), secret };
  }

  async update(projectId: string, changes: { url?: string; types?: SubscribableType[] }): Promise<PublicRegistration> {
    const updated = await this.collection.findOneAndUpdate(
      { projectId },
      { $set: { ...changes, updatedAt: new Date() } },
      { returnDocument: 'after', projection: { secret: 0 } },
    );
    if (!updated) throw notFound('Must register webhook before updating it');
    await this.announceChange(projectId);
    return toPublic(updated);
  }

  async get(projectId: string): Promise<PublicRegistration> {
    const doc = await this.collection.findOne({ projectId }, { projection: { secret: 0 } });
    if (!doc) throw notFound(noRegistration(projectId));
    return toPublic(doc);
  }

  async remove(projectId: string): Promise<void> {
    const { deletedCount } = await this.collection.deleteOne({ projectId });
    if (deletedCount === 0) throw notFound(noRegistration(projectId));
    await this.announceChange(projectId);
  }
}

export const noRegistration = (projectId: string) => `No webhook registered for project ${projectId}`;
