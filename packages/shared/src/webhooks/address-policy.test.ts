import type { LookupAddress } from 'node:dns';
import { forbiddenAddressReason, guardedLookup } from './address-policy';

const strict = { allowLoopback: false };

describe('forbiddenAddressReason (SSRF corpus)', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.255.0.9', 'loopback'],
    ['::1', 'loopback'],
    ['10.0.0.1', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.254', 'private'],
    ['192.168.1.10', 'private'],
    ['169.254.169.254', 'linkLocal'], // cloud metadata
    ['fe80::1', 'linkLocal'],
    ['fd00:ec2::254', 'uniqueLocal'], // AWS metadata over IPv6
    ['100.100.100.200', 'carrierGradeNat'], // Alibaba metadata
    ['0.0.0.0', 'unspecified'],
    ['255.255.255.255', 'broadcast'],
    ['224.0.0.1', 'multicast'],
    ['::ffff:10.0.0.1', 'private'], // IPv4-mapped IPv6
    ['::ffff:127.0.0.1', 'loopback'],
    ['2002:a00:1::', '6to4'],
    ['::7f00:1', 'ipv4Compatible'], // IPv4-compatible ::127.0.0.1
    ['::a9fe:a9fe', 'ipv4Compatible'],
    ['64:ff9b::a00:1', 'nat64'],
    ['64:ff9b:1::7f00:1', 'nat64'],
    ['2001:0:4136:e378:8000:63bf:3fff:fdd2', 'teredo'],
    ['2001:db8::1', 'reserved'],
    ['3fff::1', 'reserved'],
    ['fec0::1', 'deprecatedSiteLocal'],
    ['4000::1', 'nonGlobalIpv6'],
    ['::ffff:0:a00:1', 'ipv4Translated'],
    ['::', 'unspecified'],
  ])('refuses %s (%s)', (ip, range) => {
    expect(forbiddenAddressReason(ip, strict)).toBe(`${ip} is a ${range} address`);
  });

  it.each(['8.8.8.8', '172.32.0.1', '192.169.0.1', '2606:4700:4700::1111', '::ffff:8.8.8.8'])('allows public %s', (ip) => {
    expect(forbiddenAddressReason(ip, strict)).toBeNull();
  });

  it('allows loopback, and only loopback, when the dev/test setting is on', () => {
    const dev = { allowLoopback: true };
    expect(forbiddenAddressReason('127.0.0.1', dev)).toBeNull();
    expect(forbiddenAddressReason('::1', dev)).toBeNull();
    expect(forbiddenAddressReason('10.0.0.1', dev)).not.toBeNull();
    expect(forbiddenAddressReason('169.254.169.254', dev)).not.toBeNull();
  });
});

describe('guardedLookup', () => {
  const fakeDns = (answers: Record<string, string[]>) =>
    ((host: string, _options: unknown, callback: (e: Error | null, a: LookupAddress[]) => void) => {
      const found = answers[host];
      if (!found) return callback(Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' }), []);
      callback(
        null,
        found.map((address) => ({ address, family: address.includes(':') ? 6 : 4 })),
      );
    }) as never;
  const resolve = (lookup: ReturnType<typeof guardedLookup>, host: string, all = false) =>
    new Promise<{ error: NodeJS.ErrnoException | null; address: unknown }>((done) =>
      lookup(host, { all }, (error, address) => done({ error, address })),
    );

  const lookup = guardedLookup(
    strict,
    fakeDns({
      'hooks.example.com': ['93.184.216.34'],
      'rebind.example.com': ['93.184.216.34', '10.0.0.7'],
      'metadata.example.com': ['169.254.169.254'],
      'v6.example.com': ['fd12::1'],
      'compat.example.com': ['::7f00:1'],
      'nat64.example.com': ['64:ff9b::a9fe:a9fe'],
    }),
  );

  it('passes public answers through, in both callback shapes', async () => {
    expect(await resolve(lookup, 'hooks.example.com')).toEqual({ error: null, address: '93.184.216.34' });
    expect((await resolve(lookup, 'hooks.example.com', true)).address).toEqual([{ address: '93.184.216.34', family: 4 }]);
  });

  it.each(['rebind.example.com', 'metadata.example.com', 'v6.example.com', 'compat.example.com', 'nat64.example.com'])(
    'refuses %s, which resolves to a non-public address',
    async (host) => {
      const { error } = await resolve(lookup, host);
      expect(error?.code).toBe('EBLOCKEDADDRESS');
      expect(error?.message).toMatch(new RegExp(`^blocked: ${host} resolves to`));
    },
  );

  it('passes DNS errors through', async () => {
    expect((await resolve(lookup, 'nowhere.example.com')).error?.code).toBe('ENOTFOUND');
  });
});
