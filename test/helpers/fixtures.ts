/**
 * Shared test data for the store tests: the time they start from (a whole minute, so values
 * round-trip through timestamptz unchanged), a sandbox quote valid for 30 minutes from it, and a
 * number as a carrier's account lists it to a sync.
 */
import type { SyncRow } from '../../src/core/ports.js';
import type { Quote } from '../../src/core/types.js';

export const TEST_NOW = new Date(Math.floor(Date.now() / 60_000) * 60_000);

/** `minutes` after TEST_NOW. */
export const minutesLater = (minutes: number) => new Date(TEST_NOW.getTime() + minutes * 60_000);

/** A sandbox quote for `e164` in San Francisco, $1 a month, valid 30 minutes; override any field. */
export function sandboxQuote(id: string, e164: string, overrides: Partial<Quote> = {}): Quote {
  return {
    id,
    e164,
    carrier: 'sandbox',
    carrierAccount: null,
    country: 'US',
    region: 'CA',
    locality: 'San Francisco',
    numberType: 'local',
    features: ['voice'],
    monthlyCost: 1,
    upfrontCost: 1,
    currency: 'USD',
    sandbox: true,
    createdAt: TEST_NOW,
    expiresAt: minutesLater(30),
    ...overrides,
  };
}

/** A number as a sync reads it from the carrier: San Francisco, voice, $1 a month; override any field. */
export function syncRow(e164: string, overrides: Partial<SyncRow> = {}): SyncRow {
  return {
    e164,
    carrierRef: `ref-${e164}`,
    carrierAccount: null,
    country: 'US',
    region: 'CA',
    locality: 'San Francisco',
    numberType: 'local',
    features: ['voice'],
    monthlyCost: 1,
    upfrontCost: 1,
    currency: 'USD',
    ...overrides,
  };
}
