import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { round } from './stats';

/**
 * npm run bench:summary [-- N]: the ranges (min-max) of every row over the newest N (default 3) results in
 * bench/results/ that ran with production durability, as the Markdown table README's Performance section
 * quotes. Rows whose goal is written in `GOALS` get a column saying whether every run met it.
 */
type Result = { date: string; durability?: { redis: string; mongodb: string }; machine: { cpus: number; cpuModel?: string }; rows: Row[] };
type Row = { measure: string; value: number; unit: string };

/** Issue 14's goals, by row: the most (or, for rates, the least) every run must show. */
const GOALS: Record<string, { atMost?: number; atLeast?: number }> = {
  'f) POST /events -> receiver p50': { atMost: 5 },
  'f) POST /events -> receiver p99': { atMost: 20 },
  'd) POST /events p99 at 1000/s': { atMost: 9.9 }, // under 10
  'c) deliveries, 1 worker(s), 1 endpoint': { atLeast: 1_000 },
  'g) FALL POST /events -> receiver p99, vitals draining': { atMost: 50 },
  '(c) / (b3), 1 worker, 20 endpoints': { atLeast: 80 },
  'e) B p99 while A hangs / A idle': { atMost: 1.5 },
};

const dir = join(__dirname, '..', 'results');
const count = Number(process.argv[2] ?? 3);
const results = readdirSync(dir)
  .filter((name) => name.endsWith('.json'))
  .sort()
  .map((name) => JSON.parse(readFileSync(join(dir, name), 'utf8')) as Result)
  .filter((result) => result.durability?.redis.includes('append-only'))
  .slice(-count);
if (results.length === 0) throw new Error('no durable bench results in bench/results: run npm run bench');

const measures = [...new Set(results.flatMap((result) => result.rows.map((row) => row.measure)))];
console.log(`${results.length} runs: ${results.map((r) => r.date).join(', ')}`);
console.log(
  `machine: ${results[0]!.machine.cpus} x ${results[0]!.machine.cpuModel ?? '?'}; ${results[0]!.durability!.redis}; ${results[0]!.durability!.mongodb}\n`,
);
console.log('| measure | range | unit | goal |');
console.log('|---|---|---|---|');
for (const measure of measures) {
  const rows = results.flatMap((result) => result.rows.filter((row) => row.measure === measure));
  const values = rows.map((row) => row.value);
  const [min, max] = [Math.min(...values), Math.max(...values)];
  const goal = GOALS[measure];
  const met =
    goal && values.every((v) => (goal.atMost === undefined || v <= goal.atMost) && (goal.atLeast === undefined || v >= goal.atLeast));
  const goalText = goal ? `${goal.atMost !== undefined ? `<= ${goal.atMost}` : `>= ${goal.atLeast}`}: ${met ? 'met' : 'missed'}` : '';
  console.log(`| ${measure} | ${min === max ? round(min) : `${round(min)}-${round(max)}`} | ${rows[0]!.unit} | ${goalText} |`);
}
