import Ajv, { type ErrorObject, type Options } from 'ajv';
import addFormats from 'ajv-formats';
import { SAFE_TEXT_MESSAGE, SAFE_TEXT_PATTERN } from './safe-text';

/** A strict ajv with the standard formats, so every schema in the system checks formats the same way. */
export function createAjv(options: Options = {}): Ajv {
  const instance = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true, ...options });
  addFormats(instance);
  return instance;
}

/** The instance for request bodies and events: no coercion, no defaults. */
export const ajv = createAjv();

/** Turn ajv errors into messages that name the field, e.g. `url must use https`, `types[0] must be one of: ...`. */
export function describeValidationErrors(errors: ErrorObject[] | null | undefined, prefix = ''): string[] {
  const messages = (errors ?? []).map((error) => describeError(error, prefix));
  return [...new Set(messages)];
}

function describeError(error: ErrorObject, prefix: string): string {
  const field = joinPath(prefix, pointerToPath(error.instancePath));
  const subject = field || 'body';
  switch (error.keyword) {
    case 'required':
      return `${joinPath(field, String(error.params.missingProperty))} is required`;
    case 'additionalProperties':
      return `${joinPath(field, String(error.params.additionalProperty))} is not an allowed field`;
    case 'enum':
      return `${subject} must be one of: ${(error.params.allowedValues as unknown[]).map(String).join(', ')}`;
    case 'const':
      return `${subject} must be ${JSON.stringify(error.params.allowedValue)}`;
    case 'format':
      return `${subject} must be a valid ${String(error.params.format)}`;
    case 'pattern':
      if (error.params.pattern === SAFE_TEXT_PATTERN) return `${subject} ${SAFE_TEXT_MESSAGE}`;
      return `${subject} ${error.message ?? 'is invalid'}`;
    case 'type':
      return `${subject} must be of type ${String(error.params.type)}`;
    default:
      return `${subject} ${error.message ?? 'is invalid'}`;
  }
}

/** `/triggeredVitals/0/reason` -> `triggeredVitals[0].reason` */
function pointerToPath(pointer: string): string {
  return pointer
    .split('/')
    .slice(1)
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((path, part) => (/^\d+$/.test(part) ? `${path}[${part}]` : joinPath(path, part)), '');
}

function joinPath(base: string, field: string): string {
  if (!base) return field;
  if (!field) return base;
  return `${base}.${field}`;
}
