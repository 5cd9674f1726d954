import { signingSecrets } from './registration';

describe('signingSecrets', () => {
  const now = 1_700_000_000_000;
  it('is the current secret alone when there is no previous one', () => {
    expect(signingSecrets({ secret: 'whsec_new' }, now)).toEqual(['whsec_new']);
  });
  it('adds the previous secret while its window is open, and drops it from expiresAt on', () => {
    const registration = { secret: 'whsec_new', previousSecret: { secret: 'whsec_old', expiresAt: new Date(now + 1) } };
    expect(signingSecrets(registration, now)).toEqual(['whsec_new', 'whsec_old']);
    expect(signingSecrets(registration, now + 1)).toEqual(['whsec_new']);
  });
});
