import { createHash } from 'node:crypto';

/** One receiver endpoint = one webhook URL; hashed so Redis keys hold no customer URL (paths may carry tokens). */
export function endpointKey(url: string): string {
  return createHash('sha256').update(url).digest('hex').slice(0, 32);
}
