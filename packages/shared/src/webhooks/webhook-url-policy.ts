import { lookup as dnsLookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { addressRange, forbiddenAddressReason } from './address-policy';
import { DEFAULT_PORT_ALLOW_LIST, describePortAllowList, effectivePort, isPortAllowed, type PortAllowList } from './port-policy';

export interface WebhookUrlPolicy {
  /** Dev/test only: accept loopback targets (and http:// for them). */
  allowHttpLoopback: boolean;
  /** Ports a webhook may use (WEBHOOK_ALLOWED_PORTS); default 443 and 1024-65535. */
  allowedPorts?: PortAllowList;
}

/** The host part of a URL as an address or name ([::1] -> ::1). */
export const urlHostname = (url: URL) => url.hostname.replace(/^\[(.*)\]$/, '$1');

/**
 * Checks that need no network: a valid https URL without credentials, on an allowed port; and an IP-literal
 * host must be a public address. Returns why the URL is not acceptable (naming the field), or null.
 */
export function checkWebhookUrl(rawUrl: string, policy: WebhookUrlPolicy): string | null {
  let url: URL;
  try {
    url = new URL(rawUrl);
  } catch {
    return 'url must be a valid URL';
  }
  if (url.username || url.password) return 'url must not contain credentials';
  const host = urlHostname(url);
  const loopbackAllowed = policy.allowHttpLoopback && (host === 'localhost' || addressRange(host) === 'loopback');
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopbackAllowed)) return 'url must use https';
  const allowedPorts = policy.allowedPorts ?? DEFAULT_PORT_ALLOW_LIST;
  const port = effectivePort(url);
  if (!isPortAllowed(port, allowedPorts)) {
    return `url port ${port} is not allowed (allowed: ${describePortAllowList(allowedPorts)})`;
  }
  if (isIP(host)) {
    const reason = forbiddenAddressReason(host, { allowLoopback: policy.allowHttpLoopback });
    if (reason) return `url must point to a public address (${reason})`;
  }
  return null;
}

/**
 * The registration-time check: checkWebhookUrl, plus the host's DNS answers must all be public. A name that
 * does not resolve (yet) is accepted; the delivery-time guard checks every connection anyway.
 */
export async function checkWebhookTarget(
  rawUrl: string,
  policy: WebhookUrlPolicy,
  lookup: (host: string) => Promise<Array<{ address: string }>> = (host) => dnsLookup(host, { all: true }),
): Promise<string | null> {
  const problem = checkWebhookUrl(rawUrl, policy);
  if (problem) return problem;
  const host = urlHostname(new URL(rawUrl));
  if (isIP(host)) return null;
  const addresses = await lookup(host).catch(() => []);
  for (const { address } of addresses) {
    const reason = forbiddenAddressReason(address, { allowLoopback: policy.allowHttpLoopback });
    if (reason) return `url host ${host} resolves to a non-public address (${reason})`;
  }
  return null;
}
