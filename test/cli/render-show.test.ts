/**
 * `show` of a released number reads as history: who had it until it was released and what it
 * cost, not an owner and a bill that still run.
 */
import { describe, expect, it } from 'vitest';
import { renderers } from '../../src/cli/render.js';
import type { AuditEvent, NumberRecord, PurchaseRequest } from '../../src/core/types.js';

type Show = (r: {
  number: NumberRecord;
  history: AuditEvent[];
  request: PurchaseRequest | null;
}) => string;
const show = renderers.show as Show;

const number: NumberRecord = {
  id: 1,
  e164: '+14155550142',
  carrier: 'sandbox',
  carrierRef: 'sbx-pn-1',
  carrierAccount: null,
  status: 'assigned',
  owner: 'U01CAROL',
  country: 'US',
  region: 'CA',
  locality: 'San Francisco',
  numberType: 'local',
  features: ['voice'],
  monthlyCost: 1,
  upfrontCost: 1,
  currency: 'USD',
  agent: null,
  source: 'sync',
  requestId: null,
  createdAt: new Date('2026-11-21T10:00:00Z'),
  updatedAt: new Date('2026-11-21T10:00:00Z'),
  releasedAt: null,
};

describe('show', () => {
  it('a live number: its owner and its monthly cost', () => {
    const text = show({ number, history: [], request: null });
    expect(text).toMatch(/^owner {6}U01CAROL$/m);
    expect(text).toMatch(/^cost {7}\$1\.00\/mo$/m);
  });

  it('a released number: the owner until release, a cost no longer billed', () => {
    const released: NumberRecord = {
      ...number,
      status: 'released',
      releasedAt: new Date('2026-11-21T12:00:00Z'),
    };
    const text = show({ number: released, history: [], request: null });
    expect(text).toMatch(/^status {5}released \(released 2026-11-21 12:00Z\)$/m);
    expect(text).toMatch(/^owner {6}U01CAROL \(until released\)$/m);
    expect(text).toMatch(/^cost {7}\$1\.00\/mo \(no longer billed\)$/m);
  });
});
