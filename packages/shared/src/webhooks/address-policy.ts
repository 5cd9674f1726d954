import { lookup as dnsLookup, type LookupAddress, type LookupAllOptions, type LookupOptions } from 'node:dns';
import ipaddr from 'ipaddr.js';

export interface AddressPolicy {
  /** Dev/test only (WEBHOOK_ALLOW_HTTP_LOOPBACK): loopback targets are allowed. Nothing else private ever is. */
  allowLoopback: boolean;
}

/**
 * SSRF guard: why delivering to this IP is refused, or null when it is a public unicast address. Refused:
 * loopback, private (10/8, 172.16/12, 192.168/16, fc00::/7), link-local (169.254/16 incl. the cloud metadata
 * 169.254.169.254, fe80::/10), carrier-grade NAT (incl. 100.100.100.200), unspecified, broadcast, multicast,
 * reserved and IPv6 transition ranges; IPv4-mapped IPv6 is judged as the IPv4 address it carries.
 */
export function forbiddenAddressReason(ip: string, policy: AddressPolicy): string | null {
  const range = addressRange(ip);
  if (range === null) return `${ip} is not an IP address`;
  if (range === 'unicast') return null;
  if (range === 'loopback' && policy.allowLoopback) return null;
  return `${ip} is a ${range} address`;
}

/** ipaddr.js's range name ('unicast', 'loopback', 'private', 'linkLocal', ...), or null for a non-IP. */
export function addressRange(ip: string): string | null {
  if (!ipaddr.isValid(ip)) return null;
  let address = ipaddr.parse(ip);
  if (address.kind() === 'ipv6' && (address as ipaddr.IPv6).isIPv4MappedAddress()) {
    address = (address as ipaddr.IPv6).toIPv4Address();
  }
  return address.range();
}

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * A drop-in for dns.lookup that refuses forbidden addresses. Given to the HTTP client, it checks the address
 * actually connected to, so a hostname that later re-resolves to a private address (DNS rebinding) is caught.
 */
export function guardedLookup(policy: AddressPolicy, lookup: typeof dnsLookup = dnsLookup) {
  return (hostname: string, options: LookupOptions, callback: LookupCallback): void => {
    lookup(hostname, { ...options, all: true } as LookupAllOptions, (error, addresses) => {
      if (error) return callback(error, []);
      for (const { address } of addresses) {
        const reason = forbiddenAddressReason(address, policy);
        if (reason) {
          const blocked: NodeJS.ErrnoException = new Error(`blocked: ${hostname} resolves to ${reason}`);
          blocked.code = 'EBLOCKEDADDRESS';
          return callback(blocked, []);
        }
      }
      if (options.all) return callback(null, addresses);
      callback(null, addresses[0]!.address, addresses[0]!.family);
    });
  };
}
