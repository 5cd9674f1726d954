import { describe, expect, it } from '@jest/globals';
import type { Request } from 'express';
import { VerifiedTokenCache } from './verified-token-cache';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const inSeconds = (s: number) => Math.floor(Date.now() / 1000) + s;

function request(token: string, payload: Record<string, unknown> = {}, headers: Record<string, string> = {}): Request {
  return {
    headers: { authorization: `Bearer ${token}`, ...headers },
    auth: { token, header: { alg: 'RS256' }, payload: { sub: 'pipeline', exp: inSeconds(3600), ...payload } },
  } as unknown as Request;
}
const unverified = (token: string, headers: Record<string, string> = {}) =>
  ({ headers: { authorization: `Bearer ${token}`, ...headers } }) as unknown as Request;

describe('VerifiedTokenCache', () => {
  const cache = () => new VerifiedTokenCache({ maxTokens: 100, maxAgeMs: 60_000 });

  it('answers for the very same token once it was verified, and for no other', () => {
    const tokens = cache();
    expect(tokens.lookup(unverified('aaa.bbb.ccc'))).toBeUndefined();
    tokens.remember(request('aaa.bbb.ccc'));
    expect(tokens.lookup(unverified('aaa.bbb.ccc'))?.payload.sub).toBe('pipeline');
    expect(tokens.lookup(unverified('aaa.bbb.ccd'))).toBeUndefined(); // another signature
    expect(tokens.lookup({ headers: { authorization: 'Basic aaa.bbb.ccc' } } as unknown as Request)).toBeUndefined();
  });

  it('never answers past the token expiry, nor past maxAgeMs', async () => {
    const tokens = new VerifiedTokenCache({ maxTokens: 100, maxAgeMs: 40 });
    tokens.remember(request('expired.x.y', { exp: inSeconds(-1) }));
    expect(tokens.lookup(unverified('expired.x.y'))).toBeUndefined();
    tokens.remember(request('no.exp.z', { exp: undefined }));
    expect(tokens.lookup(unverified('no.exp.z'))).toBeUndefined();
    tokens.remember(request('short.x.y'));
    expect(tokens.lookup(unverified('short.x.y'))).toBeDefined();
    await sleep(80);
    expect(tokens.lookup(unverified('short.x.y'))).toBeUndefined();
  });

  it('never caches sender-constrained tokens (cnf), and a DPoP request is always verified in full', () => {
    const tokens = cache();
    tokens.remember(request('bound.x.y', { cnf: { jkt: 'thumbprint' } }));
    expect(tokens.lookup(unverified('bound.x.y'))).toBeUndefined();
    tokens.remember(request('plain.x.y'));
    expect(tokens.lookup(unverified('plain.x.y', { dpop: 'proof' }))).toBeUndefined();
  });
});
