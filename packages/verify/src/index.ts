export { verify, DEFAULT_TOLERANCE_MS, type VerifyOptions, type VerifiedWebhook, type WebhookScheme } from './verify';
export {
  WebhookVerificationError,
  MissingHeaderError,
  InvalidHeaderError,
  StaleTimestampError,
  NoMatchingSignatureError,
  type VerificationFailure,
} from './errors';
export { readHeader, type HeaderBag } from './headers';
export { SECRET_PREFIX, isStandardWebhooksSecret, signStandardWebhook, signXSignature, standardWebhooksKey } from './signatures';
