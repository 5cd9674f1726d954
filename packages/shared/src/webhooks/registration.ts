import type { SubscribableType } from '../events/event-types';

/** A stored webhook registration (collection `registrations`, one per project). */
export interface WebhookRegistrationDocument {
  projectId: string;
  url: string;
  types: SubscribableType[];
  /** The signing secret, `whsec_` + 32 random bytes as hex. Never returned except on register. */
  secret: string;
  createdAt: Date;
  updatedAt: Date;
}

/** A project and who may manage its webhook (collection `projects`). */
export interface ProjectDocument {
  _id: string;
  name?: string;
  /** Token `sub`s of the project's members. */
  members: string[];
}
