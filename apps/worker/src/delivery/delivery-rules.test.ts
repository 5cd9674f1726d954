import type { WebhookRegistrationDocument } from '@novee/shared';
import { decideDelivery } from './delivery-rules';

const registration = (types: WebhookRegistrationDocument['types']): WebhookRegistrationDocument => ({
  projectId: 'p1',
  url: 'https://hooks.example.com/',
  types,
  secret: 'whsec_x',
  createdAt: new Date(),
  updatedAt: new Date(),
});

describe('decideDelivery', () => {
  it('skips silently when the project has no webhook', () => {
    expect(decideDelivery('p1', 'FALL_DETECTION', null)).toEqual({ action: 'skip' });
    expect(decideDelivery('p1', 'TEST', null)).toEqual({ action: 'skip' });
  });

  it('delivers subscribed types', () => {
    const reg = registration(['FALL_DETECTION']);
    expect(decideDelivery('p1', 'FALL_DETECTION', reg)).toEqual({ action: 'deliver', registration: reg });
  });

  it('rejects a type the project did not subscribe to, with the documented message', () => {
    expect(decideDelivery('p1', 'VITAL_THRESHOLD', registration(['FALL_DETECTION']))).toEqual({
      action: 'reject',
      reason: 'Project p1 has not registered a webhook for event: VITAL_THRESHOLD',
    });
  });

  it('sends nothing to a disabled endpoint: the event fails with "endpoint disabled"', () => {
    const disabled = { ...registration(['FALL_DETECTION']), status: 'disabled' as const };
    expect(decideDelivery('p1', 'FALL_DETECTION', disabled)).toEqual({ action: 'fail', reason: 'endpoint disabled' });
    expect(decideDelivery('p1', 'TEST', disabled)).toEqual({ action: 'fail', reason: 'endpoint disabled' });
  });

  it('delivers TEST whatever types says', () => {
    expect(decideDelivery('p1', 'TEST', registration(['VITAL_THRESHOLD'])).action).toBe('deliver');
  });
});
