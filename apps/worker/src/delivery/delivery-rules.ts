import { ENDPOINT_DISABLED_ERROR, type WebhookRegistrationDocument, type WebhookType } from '@novee/shared';

export type DeliveryDecision =
  | { action: 'skip' }
  | { action: 'reject'; reason: string }
  /** Not sent: recorded as a final failure (kept for recovery), e.g. while the endpoint is disabled. */
  | { action: 'fail'; reason: string }
  | { action: 'deliver'; registration: WebhookRegistrationDocument };

/**
 * SPEC delivery rules: no webhook -> skip silently; TEST always goes; any other type must be subscribed.
 * A disabled endpoint is sent nothing: its events fail at once ("endpoint disabled").
 */
export function decideDelivery(
  projectId: string,
  webhookType: WebhookType,
  registration: WebhookRegistrationDocument | null,
): DeliveryDecision {
  if (!registration) return { action: 'skip' };
  if (webhookType !== 'TEST' && !registration.types.includes(webhookType)) {
    return { action: 'reject', reason: `Project ${projectId} has not registered a webhook for event: ${webhookType}` };
  }
  if (registration.status === 'disabled') return { action: 'fail', reason: ENDPOINT_DISABLED_ERROR };
  return { action: 'deliver', registration };
}
