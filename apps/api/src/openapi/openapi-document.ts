import {
  WEBHOOK_TYPES,
  fallDetectionDataSchema,
  internalEventEnvelopeSchema,
  registerWebhookSchema,
  testDataSchema,
  updateWebhookSchema,
  vitalThresholdDataSchema,
} from '@novee/shared';
import { MAX_BATCH_EVENTS } from '../routes/event-batch-routes';
import { recoverRequestSchema } from '../routes/recovery-routes';

/**
 * The OpenAPI 3.1 description of the management and ingestion API. Request schemas are the very ajv schemas
 * the API validates with, so the document cannot drift from what is enforced. Served at /openapi.json.
 */
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: object, example?: unknown) => ({ 'application/json': { schema, ...(example !== undefined && { example }) } });
const projectIdParam = { name: 'projectId', in: 'path', required: true, schema: { type: 'string' } };
const errorResponse = (description: string, example: { statusCode: number; error: string; message: string }) => ({
  description,
  content: json(ref('Error'), example),
});
const unauthorized = errorResponse('Missing or invalid bearer token', { statusCode: 401, error: 'Unauthorized', message: 'Unauthorized' });
const forbidden = errorResponse('Not a member of the project (or missing scope)', {
  statusCode: 403,
  error: 'Forbidden',
  message: 'You are not a member of project proj-1',
});
const unknownProject = errorResponse('Unknown project, or nothing registered', {
  statusCode: 404,
  error: 'Not Found',
  message: 'No project with id proj-1 was found',
});
const unavailable = errorResponse('A dependency (MongoDB, Redis, the token issuer) is down; retry', {
  statusCode: 503,
  error: 'Service Unavailable',
  message: 'Database is unavailable, try again shortly',
});
const badRequest = (message: string) =>
  errorResponse('Invalid input; the message names each bad field', { statusCode: 400, error: 'Bad Request', message });

const registrationProperties = {
  _id: { type: 'string' },
  projectId: { type: 'string' },
  url: { type: 'string', format: 'uri' },
  types: registerWebhookSchema.properties.types,
  status: {
    type: 'string',
    enum: ['enabled', 'disabled'],
    description: 'A disabled endpoint is sent nothing: its events are recorded as failed ("endpoint disabled")',
  },
  disabledReason: {
    type: ['string', 'null'],
    description: 'Why it is disabled: "receiver answered 410", "failing continuously since ...", "disabled by a project member"',
  },
  failingSince: { type: ['string', 'null'], format: 'date-time', description: 'Since when every attempt has failed; null while healthy' },
};
const registrationFields = ['_id', 'projectId', 'url', 'types', 'status', 'disabledReason', 'failingSince'];
const registration = {
  _id: '6560f1c2a9b8c7d6e5f4a3b2',
  projectId: 'proj-1',
  url: 'https://hooks.example.com/novee',
  types: ['FALL_DETECTION'],
  status: 'enabled',
  disabledReason: null,
  failingSince: null,
};
const secret = 'whsec_Pxw7amjYfGtaTz4tHRwLmo+ObVxLOi8eDZyLem9eTTw=';
// New secrets: whsec_ + base64 of 32 bytes; registrations from before Standard Webhooks support: whsec_ + 64 hex.
const secretSchema = { type: 'string', pattern: '^whsec_(?:[0-9a-f]{64}|[A-Za-z0-9+/]{43}=)$' };
const userUUID = '4f1c2b7e-8d9a-4e3b-9c1d-2a3b4c5d6e7f';
const person = { userUUID, email: 'ada@example.com', firstName: 'Ada', lastName: 'Lovelace' };
const fallEvent = {
  projectId: 'proj-1',
  userUUID,
  webhookType: 'FALL_DETECTION',
  data: { ...person, reasons: ['impact detected'], happenedAt: '2026-11-23T10:15:30.000Z' },
};
const vitalEvent = {
  projectId: 'proj-1',
  userUUID,
  webhookType: 'VITAL_THRESHOLD',
  data: { ...person, triggeredVitals: [{ vitalType: 'heartrate', badValue: 182, thresholdValue: 150, vital_id: 'v-1', reason: 'high' }] },
};

