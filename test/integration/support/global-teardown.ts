export default async function globalTeardown(): Promise<void> {
  const stops = (globalThis as { __noveeInfraStops?: Array<() => Promise<void>> }).__noveeInfraStops ?? [];
  await Promise.all(stops.map((stop) => stop()));
}
