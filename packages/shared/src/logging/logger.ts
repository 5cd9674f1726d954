import winston from 'winston';
import { CoalescedStdout } from './coalesced-stdout';

/** Keys whose values never reach a log line, wherever they appear in the metadata. */
const SENSITIVE_KEY = /secret|authorization|token|password|cookie/i;

function redact(value: unknown, depth = 0): unknown {
  if (depth > 5 || value === null || typeof value !== 'object') return value;
  if (value instanceof Error) return { name: value.name, message: value.message };
  if (Array.isArray(value)) return value.map((item) => redact(item, depth + 1));
  return Object.fromEntries(
    Object.entries(value).map(([key, inner]) => [key, SENSITIVE_KEY.test(key) ? '[redacted]' : redact(inner, depth + 1)]),
  );
}

const redactSensitive = winston.format((info) => {
  for (const key of Object.keys(info)) {
    info[key] = SENSITIVE_KEY.test(key) ? '[redacted]' : redact(info[key]);
  }
  return info;
});

export type Logger = winston.Logger;

/** One JSON object per line on stdout (written a few ms of lines at a time), with the service name and a timestamp, secrets redacted. */
export function createLogger(service: string, level = 'info'): Logger {
  return winston.createLogger({
    level,
    defaultMeta: { service },
    format: winston.format.combine(redactSensitive(), winston.format.timestamp(), winston.format.json()),
    transports: [new CoalescedStdout()],
  });
}
