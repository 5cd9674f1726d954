import { MongoServerError, type Db, type WithId } from 'mongodb';
import {
  generateWebhookSecret,
  type EndpointStatus,
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
  /** Additive: `disabled` endpoints are sent nothing (see README, Endpoint health). */
  status: EndpointStatus;
  disabledReason: string | null;
  /** Since when every attempt has failed (ISO 8601); null while healthy. */
  failingSince: string | null;
}

/** Why an endpoint a member disabled (PATCH enabled: false) is disabled. */
export const DISABLED_BY_MEMBER = 'disabled by a project member';

const DUPLICATE_KEY = 11000;

function toPublic(doc: WithId<WebhookRegistrationDocument>): PublicRegistration {
  return {
    _id: doc._id.toHexString(),
    projectId: doc.projectId,
    url: doc.url,
    types: doc.types,
    status: doc.status ?? 'enabled',
    disabledReason: doc.status === 'disabled' ? (doc.disabledReason ?? null) : null,
    failingSince: doc.failingSince?.toISOString() ?? null,
  };
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
    /** After a rotation, how long the previous secret keeps signing webhook-signature (0 = not at all). */
    private readonly secretRotationGraceMs: number,
  ) {}

  private get collection() {
    return registrationsCollection(this.db);
  }

  /** Insert and return it with its new secret. A second registration for the project hits the unique index: 409. */
  async register(input: { projectId: string; url: string; types: SubscribableType[] }) {
    await this.indexesReady();
    const now = new Date();
    const secret = generateWebhookSecret();
    const doc: WebhookRegistrationDocument = {
      ...input,
      secret: this.cipher.encrypt(secret),
      status: 'enabled',
      enabledAt: now,
      createdAt: now,
      updatedAt: now,
    };
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
   * A new secret, returned this once, with `expiresAt`: until then the replaced secret still signs
   * webhook-signature next to the new one (X-Signature uses the new one at once), so a receiver moves over with
   * no failed attempt. Rotating again inside the window retires the oldest secret at once (one previous kept).
   * The swap is a compare-and-set on the stored secret, so two concurrent rotations cannot lose a secret.
   */
  async rotateSecret(projectId: string) {
    const secret = generateWebhookSecret();
    for (let attempt = 0; attempt < 5; attempt++) {
      const current = await this.collection.findOne({ projectId }, { projection: { secret: 1 } });
      if (!current) throw notFound(noRegistration(projectId));
      const now = new Date();
      const expiresAt = new Date(now.getTime() + this.secretRotationGraceMs);
      const keepPrevious = this.secretRotationGraceMs > 0;
      const updated = await this.collection.findOneAndUpdate(
        { projectId, secret: current.secret },
        {
          $set: {
            secret: this.cipher.encrypt(secret),
            updatedAt: now,
            ...(keepPrevious && { previousSecret: { secret: current.secret, expiresAt } }),
          },
          ...(!keepPrevious && { $unset: { previousSecret: '' as const } }),
        },
        { returnDocument: 'after', projection: { secret: 0, previousSecret: 0 } },
      );
      if (updated) {
        await this.announceChange(projectId);
        return { ...toPublic(updated), secret, expiresAt: expiresAt.toISOString() };
      }
      // Rotated (or deleted) by someone else between the read and the write: read again.
    }
    throw conflict('The secret was rotated concurrently; try again');
  }

  /** End a rotation's grace window now: from the next attempt on, only the current secret signs. */
  async endPreviousSecret(projectId: string): Promise<void> {
    const { matchedCount } = await this.collection.updateOne(
      { projectId },
      { $unset: { previousSecret: '' }, $set: { updatedAt: new Date() } },
    );
    if (matchedCount === 0) throw notFound(noRegistration(projectId));
    await this.announceChange(projectId);
  }

  /**
   * `enabled: true` re-enables the endpoint and clears failingSince; a new URL (or re-enabling) starts a new
   * failure streak (`enabledAt`: the worker's streak is keyed by it). `enabled: false` disables it.
   */
  async update(projectId: string, changes: { url?: string; types?: SubscribableType[]; enabled?: boolean }): Promise<PublicRegistration> {
    const { enabled, ...fields } = changes;
    const now = new Date();
    const freshStreak = enabled === true || fields.url !== undefined;
    const $set: Partial<WebhookRegistrationDocument> = { ...fields, updatedAt: now, ...(freshStreak && { enabledAt: now }) };
    const $unset: Record<string, ''> = freshStreak ? { failingSince: '' } : {};
    if (enabled === true) {
      $set.status = 'enabled';
      Object.assign($unset, { disabledReason: '', disabledAt: '' });
    } else if (enabled === false) {
      Object.assign($set, { status: 'disabled', disabledReason: DISABLED_BY_MEMBER, disabledAt: now });
    }
    const updated = await this.collection.findOneAndUpdate(
      { projectId },
      { $set, ...(Object.keys($unset).length > 0 && { $unset }) },
      { returnDocument: 'after', projection: { secret: 0, previousSecret: 0 } },
    );
    if (!updated) throw notFound('Must register webhook before updating it');
    await this.announceChange(projectId);
    return toPublic(updated);
  }

  async get(projectId: string): Promise<PublicRegistration> {
    const doc = await this.collection.findOne({ projectId }, { projection: { secret: 0, previousSecret: 0 } });
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
