/**
 * The sandbox carrier's inventory: deterministic and realistic, built from fictional 555-01XX
 * lines (reserved for fiction in North America, so no real subscriber is ever shown) in a dozen
 * US and Canadian area codes, plus toll-free.
 */
import { lookupAreaCode } from '../core/area-codes.js';
import type { AvailableNumber, Feature, NumberType } from '../core/types.js';

export const SANDBOX_AREA_CODES = [
  '415',
  '212',
  '312',
  '213',
  '512',
  '206',
  '305',
  '617',
  '303',
  '404',
  '416',
  '604',
  '514',
] as const;
export const SANDBOX_TOLL_FREE = ['800', '888', '844'] as const;

/** Numbers the sandbox account already owns: `sync` imports them into the pool. */
export const SANDBOX_OWNED = [
  '+14155550142',
  '+12125550117',
  '+13125550123',
  '+14165550150',
  '+18005550199',
] as const;

function offer(code: string, line: number, numberType: NumberType): AvailableNumber {
  const place = lookupAreaCode(code);
  const country = place?.country ?? 'US';
  const features: Feature[] = line % 10 === 7 ? ['voice'] : ['voice', 'sms', 'mms'];
  let monthly: number;
  let upfront: number;
  if (numberType === 'toll-free') {
    monthly = 2.0;
    upfront = 1.0;
  } else if (country === 'CA') {
    monthly = line % 4 === 3 ? 1.65 : 1.5;
    upfront = 1.5;
  } else {
    monthly = line % 4 === 3 ? 1.15 : 1.0;
    upfront = 1.0;
  }
  return {
    e164: `+1${code}55501${String(line).padStart(2, '0')}`,
    carrier: 'sandbox',
    country,
    region: place?.region ?? null,
    locality: place?.city ?? null,
    numberType,
    features: numberType === 'toll-free' ? ['voice', 'sms'] : features,
    monthlyCost: monthly,
    upfrontCost: upfront,
    currency: 'USD',
  };
}

let cache: Map<string, AvailableNumber> | undefined;

/** Every number the sandbox could ever sell or own, by E.164. */
export function sandboxCatalogue(): Map<string, AvailableNumber> {
  if (cache) return cache;
  cache = new Map();
  for (const code of SANDBOX_AREA_CODES) {
    for (let line = 0; line < 100; line++) {
      const entry = offer(code, line, 'local');
      cache.set(entry.e164, entry);
    }
  }
  for (const code of SANDBOX_TOLL_FREE) {
    for (let line = 0; line < 100; line++) {
      const entry = offer(code, line, 'toll-free');
      cache.set(entry.e164, entry);
    }
  }
  return cache;
}
