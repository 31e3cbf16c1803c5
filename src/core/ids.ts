import { randomBytes } from 'node:crypto';
import type { Ids } from './ports.js';

// Crockford's base32: no I, L, O or U, so ids read aloud and typed by hand survive.
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

export function randomId(prefix: string, length: number): string {
  const bytes = randomBytes(length);
  let out = '';
  for (const byte of bytes) out += ALPHABET[byte % 32];
  return `${prefix}${out}`;
}

export const randomIds: Ids = {
  request: () => randomId('R-', 8),
  quote: () => randomId('Q-', 10),
  syncRun: () => randomId('S-', 10),
};
