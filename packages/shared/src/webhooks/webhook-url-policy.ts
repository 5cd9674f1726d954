import { isIP } from 'node:net';

export interface WebhookUrlPolicy {
  /** Dev/test only: accept http:// URLs whose host is a loopback address or localhost. */
  allowHttpLoopback: boolean;
}

const LOOPBACK_HOSTNAMES = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);

function isLoopbackHost(hostname: string): boolean {
  if (LOOPBACK_HOSTNAMES.has(hostname)) return true;
  return isIP(hostname) === 4 && hostname.startsWith('127.');
}

/** Returns why a webhook URL is not acceptable, or null when it is. Messages name the field. */
export function checkWebhookUrl(rawUrl: string, policy: WebhookUrlPolicy): string | null {
  let url: URL;
  try {
    url = new URL(rawUrl);
  } catch {
    return 'url must be a valid URL';
  }
  if (url.username || url.password) return 'url must not contain credentials';
  if (url.protocol === 'https:') return null;
  if (url.protocol === 'http:' && policy.allowHttpLoopback && isLoopbackHost(url.hostname)) return null;
  return 'url must use https';
}
