import { checkWebhookUrl } from './webhook-url-policy';

const strict = { allowHttpLoopback: false };
const dev = { allowHttpLoopback: true };

describe('checkWebhookUrl', () => {
  it('accepts https URLs', () => {
    expect(checkWebhookUrl('https://hooks.example.com/novee?x=1', strict)).toBeNull();
  });

  it('refuses non-https schemes and non-URLs, naming the field', () => {
    expect(checkWebhookUrl('http://hooks.example.com/novee', strict)).toBe('url must use https');
    expect(checkWebhookUrl('ftp://hooks.example.com/', strict)).toBe('url must use https');
    expect(checkWebhookUrl('not a url', strict)).toBe('url must be a valid URL');
    expect(checkWebhookUrl('https://user:pw@hooks.example.com/', strict)).toBe('url must not contain credentials');
  });

  it('allows http on loopback only when the dev/test setting is on', () => {
    expect(checkWebhookUrl('http://127.0.0.1:8080/hook', strict)).toBe('url must use https');
    expect(checkWebhookUrl('http://127.0.0.1:8080/hook', dev)).toBeNull();
    expect(checkWebhookUrl('http://localhost/hook', dev)).toBeNull();
    expect(checkWebhookUrl('http://[::1]:9000/hook', dev)).toBeNull();
    expect(checkWebhookUrl('http://hooks.example.com/hook', dev)).toBe('url must use https');
    expect(checkWebhookUrl('http://127.0.0.1.example.com/hook', dev)).toBe('url must use https');
  });
});
