import { PROJECT_ID_SCHEMA } from '../events/event-schemas';
import { SUBSCRIBABLE_TYPES } from '../events/event-types';

const urlSchema = { type: 'string', format: 'uri', maxLength: 2048 } as const;
const typesSchema = {
  type: 'array',
  minItems: 1,
  uniqueItems: true,
  items: { type: 'string', enum: [...SUBSCRIBABLE_TYPES] },
} as const;

/** Body of POST /webhooks/register. */
export const registerWebhookSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['projectId', 'url', 'types'],
  properties: { projectId: PROJECT_ID_SCHEMA, url: urlSchema, types: typesSchema },
} as const;

/** Body of PATCH /webhooks. */
export const updateWebhookSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['projectId'],
  properties: {
    projectId: PROJECT_ID_SCHEMA,
    url: urlSchema,
    types: typesSchema,
    enabled: { type: 'boolean', description: 'true re-enables a disabled endpoint (and clears failingSince); false disables it' },
  },
} as const;
