import type { Db } from 'mongodb';
import { registrationsCollection, type SecretCipher, type WebhookRegistrationDocument } from '@novee/shared';

/** How the worker finds where (and with which secret, decrypted) to deliver a project's events. */
export class RegistrationLookup {
  constructor(
    private readonly db: Db,
    private readonly cipher: SecretCipher,
  ) {}

  async find(projectId: string): Promise<WebhookRegistrationDocument | null> {
    const registration = await registrationsCollection(this.db).findOne({ projectId }, { projection: { _id: 0 } });
    if (!registration) return null;
    const { previousSecret } = registration;
    return {
      ...registration,
      secret: this.cipher.decrypt(registration.secret),
      // Still signing webhook-signature during a rotation's grace window (expiry checked per delivery).
      ...(previousSecret && { previousSecret: { ...previousSecret, secret: this.cipher.decrypt(previousSecret.secret) } }),
    };
  }
}
