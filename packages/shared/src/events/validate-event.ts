import type { ValidateFunction } from 'ajv';
import { ajv, describeValidationErrors } from '../validation/ajv';
import { dataSchemaByType, internalEventEnvelopeSchema } from './event-schemas';
import type { EventDataByType, InternalEvent, WebhookType } from './event-types';

export type ValidationResult<T> = { valid: true; value: T } | { valid: false; errors: string[] };

const validateEnvelope = ajv.compile(internalEventEnvelopeSchema);
const dataValidators = Object.fromEntries(Object.entries(dataSchemaByType).map(([type, schema]) => [type, ajv.compile(schema)])) as {
  [K in WebhookType]: ValidateFunction<EventDataByType[K]>;
};

/** Validate the data of one event type; error messages are prefixed with `data.`. */
export function validateEventData<T extends WebhookType>(webhookType: T, data: unknown): ValidationResult<EventDataByType[T]> {
  const validate = dataValidators[webhookType] as ValidateFunction<EventDataByType[T]>;
  if (validate(data)) return { valid: true, value: data };
  return { valid: false, errors: describeValidationErrors(validate.errors, 'data') };
}

/** Validate an internal event: the envelope, then `data` against its type's schema. */
export function validateInternalEvent(event: unknown): ValidationResult<InternalEvent> {
  if (!validateEnvelope(event)) {
    return { valid: false, errors: describeValidationErrors(validateEnvelope.errors) };
  }
  const { webhookType, data, userUUID } = event as { webhookType: WebhookType; data: unknown; userUUID: string };
  const dataResult = validateEventData(webhookType, data);
  if (!dataResult.valid) return dataResult;
  if ('userUUID' in dataResult.value && dataResult.value.userUUID !== userUUID) {
    return { valid: false, errors: ['userUUID must equal data.userUUID'] };
  }
  return { valid: true, value: event };
}
