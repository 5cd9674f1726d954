import type { WebhookRegistrationDocument, WebhookType } from '@novee/shared';

export type DeliveryDecision =
  { action: 'skip' } | { action: 'reject'; reason: string } | { action: 'deliver'; registration: WebhookRegistrationDocument };

/**
 * SPEC delivery rules: no webhook -> skip silently; TEST always goes; any other type must be subscribed.
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
  return { action: 'deliver', registration };
}
