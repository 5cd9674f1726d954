import { signatureHeaders, type WebhookType } from '@novee/shared';

export interface DeliveryRequest {
  url: string;
  /** Exactly the bytes that were signed. */
  body: string;
  headers: Record<string, string>;
}

export const USER_AGENT = 'Novee-Webhooks/1.0';

/**
 * The receiver gets `data` alone, serialized once, compactly; those exact bytes are signed and sent.
 * X-Event-Id and X-Event-Type are additive headers for idempotency and routing; they are not signed.
 */
export function buildDeliveryRequest(input: {
  url: string;
  secret: string;
  eventId: string;
  webhookType: WebhookType;
  data: unknown;
  now?: number;
}): DeliveryRequest {
  const body = JSON.stringify(input.data);
  return {
    url: input.url,
    body,
    headers: {
      'Content-Type': 'application/json',
      'User-Agent': USER_AGENT,
      'X-Event-Id': input.eventId,
      'X-Event-Type': input.webhookType,
      ...signatureHeaders(input.secret, body, input.now),
    },
  };
}
