import type { Db } from 'mongodb';
import { registrationsCollection, type WebhookRegistrationDocument } from '@novee/shared';

/** How the worker finds where (and with which secret) to deliver a project's events. */
export class RegistrationLookup {
  constructor(private readonly db: Db) {}

  find(projectId: string): Promise<WebhookRegistrationDocument | null> {
    return registrationsCollection(this.db).findOne({ projectId }, { projection: { _id: 0 } });
  }
}