/** One outgoing webhook: the body is the event's `data`, signed; any 2xx answer means delivered. */
function webhook(operationId: string, summary: string, schema: object, example: unknown) {
  const header = (name: string, description: string, pattern?: string) => ({
    name,
    in: 'header',
    required: true,
    description,
    schema: { type: 'string', ...(pattern && { pattern }) },
  });
  return {
    post: {
      operationId,
      summary,
      security: [],
      parameters: [
        header('X-Timestamp', 'Unix time in ms when this attempt was signed', '^[0-9]+$'),
        header('X-Signature', 'Lowercase hex HMAC-SHA256 with the secret over "{X-Timestamp}.{body}"', '^[0-9a-f]{64}$'),
        header('X-Event-Id', 'The same on every attempt and redelivery: de-duplicate on it'),
        header('X-Event-Type', 'FALL_DETECTION, VITAL_THRESHOLD or TEST'),
      ],
      requestBody: { required: true, content: json(schema, example) },
      responses: {
        200: { description: 'Delivered (any 2xx)' },
        401: { description: 'Signature rejected (any non-2xx, or no answer in time): the attempt failed and is retried' },
      },
    },
  };
}

export const openApiDocument = {
  openapi: '3.1.0',
  info: {
    title: 'Novee webhooks',
    version: '1.0.0',
    description:
      'Register a webhook per project and receive FALL_DETECTION and VITAL_THRESHOLD events, signed with HMAC-SHA256 ' +
      '(X-Timestamp, X-Signature over "{timestamp}.{body}"), and with Standard Webhooks headers (webhook-id, ' +
      'webhook-timestamp, webhook-signature). Pipelines post events to /events. Receivers: docs/receiving-webhooks.md.',
    license: { name: 'Proprietary', identifier: 'LicenseRef-Proprietary' },
  },
  // Relative: the API is wherever this document is served from.
  servers: [{ url: '/', description: 'This API' }],
  components: {
    securitySchemes: { auth0: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'Auth0 access token' } },
    schemas: {
      Error: {
        type: 'object',
        required: ['statusCode', 'error', 'message'],
        properties: { statusCode: { type: 'integer' }, error: { type: 'string' }, message: { type: 'string' } },
      },
      RegisterWebhookRequest: registerWebhookSchema,
      UpdateWebhookRequest: updateWebhookSchema,
      Registration: {
        type: 'object',
        required: registrationFields,
        additionalProperties: false,
        properties: registrationProperties,
      },
      RegistrationWithSecret: {
        type: 'object',
        required: [...registrationFields, 'secret'],
        additionalProperties: false,
        properties: { ...registrationProperties, secret: secretSchema },
      },
      RotatedRegistration: {
        type: 'object',
        required: [...registrationFields, 'secret', 'expiresAt'],
        additionalProperties: false,
        properties: {
          ...registrationProperties,
          secret: secretSchema,
          expiresAt: { type: 'string', format: 'date-time', description: 'Until then the replaced secret still signs webhook-signature' },
        },
      },
      FallDetectionData: fallDetectionDataSchema,
      VitalThresholdData: vitalThresholdDataSchema,
      TestData: testDataSchema,
      Event: {
        ...internalEventEnvelopeSchema,
        properties: {
          ...internalEventEnvelopeSchema.properties,
          webhookType: { type: 'string', enum: WEBHOOK_TYPES.filter((type) => type !== 'TEST') },
          data: { oneOf: [ref('FallDetectionData'), ref('VitalThresholdData')] },
        },
      },
      EventAccepted: { type: 'object', required: ['eventId'], properties: { eventId: { type: 'string' } } },
      EventBatch: {
        type: 'object',
        required: ['events'],
        additionalProperties: false,
        properties: { events: { type: 'array', minItems: 1, maxItems: MAX_BATCH_EVENTS, items: ref('Event') } },
      },
      EventBatchResults: {
        type: 'object',
        required: ['results'],
        properties: {
          results: {
            type: 'array',
            description: "One per event, in the request's order",
            items: {
              oneOf: [
                {
                  type: 'object',
                  required: ['eventId'],
                  additionalProperties: false,
                  properties: {
                    eventId: { type: 'string' },
                    replayed: { type: 'boolean', enum: [true], description: 'The batch key had already enqueued this event' },
                  },
                },
                {
                  type: 'object',
                  required: ['error'],
                  additionalProperties: false,
                  properties: { error: ref('Error') },
                  description: 'Not enqueued (504: may have been): the answer POST /events would give for this event alone',
                },
              ],
            },
          },
        },
      },
      TestOutcome: {
        type: 'object',
        required: ['eventId', 'delivered'],
        properties: {
          eventId: { type: 'string' },
          delivered: { type: 'boolean' },
          statusCode: { type: 'integer' },
          error: { type: 'string' },
          durationMs: { type: 'integer' },
        },
      },
      DeliveryAttempt: {
        type: 'object',
        required: ['id', 'eventId', 'webhookType', 'attempt', 'status', 'createdAt'],
        properties: {
          id: { type: 'string' },
          eventId: { type: 'string' },
          webhookType: { type: 'string', enum: [...WEBHOOK_TYPES] },
          attempt: { type: 'integer', minimum: 1 },
          status: { type: 'string', enum: ['delivered', 'failed', 'rejected'] },
          statusCode: { type: 'integer' },
          error: { type: 'string' },
          durationMs: { type: 'integer' },
          urlHost: { type: 'string' },
          final: { type: 'boolean' },
          redelivery: { type: 'boolean' },
          recovery: { type: 'string', description: 'The bulk recovery this attempt belongs to' },
          createdAt: { type: 'string', format: 'date-time' },
        },
      },
      DeliveryPage: {
        type: 'object',
        required: ['items', 'nextCursor'],
        properties: { items: { type: 'array', items: ref('DeliveryAttempt') }, nextCursor: { type: ['string', 'null'] } },
      },
      Redelivery: {
        type: 'object',
        required: ['eventId', 'redeliveryId'],
        properties: { eventId: { type: 'string' }, redeliveryId: { type: 'string' } },
      },
      RecoverRequest: recoverRequestSchema,
      RecoveryStarted: {
        type: 'object',
        required: ['recoveryId', 'count'],
        properties: {
          recoveryId: { type: 'string', format: 'uuid' },
          count: { type: 'integer', minimum: 0, description: 'Events re-sent' },
        },
      },
      Recovery: {
        type: 'object',
        required: [
          'recoveryId',
          'projectId',
          'since',
          'until',
          'types',
          'status',
          'count',
          'delivered',
          'failed',
          'pending',
          'notQueued',
          'createdAt',
        ],
        properties: {
          recoveryId: { type: 'string', format: 'uuid' },
          projectId: { type: 'string' },
          since: { type: 'string', format: 'date-time' },
          until: { type: 'string', format: 'date-time' },
          types: { type: ['array', 'null'], items: { type: 'string' } },
          status: { type: 'string', enum: ['running', 'done'] },
          count: { type: 'integer', minimum: 0 },
          delivered: { type: 'integer', minimum: 0 },
          failed: { type: 'integer', minimum: 0 },
          pending: { type: 'integer', minimum: 0 },
          notQueued: { type: 'integer', minimum: 0, description: 'Failed in the window but no longer in the queue (kept 7 days)' },
          createdAt: { type: 'string', format: 'date-time' },
        },
      },
    },
  },
  security: [{ auth0: [] }],
  // What we POST to a registered URL (OpenAPI 3.1 webhooks), so receivers can be generated from this document too.
  webhooks: {
    FALL_DETECTION: webhook('receiveFallDetection', 'A patient fell', ref('FallDetectionData'), fallEvent.data),
    VITAL_THRESHOLD: webhook('receiveVitalThreshold', 'A vital sign crossed its threshold', ref('VitalThresholdData'), vitalEvent.data),
    TEST: webhook('receiveTestEvent', 'Sent by POST /webhooks/test/project/{projectId}', ref('TestData'), { test: 'test' }),
  },
  paths: {
    '/webhooks/register': {
      post: {
        operationId: 'registerWebhook',
        summary: 'Register the project’s webhook (one per project)',
        requestBody: {
          required: true,
          content: json(ref('RegisterWebhookRequest'), { projectId: 'proj-1', url: registration.url, types: ['FALL_DETECTION'] }),
        },
        responses: {
          201: {
            description: 'Registered; the secret is shown only here',
            content: json(ref('RegistrationWithSecret'), { ...registration, secret }),
          },
          400: badRequest('url must use https'),
          401: unauthorized,
          403: forbidden,
          404: unknownProject,
          409: errorResponse('The project already has a webhook', {
            statusCode: 409,
            error: 'Conflict',
            message: 'Webhook has already been registered previously',
          }),
          503: unavailable,
        },
      },
    },
    '/webhooks': {
      patch: {
        operationId: 'updateWebhook',
        summary: 'Change the URL and/or types, or enable / disable the endpoint',
        requestBody: {
          required: true,
          content: json(ref('UpdateWebhookRequest'), { projectId: 'proj-1', types: ['FALL_DETECTION', 'VITAL_THRESHOLD'] }),
        },
        responses: {
          200: {
            description: 'Updated (no secret)',
            content: json(ref('Registration'), { ...registration, types: ['FALL_DETECTION', 'VITAL_THRESHOLD'] }),
          },
          400: badRequest('types[0] must be one of: FALL_DETECTION, VITAL_THRESHOLD'),
          401: unauthorized,
          403: forbidden,
          404: errorResponse('Nothing registered yet', {
            statusCode: 404,
            error: 'Not Found',
            message: 'Must register webhook before updating it',
          }),
          503: unavailable,
        },
      },
    },
    '/webhooks/project/{projectId}': {
      parameters: [projectIdParam],
      get: {
        operationId: 'getWebhook',
        summary: 'The project’s webhook (no secret)',
        responses: {
          200: { description: 'The registration', content: json(ref('Registration'), registration) },
          401: unauthorized,
          403: forbidden,
          404: unknownProject,
          503: unavailable,
        },
      },
      delete: {
        operationId: 'deleteWebhook',
        summary: 'Remove the project’s webhook',
        responses: { 204: { description: 'Removed' }, 401: unauthorized, 403: forbidden, 404: unknownProject, 503: unavailable },
      },
    },
    '/webhooks/test/project/{projectId}': {
      parameters: [projectIdParam],
      post: {
        operationId: 'sendTestEvent',
        summary: 'Send {"test":"test"} through the queue and worker',
        responses: {
          200: {
            description: 'The first attempt finished',
            content: json(ref('TestOutcome'), {
              eventId: '0b8f2a56-7c1e-4d3a-9f6b-5e4d3c2b1a09',
              delivered: true,
              statusCode: 200,
              durationMs: 42,
            }),
          },
          202: {
            description: 'Sent; not finished within the wait',
            content: json(ref('EventAccepted'), { eventId: '0b8f2a56-7c1e-4d3a-9f6b-5e4d3c2b1a09' }),
          },
          401: unauthorized,
          403: forbidden,
          404: unknownProject,
          503: unavailable,
        },
      },
    },
    '/webhooks/project/{projectId}/secret/rotate': {
      parameters: [projectIdParam],
      post: {
        operationId: 'rotateWebhookSecret',
        summary: 'Replace the signing secret; the new one is shown only here',
        description:
          'X-Signature uses the new secret at once. Until expiresAt (SECRET_ROTATION_GRACE_MS, default 24 h) webhook-signature ' +
          'carries a signature with the new and one with the replaced secret, so a Standard Webhooks receiver still holding the ' +
          'old secret keeps verifying. Rotating again inside the window retires the oldest secret at once.',
        responses: {
          200: {
            description: 'Rotated',
            content: json(ref('RotatedRegistration'), { ...registration, secret, expiresAt: '2026-11-24T10:15:30.000Z' }),
          },
          401: unauthorized,
          403: forbidden,
          404: unknownProject,
          409: errorResponse('Rotated concurrently; retry', {
            statusCode: 409,
            error: 'Conflict',
            message: 'The secret was rotated concurrently; try again',
          }),
          503: unavailable,
        },
      },
    },
    '/webhooks/project/{projectId}/secret/previous': {
      parameters: [projectIdParam],
      delete: {
        operationId: 'endSecretRotationWindow',
        summary: 'End the rotation grace window now: only the current secret signs from the next attempt on',
        responses: {
          204: { description: 'Ended (also when no window was open)' },
          401: unauthorized,
          403: forbidden,
          404: unknownProject,
          503: unavailable,
        },
      },
    },
    '/webhooks/project/{projectId}/deliveries': {
      parameters: [projectIdParam],
      get: {
        operationId: 'listDeliveries',
        summary: 'Delivery attempts, newest first',
        parameters: [
          { name: 'status', in: 'query', schema: { type: 'string', enum: ['delivered', 'failed', 'rejected'] } },
          { name: 'type', in: 'query', schema: { type: 'string', enum: [...WEBHOOK_TYPES] } },
          { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 100, default: 20 } },
          { name: 'cursor', in: 'query', schema: { type: 'string' } },
        ],
        responses: {
          200: {
            description: 'A page',
            content: json(ref('DeliveryPage'), {
              items: [
                {
                  id: '6560f1c2a9b8c7d6e5f4a3b3',
                  eventId: '0b8f2a56-7c1e-4d3a-9f6b-5e4d3c2b1a09',
                  webhookType: 'FALL_DETECTION',
                  attempt: 1,
                  status: 'delivered',
                  statusCode: 200,
                  durationMs: 42,
                  urlHost: 'hooks.example.com',
                  createdAt: '2026-11-23T10:15:31.000Z',
                },
              ],
              nextCursor: null,
            }),
          },
          400: badRequest('query.limit must be <= 100'),
          401: unauthorized,
          403: forbidden,
          404: unknownProject,
          503: unavailable,
        },
      },
    },
    '/webhooks/project/{projectId}/deliveries/{eventId}/redeliver': {
      parameters: [projectIdParam, { name: 'eventId', in: 'path', required: true, schema: { type: 'string' } }],
      post: {
        operationId: 'redeliverEvent',
        summary: 'Send an event again (same X-Event-Id)',
        responses: {
          202: {
            description: 'Queued',
            content: json(ref('Redelivery'), {
              eventId: '0b8f2a56-7c1e-4d3a-9f6b-5e4d3c2b1a09',
              redeliveryId: '0b8f2a56-7c1e-4d3a-9f6b-5e4d3c2b1a09-redelivery-1a2b3c4d',
            }),
          },
          401: unauthorized,
          403: forbidden,
          404: unknownProject,
          410: errorResponse('The event’s payload is no longer retained', {
            statusCode: 410,
            error: 'Gone',
            message: 'Event 0b8f2a56-7c1e-4d3a-9f6b-5e4d3c2b1a09 is no longer retained for redelivery',
          }),
          503: unavailable,
        },
      },
    },
    '/webhooks/project/{projectId}/recover': {
      parameters: [projectIdParam],
      post: {
        operationId: 'recoverFailedEvents',
        summary: 'Re-send every event whose final outcome in a window is failed (same event ids; window within the last 7 days)',
        requestBody: {
          required: true,
          content: json(ref('RecoverRequest'), { since: '2026-11-21T18:00:00.000Z', types: ['FALL_DETECTION'] }),
        },
        responses: {
          202: {
            description: 'Queued; follow it with GET .../recoveries/{recoveryId}',
            content: json(ref('RecoveryStarted'), { recoveryId: '3f9c7a52-1b4e-4d8a-9c6f-2e7d5b1a0c93', count: 42 }),
          },
          400: badRequest('since must be within the last 7 days (failed events are kept 7 days)'),
          401: unauthorized,
          403: forbidden,
          404: unknownProject,
          409: errorResponse('The webhook is disabled', {
            statusCode: 409,
            error: 'Conflict',
            message: 'The webhook is disabled; re-enable it (PATCH /webhooks with enabled: true) before recovering',
          }),
          503: unavailable,
        },
      },
    },
    '/webhooks/project/{projectId}/recoveries/{recoveryId}': {
      parameters: [projectIdParam, { name: 'recoveryId', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } }],
      get: {
        operationId: 'getRecovery',
        summary: 'Progress of a bulk recovery',
        responses: {
          200: {
            description: 'Its events delivered, failed for good, or pending',
            content: json(ref('Recovery'), {
              recoveryId: '3f9c7a52-1b4e-4d8a-9c6f-2e7d5b1a0c93',
              projectId: 'proj-1',
              since: '2026-11-21T18:00:00.000Z',
              until: '2026-11-24T08:00:00.000Z',
              types: ['FALL_DETECTION'],
              status: 'running',
              count: 42,
              delivered: 30,
              failed: 0,
              pending: 12,
              notQueued: 0,
              createdAt: '2026-11-24T08:00:00.000Z',
            }),
          },
          400: badRequest('recoveryId must be a UUID'),
          401: unauthorized,
          403: forbidden,
          404: unknownProject,
          503: unavailable,
        },
      },
    },
    '/events': {
      post: {
        operationId: 'ingestEvent',
        summary: 'Ingest a FALL_DETECTION or VITAL_THRESHOLD event (scope events:write for member projects, events:write:any for any)',
        description:
          'Checked in this order: token (401), scope (403), Idempotency-Key format (400), event (400), project exists (404), ' +
          "the token's `sub` is a member of the project unless the token has `events:write:any` (403), key reuse (422). " +
          '202 once the job is confirmed in the queue. 503: known not to be enqueued, resend freely. 504: Redis did not confirm ' +
          'in time and the event may be enqueued; resend with the same Idempotency-Key to get its eventId without a duplicate. ' +
          'The same Idempotency-Key with the same project and event returns the same eventId for IDEMPOTENCY_TTL (default 24 h).',
        parameters: [
          {
            name: 'Idempotency-Key',
            in: 'header',
            required: false,
            description: 'A UUID chosen by the caller, one per event; resends with it are answered with the first eventId',
            schema: { type: 'string', format: 'uuid' },
          },
        ],
        requestBody: {
          required: true,
          content: { 'application/json': { schema: ref('Event'), examples: { fall: { value: fallEvent }, vital: { value: vitalEvent } } } },
        },
        responses: {
          202: {
            description: 'Enqueued (or, for a resend with the same Idempotency-Key, enqueued before: header Idempotent-Replayed: true)',
            headers: {
              'Idempotent-Replayed': {
                description: 'true when this key had already enqueued the event',
                schema: { type: 'string', enum: ['true'] },
              },
            },
            content: json(ref('EventAccepted'), { eventId: '0b8f2a56-7c1e-4d3a-9f6b-5e4d3c2b1a09' }),
          },
          400: badRequest('data.happenedAt must be a valid date-time'),
          401: unauthorized,
          403: forbidden,
          404: errorResponse('Unknown project', { statusCode: 404, error: 'Not Found', message: 'No project with id proj-1 was found' }),
          422: errorResponse('The Idempotency-Key was already used for another project or a different event', {
            statusCode: 422,
            error: 'Unprocessable Entity',
            message:
              'Idempotency-Key 0b8f2a56-7c1e-4d3a-9f6b-5e4d3c2b1a09 was already used for a different event; use a new key for each event',
          }),
          503: errorResponse('Not enqueued: Redis is down, or MongoDB is down and the project is not known to this instance; resend', {
            statusCode: 503,
            error: 'Service Unavailable',
            message: 'Event queue is unavailable, try again shortly',
          }),
          504: errorResponse('Redis did not confirm in time: the event may be enqueued; resend with the same Idempotency-Key', {
            statusCode: 504,
            error: 'Gateway Timeout',
            message:
              'Event queue did not confirm the event in time; it may have been accepted. Retry with the same Idempotency-Key to get its eventId without a duplicate',
          }),
        },
      },
    },
    '/events/batch': {
      post: {
        operationId: 'ingestEventBatch',
        summary: `Ingest 1 to ${MAX_BATCH_EVENTS} events in one request (scopes as POST /events); one result per event`,
        description:
          'The request: token (401), scope (403), Idempotency-Key format (400), body `{events: [...]}` (400; more than ' +
          `${MAX_BATCH_EVENTS} events: 413; body over 4 MB: 413). Then each event on its own, with POST /events's checks and messages: ` +
          'invalid (400, the message names `events[i]`), unknown project (404), not a member (403), the per-project rate limit ' +
          'counted per event (429), the project’s queued-events cap (429), key reuse (422). Each event is enqueued or not on its ' +
          'own; one refused event never stops the others. 200 with `results` in input order. With an Idempotency-Key, event i ' +
          'is enqueued under the key `<key>:<i>`: resending the same batch with the same key enqueues nothing twice and ' +
          'answers the same eventIds (`replayed: true`). 503 (Redis down) and 504 (not confirmed in time) for the request when ' +
          'no event could be enqueued because of Redis; a per-event 503 or 504 otherwise.',
        parameters: [
          {
            name: 'Idempotency-Key',
            in: 'header',
            required: false,
            description: 'A UUID for the batch; event i uses `<key>:<i>`. Resend the same batch with it after a timeout, 503 or 504',
            schema: { type: 'string', format: 'uuid' },
          },
        ],
        requestBody: {
          required: true,
          content: {
            'application/json': { schema: ref('EventBatch'), examples: { mixed: { value: { events: [fallEvent, vitalEvent] } } } },
          },
        },
        responses: {
          200: {
            description: 'One result per event, in order: its eventId, or the error POST /events would have answered for it',
            content: json(ref('EventBatchResults'), {
              results: [
                { eventId: '0b8f2a56-7c1e-4d3a-9f6b-5e4d3c2b1a09' },
                { error: { statusCode: 400, error: 'Bad Request', message: 'events[1].data.happenedAt must be a valid date-time' } },
              ],
            }),
          },
          400: badRequest('events must hold at least 1 event'),
          401: unauthorized,
          403: errorResponse('Missing scope', {
            statusCode: 403,
            error: 'Forbidden',
            message: 'This call needs a token with the scope events:write or events:write:any',
          }),
          413: errorResponse(`More than ${MAX_BATCH_EVENTS} events, or a body over 4 MB`, {
            statusCode: 413,
            error: 'Payload Too Large',
            message: `events holds 501 events; at most ${MAX_BATCH_EVENTS} are taken per request`,
          }),
          503: errorResponse('No event enqueued: Redis is down (or MongoDB, for projects this instance does not know); resend', {
            statusCode: 503,
            error: 'Service Unavailable',
            message: 'Event queue is unavailable, try again shortly',
          }),
          504: errorResponse('Redis did not confirm in time: events may be enqueued; resend with the same Idempotency-Key', {
            statusCode: 504,
            error: 'Gateway Timeout',
            message:
              'Event queue did not confirm the event in time; it may have been accepted. Retry with the same Idempotency-Key to get its eventId without a duplicate',
          }),
        },
      },
    },
    '/openapi.json': {
      get: {
        operationId: 'getOpenApiDocument',
        summary: 'This document',
        security: [],
        responses: { 200: { description: 'OpenAPI 3.1', content: json({ type: 'object' }) } },
      },
    },
    '/healthz': {
      get: {
        operationId: 'getHealth',
        summary: 'The process is up',
        security: [],
        responses: { 200: { description: 'Up', content: json({ type: 'object' }, { status: 'ok' }) } },
      },
    },
    '/readyz': {
      get: {
        operationId: 'getReadiness',
        summary: 'Redis and MongoDB answer',
        security: [],
        responses: {
          200: { description: 'Ready', content: json({ type: 'object' }, { status: 'ok', checks: { redis: 'ok', mongodb: 'ok' } }) },
          503: {
            description: 'Not ready',
            content: json({ type: 'object' }, { status: 'unavailable', checks: { redis: 'ok', mongodb: 'unavailable' } }),
          },
        },
      },
    },
  },
};

