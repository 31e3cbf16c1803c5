/**
 * Shared test data for the store tests: the time they start from (a whole minute, so values
 * round-trip through timestamptz unchanged), a sandbox quote valid for 30 minutes from it, a
 * number as a carrier's account lists it to a sync, an audit event, and a live MCP token record.
 */
import type { ApiToken, SyncRow } from '../../src/core/ports.js';
import type { AuditEvent, Quote } from '../../src/core/types.js';

export const TEST_NOW = new Date(Math.floor(Date.now() / 60_000) * 60_000);

/** `minutes` after TEST_NOW. */
export const minutesLater = (minutes: number) => new Date(TEST_NOW.getTime() + minutes * 60_000);

/** What a quote and a synced number say of the place and price: San Francisco, voice, $1 a month. */
const sanFranciscoVoice = () => ({
  carrierAccount: null,
  country: 'US',
  region: 'CA',
  locality: 'San Francisco',
  numberType: 'local' as const,
  features: ['voice' as const],
  monthlyCost: 1,
  upfrontCost: 1,
  currency: 'USD',
});

/** A sandbox quote for `e164` in San Francisco, $1 a month, valid 30 minutes; override any field. */
export function sandboxQuote(id: string, e164: string, overrides: Partial<Quote> = {}): Quote {
  return {
    id,
    e164,
    carrier: 'sandbox',
    ...sanFranciscoVoice(),
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
    ...sanFranciscoVoice(),
    ...overrides,
  };
}

/** `command` by `actor` in the CLI at TEST_NOW, ok, on no target, costing nothing; override any field. */
export function auditEvent(
  actor: string,
  command: string,
  overrides: Partial<AuditEvent> = {},
): AuditEvent {
  return {
    at: TEST_NOW,
    actor,
    surface: 'cli',
    command,
    target: null,
    outcome: 'ok',
    errorCode: null,
    message: null,
    monthlyCost: null,
    upfrontCost: null,
    currency: null,
    requestId: null,
    durationMs: 1,
    detail: null,
    ...overrides,
  };
}

/** A live requester token owned by `owner`, as the store returns one (for `tokenActor`). */
export function apiToken(name: string, owner: string, id = 1): ApiToken {
  return {
    id,
    name,
    role: 'requester',
    owner,
    createdBy: 'U01ADMIN',
    createdAt: new Date(),
    revokedAt: null,
    lastUsedAt: null,
  };
}
