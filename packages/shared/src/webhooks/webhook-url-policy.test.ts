import { parsePortAllowList } from './port-policy';
import { checkWebhookTarget, checkWebhookUrl } from './webhook-url-policy';

const strict = { allowHttpLoopback: false };
const dev = { allowHttpLoopback: true };

describe('checkWebhookUrl', () => {
  it('accepts https URLs', () => {
    expect(checkWebhookUrl('https://hooks.example.com/novee?x=1', strict)).toBeNull();
    expect(checkWebhookUrl('https://93.184.216.34/novee', strict)).toBeNull();
  });

  it('refuses non-https schemes, credentials and non-URLs, naming the field', () => {
    expect(checkWebhookUrl('http://hooks.example.com/novee', strict)).toBe('url must use https');
    expect(checkWebhookUrl('ftp://hooks.example.com/', strict)).toBe('url must use https');
    expect(checkWebhookUrl('not a url', strict)).toBe('url must be a valid URL');
    expect(checkWebhookUrl('https://user:pw@hooks.example.com/', strict)).toBe('url must not contain credentials');
  });

  it.each([
    'https://127.0.0.1/hook',
    'https://[::1]/hook',
    'https://10.1.2.3/hook',
    'https://172.16.0.1/hook',
    'https://192.168.0.1/hook',
    'https://169.254.169.254/latest/meta-data/',
    'https://[::ffff:169.254.169.254]/',
    'https://0.0.0.0/',
    'https://[::7f00:1]/', // IPv4-compatible ::127.0.0.1
    'https://[64:ff9b::a9fe:a9fe]/', // NAT64 of 169.254.169.254
  ])('refuses the non-public address in %s', (url) => {
    expect(checkWebhookUrl(url, strict)).toMatch(/^url must point to a public address \(/);
  });

  it('allows loopback (http too) only when the dev/test setting is on', () => {
    expect(checkWebhookUrl('http://127.0.0.1:8080/hook', strict)).toBe('url must use https');
    expect(checkWebhookUrl('http://127.0.0.1:8080/hook', dev)).toBeNull();
    expect(checkWebhookUrl('http://localhost:3002/hook', dev)).toBeNull();
    expect(checkWebhookUrl('http://localhost/hook', dev)).toBe('url port 80 is not allowed (allowed: 443,1024-65535)');
    expect(checkWebhookUrl('http://[::1]:9000/hook', dev)).toBeNull();
    expect(checkWebhookUrl('http://hooks.example.com/hook', dev)).toBe('url must use https');
    expect(checkWebhookUrl('http://127.0.0.1.example.com/hook', dev)).toBe('url must use https');
    expect(checkWebhookUrl('https://10.0.0.1/hook', dev)).toMatch(/private address/);
  });
});

describe('checkWebhookUrl: ports (SSRF corpus)', () => {
  it.each([
    'https://hooks.example.com:22/',
    'https://hooks.example.com:25/',
    'https://hooks.example.com:80/',
    'https://hooks.example.com:1023/',
    'https://93.184.216.34:6379/'.replace('6379', '111'),
  ])('refuses %s: a privileged port other than 443', (url) => {
    expect(checkWebhookUrl(url, strict)).toMatch(/^url port \d+ is not allowed \(allowed: 443,1024-65535\)$/);
  });

  it.each([
    'https://hooks.example.com/',
    'https://hooks.example.com:443/',
    'https://hooks.example.com:1024/',
    'https://hooks.example.com:8443/',
    'https://hooks.example.com:65535/',
  ])('accepts %s by default', (url) => {
    expect(checkWebhookUrl(url, strict)).toBeNull();
  });

  it('honours a configured allow-list', () => {
    const only443and8443 = { ...strict, allowedPorts: parsePortAllowList('443, 8443') };
    expect(checkWebhookUrl('https://hooks.example.com:8443/', only443and8443)).toBeNull();
    expect(checkWebhookUrl('https://hooks.example.com/', only443and8443)).toBeNull();
    expect(checkWebhookUrl('https://hooks.example.com:9000/', only443and8443)).toBe('url port 9000 is not allowed (allowed: 443,8443)');
  });

  it('parses allow-lists and names a bad entry', () => {
    expect(parsePortAllowList('443,1024-65535')).toEqual([
      [443, 443],
      [1024, 65535],
    ]);
    expect(() => parsePortAllowList('443,http')).toThrow('"http" is not a port');
    expect(() => parsePortAllowList('0')).toThrow('"0" is not a port');
    expect(() => parsePortAllowList('2000-1000')).toThrow('"2000-1000"');
    expect(() => parsePortAllowList('')).toThrow('at least one port');
  });
});

describe('checkWebhookUrl: IPv6 forms that embed an IPv4 address (SSRF corpus)', () => {
  it.each([
    ['https://[::7f00:1]/', 'ipv4Compatible'], // ::127.0.0.1
    ['https://[::a00:1]/', 'ipv4Compatible'], // ::10.0.0.1
    ['https://[::a9fe:a9fe]/', 'ipv4Compatible'], // ::169.254.169.254
    ['https://[::808:808]/', 'ipv4Compatible'], // even a public IPv4 inside: the form itself is refused
    ['https://[64:ff9b::7f00:1]/', 'nat64'],
    ['https://[64:ff9b::a9fe:a9fe]/', 'nat64'],
    ['https://[64:ff9b:1::a00:1]/', 'nat64'],
    ['https://[2002:7f00:1::]/', '6to4'],
    ['https://[2002:a9fe:a9fe::1]/', '6to4'],
    ['https://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/', 'teredo'],
    ['https://[::ffff:7f00:1]/', 'loopback'], // IPv4-mapped, judged as 127.0.0.1
    ['https://[::ffff:0:a00:1]/', 'ipv4Translated'], // SIIT,
    ['https://[2001:db8::1]/', 'reserved'],
    ['https://[100::1]/', 'discard'],
    ['https://[fec0::1]/', 'deprecatedSiteLocal'],
    ['https://[4000::1]/', 'nonGlobalIpv6'], // outside 2000::/3
  ])('refuses %s (%s)', (url, range) => {
    expect(checkWebhookUrl(url, strict)).toMatch(new RegExp(`^url must point to a public address \\(.+ is a ${range} address\\)$`));
  });

  it('still accepts public IPv6', () => {
    expect(checkWebhookUrl('https://[2606:4700:4700::1111]/', strict)).toBeNull();
  });
});

describe('checkWebhookTarget (registration: also checks what the host resolves to)', () => {
  const dns = (answers: Record<string, string[]>) => (host: string) => {
    const addresses = answers[host];
    return addresses ? Promise.resolve(addresses.map((address) => ({ address }))) : Promise.reject(new Error('ENOTFOUND'));
  };
  const lookup = dns({
    'hooks.example.com': ['93.184.216.34'],
    'internal.example.com': ['10.0.0.5'],
    'metadata.example.com': ['93.184.216.34', '169.254.169.254'],
    localhost: ['127.0.0.1'],
    'compat.example.com': ['::a00:5'],
    'nat64.example.com': ['64:ff9b::a00:5'],
  });

  it('accepts public hosts and hosts that do not resolve yet', async () => {
    expect(await checkWebhookTarget('https://hooks.example.com/x', strict, lookup)).toBeNull();
    expect(await checkWebhookTarget('https://not-yet.example.com/x', strict, lookup)).toBeNull();
  });

  it('refuses hostnames that resolve to non-public addresses', async () => {
    expect(await checkWebhookTarget('https://internal.example.com/x', strict, lookup)).toBe(
      'url host internal.example.com resolves to a non-public address (10.0.0.5 is a private address)',
    );
    expect(await checkWebhookTarget('https://metadata.example.com/x', strict, lookup)).toMatch(/169\.254\.169\.254 is a linkLocal/);
    expect(await checkWebhookTarget('https://localhost/x', strict, lookup)).toMatch(/loopback/);
    expect(await checkWebhookTarget('https://localhost/x', dev, lookup)).toBeNull();
    expect(await checkWebhookTarget('https://compat.example.com/x', strict, lookup)).toMatch(/::a00:5 is a ipv4Compatible address/);
    expect(await checkWebhookTarget('https://nat64.example.com/x', strict, lookup)).toMatch(/64:ff9b::a00:5 is a nat64 address/);
  });
});
