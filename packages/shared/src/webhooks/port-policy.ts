/**
 * Which TCP ports a webhook URL may name. An SSRF guard that only looks at addresses still lets a caller reach
 * a public host's SSH, SMTP or database port; by default only 443 and the unprivileged ports are allowed.
 */
export type PortAllowList = ReadonlyArray<readonly [from: number, to: number]>;

/** WEBHOOK_ALLOWED_PORTS default: https's port and the unprivileged range. */
export const DEFAULT_WEBHOOK_PORTS = '443,1024-65535';

/** Parse "443,8443,1024-65535" (single ports and inclusive ranges); throws naming the bad entry. */
export function parsePortAllowList(text: string): PortAllowList {
  const ranges = text
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean)
    .map((entry) => {
      const match = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(entry);
      const from = Number(match?.[1]);
      const to = Number(match?.[2] ?? match?.[1]);
      if (!match || from < 1 || to > 65535 || from > to) {
        throw new Error(`WEBHOOK_ALLOWED_PORTS: "${entry}" is not a port (1-65535) or a range like 1024-65535`);
      }
      return [from, to] as const;
    });
  if (ranges.length === 0) throw new Error('WEBHOOK_ALLOWED_PORTS must list at least one port');
  return ranges;
}

export const DEFAULT_PORT_ALLOW_LIST = parsePortAllowList(DEFAULT_WEBHOOK_PORTS);

export const isPortAllowed = (port: number, allowed: PortAllowList): boolean => allowed.some(([from, to]) => port >= from && port <= to);

export const describePortAllowList = (allowed: PortAllowList): string =>
  allowed.map(([from, to]) => (from === to ? String(from) : `${from}-${to}`)).join(',');

/** The port a URL connects to: its explicit port, else its scheme's default. */
export const effectivePort = (url: URL): number => (url.port ? Number(url.port) : url.protocol === 'http:' ? 80 : 443);
