import { signatureHeaders, standardWebhookHeaders, type WebhookType } from '@novee/shared';

export interface DeliveryRequest {
  url: string;
  /** Exactly the bytes that were signed. */
  body: string;
  headers: Record<string, string>;
}

export const USER_AGENT = 'Novee-Webhooks/1.0';

/**
 * The receiver gets `data` alone, serialized once, compactly; those exact bytes are signed and sent.
 * X-Timestamp / X-Signature (SPEC) are signed with the current secret; the additive Standard Webhooks headers
 * carry one signature per valid secret (current first), all from the same signing instant. X-Event-Id and
 * X-Event-Type are additive headers for idempotency and routing (webhook-id, the same id, is signed).
 */
export function buildDeliveryRequest(input: {
  url: string;
  /** The current secret first, then any still in a rotation's grace window. */
  secrets: readonly string[];
  eventId: string;
  webhookType: WebhookType;
  data: unknown;
  now?: number;
}): DeliveryRequest {
  const body = JSON.stringify(input.data);
  const [current] = input.secrets;
  if (!current) throw new Error('a delivery needs a signing secret');
  const now = input.now ?? Date.now();
  return {
    url: input.url,
    body,
    headers: {
      'Content-Type': 'application/json',
      'User-Agent': USER_AGENT,
      'X-Event-Id': input.eventId,
      'X-Event-Type': input.webhookType,
      ...signatureHeaders(current, body, now),
      ...standardWebhookHeaders(input.eventId, input.secrets, body, now),
    },
  };
}
