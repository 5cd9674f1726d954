import type { RequestHandler } from 'express';
import { ajv, describeValidationErrors } from '@novee/shared';
import { badRequest } from './http-error';

/** Reject a request whose JSON body does not match the schema, with a message naming each bad field. */
export function validateBody(schema: object): RequestHandler {
  const validate = ajv.compile(schema);
  return (req, _res, next) => {
    if (validate(req.body)) return next();
    next(badRequest(describeValidationErrors(validate.errors).join('; ')));
  };
}