/* Hardening: the board's browser sign-in, and the answers to hostile or excessive requests. */
const tooManyRequests = errorResponse(
  'Rate limit (per token; per project on /events) or the project’s cap on queued events; see Retry-After and RateLimit-*',
  {
    statusCode: 429,
    error: 'Too Many Requests',
    message: 'Rate limit exceeded for project proj-1: at most 100 requests per second; retry after 1 s',
  },
);
const unsupportedMediaType = errorResponse('The body is not JSON, or not utf-8', {
  statusCode: 415,
  error: 'Unsupported Media Type',
  message: 'Content-Type must be application/json',
});
Object.assign(openApiDocument.paths, {
  '/admin/login': {
    get: {
      operationId: 'getAdminLoginPage',
      summary: 'Sign-in page for the queue dashboard (Bull Board) in a browser',
      security: [],
      responses: { 200: { description: 'An HTML page (text/html)' } },
    },
  },
  '/admin/login.js': {
    get: {
      operationId: 'getAdminLoginScript',
      summary: 'The sign-in page’s script',
      security: [],
      responses: { 200: { description: 'JavaScript (application/javascript)' } },
    },
  },
  '/admin/session': {
    post: {
      operationId: 'createAdminSession',
      summary: 'Exchange an admin:queues token for a short-lived HttpOnly, SameSite=Strict session cookie scoped to /admin',
      responses: { 204: { description: 'Signed in (Set-Cookie: novee_admin=...)' }, 401: unauthorized, 403: forbidden, 503: unavailable },
    },
    delete: {
      operationId: 'deleteAdminSession',
      summary: 'Sign out (ends the session)',
      security: [],
      responses: { 204: { description: 'Signed out' } },
    },
  },
});
type Operation = { security?: unknown[]; requestBody?: unknown; responses?: Record<string, unknown> };
for (const [path, item] of Object.entries(openApiDocument.paths) as Array<[string, Record<string, Operation>]>) {
  for (const operation of Object.values(item)) {
    // Public pages and the board's sign-in are not rate-limited.
    if (!operation.responses || operation.security?.length === 0 || path.startsWith('/admin')) continue;
    operation.responses[429] ??= tooManyRequests;
    if (operation.requestBody) operation.responses[415] ??= unsupportedMediaType;
  }
}
