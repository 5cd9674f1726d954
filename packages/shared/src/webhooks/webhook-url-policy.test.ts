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
  ])('refuses the non-public address in %s', (url) => {
    expect(checkWebhookUrl(url, strict)).toMatch(/^url must point to a public address \(/);
  });

  it('allows loopback (http too) only when the dev/test setting is on', () => {
    expect(checkWebhookUrl('http://127.0.0.1:8080/hook', strict)).toBe('url must use https');
    expect(checkWebhookUrl('http://127.0.0.1:8080/hook', dev)).toBeNull();
    expect(checkWebhookUrl('http://localhost/hook', dev)).toBeNull();
    expect(checkWebhookUrl('http://[::1]:9000/hook', dev)).toBeNull();
    expect(checkWebhookUrl('http://hooks.example.com/hook', dev)).toBe('url must use https');
    expect(checkWebhookUrl('http://127.0.0.1.example.com/hook', dev)).toBe('url must use https');
    expect(checkWebhookUrl('https://10.0.0.1/hook', dev)).toMatch(/private address/);
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
  });
});
