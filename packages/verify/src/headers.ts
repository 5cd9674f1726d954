/** Node's IncomingHttpHeaders, a plain object in any case, or a Fetch API Headers instance. */
export type HeaderBag = Record<string, string | string[] | undefined> | { get(name: string): string | null };

/** One header's value, whatever the casing of its name; the first value if it was sent more than once. */
export function readHeader(headers: HeaderBag, name: string): string | undefined {
  if (typeof headers.get === 'function') return (headers as { get(n: string): string | null }).get(name) ?? undefined;
  const bag = headers as Record<string, string | string[] | undefined>;
  const wanted = name.toLowerCase();
  const key = Object.keys(bag).find((k) => k.toLowerCase() === wanted);
  const value = key === undefined ? undefined : bag[key];
  return Array.isArray(value) ? value[0] : value;
}
