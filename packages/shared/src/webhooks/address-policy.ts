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
 * reserved and documentation ranges; IPv6 outside global unicast (2000::/3); and every IPv6 form that embeds an
 * IPv4 address a gateway may translate to (IPv4-compatible ::/96, NAT64 64:ff9b::/96 and 64:ff9b:1::/48, 6to4
 * 2002::/16, Teredo 2001::/32). IPv4-mapped IPv6 (::ffff:0:0/96) is judged as the IPv4 address it carries.
 */
export function forbiddenAddressReason(ip: string, policy: AddressPolicy): string | null {
  const range = addressRange(ip);
  if (range === null) return `${ip} is not an IP address`;
  if (range === 'unicast') return null;
  if (range === 'loopback' && policy.allowLoopback) return null;
  return `${ip} is a ${range} address`;
}

/** IPv6 ranges ipaddr.js calls 'unicast' (or names obscurely) that must never be a webhook target. */
const IPV6_REFUSED: Array<[range: string, cidr: [ipaddr.IPv6, number]]> = (
  [
    ['ipv4Compatible', '::/96'], // deprecated IPv4-compatible form: ::7f00:1 is 127.0.0.1 to some stacks
    ['nat64', '64:ff9b::/96'], // well-known NAT64 prefix: the gateway connects to the embedded IPv4 address
    ['nat64', '64:ff9b:1::/48'], // local-use NAT64 (RFC 8215)
    ['ipv4Translated', '::ffff:0:0:0/96'], // SIIT (RFC 6145)
    ['6to4', '2002::/16'],
    ['teredo', '2001::/32'],
    ['reserved', '2001::/23'], // IETF protocol assignments (benchmarking, ORCHID, ...)
    ['reserved', '2001:db8::/32'], // documentation
    ['reserved', '3fff::/20'], // documentation (RFC 9637)
  ] as const
).map(([range, cidr]) => [range, ipaddr.IPv6.parseCIDR(cidr)]);
const GLOBAL_UNICAST_V6 = ipaddr.IPv6.parseCIDR('2000::/3');

/** ipaddr.js's range name ('unicast', 'loopback', 'private', 'linkLocal', ...) refined for IPv6, or null for a non-IP. */
export function addressRange(ip: string): string | null {
  if (!ipaddr.isValid(ip)) return null;
  const address = ipaddr.parse(ip);
  if (address.kind() === 'ipv4') return address.range();
  const v6 = address as ipaddr.IPv6;
  if (v6.isIPv4MappedAddress()) return v6.toIPv4Address().range();
  const named = v6.range();
  if (named !== 'unicast' && named !== 'rfc6052' && named !== 'rfc6145') return named; // loopback, linkLocal, ...
  for (const [range, cidr] of IPV6_REFUSED) if (v6.match(cidr)) return range;
  return v6.match(GLOBAL_UNICAST_V6) ? 'unicast' : 'nonGlobalIpv6';
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
