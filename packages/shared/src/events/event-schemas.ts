import { SAFE_TEXT_PATTERN } from '../validation/safe-text';
import { SUBSCRIBABLE_TYPES, VITAL_TYPES, WEBHOOK_TYPES, type WebhookType } from './event-types';

/** Free text that is delivered to receivers: no control or bidi override characters (see safe-text.ts). */
const text = (maxLength: number, minLength?: number) =>
  ({ type: 'string', ...(minLength !== undefined && { minLength }), maxLength, pattern: SAFE_TEXT_PATTERN }) as const;

const personFields = {
  userUUID: { type: 'string', format: 'uuid' },
  email: text(320),
  firstName: text(200),
  lastName: text(200),
} as const;

export const fallDetectionDataSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['userUUID', 'reasons', 'happenedAt', 'email', 'firstName', 'lastName'],
  properties: {
    ...personFields,
    reasons: { type: 'array', items: text(1000), maxItems: 100 },
    happenedAt: { type: 'string', format: 'date-time' },
  },
} as const;

export const vitalThresholdDataSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['triggeredVitals', 'userUUID', 'email', 'firstName', 'lastName'],
  properties: {
    ...personFields,
    triggeredVitals: {
      type: 'array',
      minItems: 1,
      maxItems: 100,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['vitalType', 'badValue', 'thresholdValue', 'vital_id', 'reason'],
        properties: {
          vitalType: { type: 'string', enum: [...VITAL_TYPES] },
          badValue: { type: 'number' },
          thresholdValue: { type: 'number' },
          vital_id: text(200, 1),
          reason: { type: ['string', 'null'], enum: ['high', 'low', null] },
        },
      },
    },
  },
} as const;

export const testDataSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['test'],
  properties: { test: { type: 'string', const: 'test' } },
} as const;

export const dataSchemaByType = {
  FALL_DETECTION: fallDetectionDataSchema,
  VITAL_THRESHOLD: vitalThresholdDataSchema,
  TEST: testDataSchema,
} satisfies Record<WebhookType, object>;

export const PROJECT_ID_SCHEMA = { type: 'string', pattern: '^[A-Za-z0-9._:-]{1,128}$' } as const;

/** The envelope; `data` is checked separately against the schema of its webhookType. */
export const internalEventEnvelopeSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['projectId', 'userUUID', 'webhookType', 'data'],
  properties: {
    projectId: PROJECT_ID_SCHEMA,
    userUUID: text(200, 1),
    webhookType: { type: 'string', enum: [...WEBHOOK_TYPES] },
    data: { type: 'object' },
  },
} as const;

export { SUBSCRIBABLE_TYPES };
