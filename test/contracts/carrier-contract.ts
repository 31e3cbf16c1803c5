/**
 * The carrier contract: what every Carrier adapter must do, whatever the vendor. It runs against
 * the sandbox here and against Telnyx and Twilio (on their scenario servers) in their own tests.
 * `make` returns a fresh carrier whose account owns at least one number and offers local numbers
 * in `areaCode`.
 */
import { describe, expect, it } from 'vitest';
import type { Carrier, OwnedNumber } from '../../src/core/ports.js';

export interface CarrierContractSetup {
  carrier: Carrier;
  /** An area code the account can buy local numbers in. */
  areaCode: string;
  country: 'US' | 'CA';
  /** Makes a number unavailable as if someone else bought it (scenario knob). */
  takeElsewhere(e164: string): Promise<void>;
  close?(): Promise<void>;
}

async function collect(carrier: Carrier): Promise<OwnedNumber[]> {
  const all: OwnedNumber[] = [];
  for await (const page of carrier.listOwned()) all.push(...page);
  return all;
}

export function describeCarrierContract(
  name: string,
  make: () => Promise<CarrierContractSetup>,
): void {
  describe(`carrier contract: ${name}`, () => {
    const withCarrier = async (fn: (setup: CarrierContractSetup) => Promise<void>) => {
      const setup = await make();
      try {
        await fn(setup);
      } finally {
        await setup.close?.();
      }
    };

    it('searches by area code and returns priced offers in E.164 that match the criteria', () =>
      withCarrier(async ({ carrier, areaCode, country }) => {
        const offers = await carrier.search({
          country,
          numberType: 'local',
          areaCode,
          features: [],
          limit: 5,
        });
        expect(offers.length).toBeGreaterThan(0);
        expect(offers.length).toBeLessThanOrEqual(5);
        for (const offer of offers) {
          expect(offer.e164).toMatch(new RegExp(`^\\+1${areaCode}\\d{7}$`));
          expect(offer.carrier).toBe(carrier.name);
          expect(offer.monthlyCost).toBeGreaterThan(0);
          expect(offer.upfrontCost).toBeGreaterThanOrEqual(0);
          expect(offer.currency).toMatch(/^[A-Z]{3}$/);
          expect(offer.numberType).toBe('local');
        }
      }));

    it('checks, orders and then finds the order by our reference; the number is listed as owned', () =>
      withCarrier(async ({ carrier, areaCode, country }) => {
        const [offer] = await carrier.search({
          country,
          numberType: 'local',
          areaCode,
          features: [],
          limit: 1,
        });
        expect(offer).toBeDefined();
        const checked = await carrier.check(offer!.e164);
        expect(checked?.e164).toBe(offer!.e164);
        const outcome = await carrier.order(offer!.e164, { reference: 'R-CONTRACT1' });
        expect(outcome.status).toBe('bought');
        if (outcome.status !== 'bought') return;
        expect(outcome.number.e164).toBe(offer!.e164);
        const lookup = await carrier.lookupOrder('R-CONTRACT1', offer!.e164, outcome.orderRef);
        expect(lookup).toMatchObject({ status: 'bought', number: { e164: offer!.e164 } });
        const owned = await collect(carrier);
        expect(owned.map((n) => n.e164)).toContain(offer!.e164);
      }));

    it('reports a number taken between search and order as taken, not as bought', () =>
      withCarrier(async ({ carrier, areaCode, country, takeElsewhere }) => {
        const [offer] = await carrier.search({
          country,
          numberType: 'local',
          areaCode,
          features: [],
          limit: 1,
        });
        await takeElsewhere(offer!.e164);
        expect(await carrier.check(offer!.e164)).toBeNull();
        const outcome = await carrier.order(offer!.e164, { reference: 'R-CONTRACT2' });
        expect(outcome.status).toBe('taken');
      }));

    it('finds no order for a reference it never saw', () =>
      withCarrier(async ({ carrier }) => {
        const lookup = await carrier.lookupOrder('R-NEVERSEEN', '+12025550199', null);
        expect(lookup.status).toBe('not-found');
      }));

    it('lists owned numbers page by page and releases one so it is no longer listed', () =>
      withCarrier(async ({ carrier }) => {
        const before = await collect(carrier);
        expect(before.length).toBeGreaterThan(0);
        for (const number of before) expect(number.e164).toMatch(/^\+[1-9]\d{6,14}$/);
        const victim = before[0]!;
        await carrier.release({
          e164: victim.e164,
          carrierRef: victim.carrierRef,
          carrierAccount: victim.carrierAccount,
        });
        const after = await collect(carrier);
        expect(after.map((n) => n.e164)).not.toContain(victim.e164);
        expect(after.length).toBe(before.length - 1);
      }));
  });
}
