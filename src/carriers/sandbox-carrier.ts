/**
 * The sandbox carrier: a pretend carrier account for demos and tests, used when no carrier keys are
 * configured. It always says so: `sandbox: true`, and every front end labels its data "sandbox".
 * It never stands in for Telnyx or Twilio in their own tests.
 */
import { CoreError } from '../core/errors.js';
import { nanpAreaCode } from '../core/phone.js';
import type {
  Carrier,
  OrderLookup,
  OrderOutcome,
  OwnedNumber,
  SearchCriteria,
} from '../core/ports.js';
import type { AvailableNumber, NumberRecord } from '../core/types.js';
import type { FaultKind, FaultOptions } from '../sandbox/faults.js';
import { FaultInjector } from '../sandbox/faults.js';
import { StateFile } from '../sandbox/state-file.js';
import { crashPoint } from '../sandbox/crash.js';
import { SANDBOX_OWNED, sandboxCatalogue } from './sandbox-inventory.js';

interface OwnedEntry {
  carrierRef: string;
  orderRef: string | null;
  reference: string | null;
  boughtAt: string;
}

interface OrderEntry {
  orderRef: string;
  reference: string;
  e164: string;
  status: 'pending' | 'success' | 'failure';
  createdAt: string;
}

export interface SandboxCarrierState {
  owned: Record<string, OwnedEntry>;
  orders: Record<string, OrderEntry>;
  holds: Record<string, { e164: string; reference: string; until: string }>;
  /** Numbers "someone else" bought: tests use this to stage a number taken between search and buy. */
  takenElsewhere: string[];
  sequence: number;
}

export function initialSandboxCarrierState(): SandboxCarrierState {
  const owned: Record<string, OwnedEntry> = {};
  SANDBOX_OWNED.forEach((e164, index) => {
    owned[e164] = {
      carrierRef: `sbx-pn-${index + 1}`,
      orderRef: null,
      reference: null,
      boughtAt: '2026-01-05T12:00:00.000Z',
    };
  });
  return { owned, orders: {}, holds: {}, takenElsewhere: [], sequence: 100 };
}

export interface SandboxCarrierOptions extends FaultOptions {
  /** JSON file for the account's state; in memory when omitted. */
  statePath?: string;
  /** Owned numbers per page in `listOwned`. */
  pageSize?: number;
  /** Extra owned numbers to generate (benchmarks: a large account to sync). */
  extraOwned?: number;
}

const HOLD_MINUTES = 30;

export interface SandboxCarrier extends Carrier {
  readonly faults: FaultInjector;
  /** Test knob: make a number look bought by someone else. */
  takeElsewhere(e164: string): Promise<void>;
  /** What the pretend account holds: what the books are checked against. */
  state(): SandboxCarrierState;
}

export function createSandboxCarrier(options: SandboxCarrierOptions = {}): SandboxCarrier {
  const store = new StateFile<SandboxCarrierState>(options.statePath, initialSandboxCarrierState);
  const faults = new FaultInjector('sandbox carrier', options);
  const catalogue = sandboxCatalogue();
  const pageSize = options.pageSize ?? 100;

  async function enter(
    operation: string,
    allowed: readonly FaultKind[] = ['rate_limit', 'server_error', 'timeout', 'malformed'],
  ): Promise<FaultKind | null> {
    await faults.delay();
    const fault = faults.draw(allowed, operation);
    if (fault && fault !== 'pending' && operation !== 'order') throw faults.error(fault, operation);
    return fault;
  }

  function unavailable(state: SandboxCarrierState, e164: string, reference?: string): boolean {
    if (state.owned[e164] || state.takenElsewhere.includes(e164)) return true;
    const now = Date.now();
    return Object.values(state.holds).some(
      (hold) => hold.e164 === e164 && Date.parse(hold.until) > now && hold.reference !== reference,
    );
  }

  function matches(entry: AvailableNumber, criteria: SearchCriteria): boolean {
    if (entry.numberType !== criteria.numberType) return false;
    if (entry.country !== criteria.country && criteria.numberType !== 'toll-free') return false;
    if (criteria.areaCode && nanpAreaCode(entry.e164) !== criteria.areaCode) return false;
    if (criteria.locality && entry.locality?.toLowerCase() !== criteria.locality.toLowerCase())
      return false;
    if (criteria.region && entry.region !== criteria.region) return false;
    if (criteria.contains && !entry.e164.slice(2).includes(criteria.contains.replace(/\*/g, '')))
      return false;
    return criteria.features.every((feature) => entry.features.includes(feature));
  }

  function bought(e164: string, entry: OwnedEntry) {
    const offer = catalogue.get(e164);
    if (!offer) throw new CoreError('INTERNAL', `sandbox carrier: ${e164} is not in the catalogue`);
    return { ...offer, carrierRef: entry.carrierRef };
  }

  /** A number the sandbox account owns, as the carrier reports it. */
  const toRow = (e164: string, carrierRef: string): OwnedNumber => {
    const offer = catalogue.get(e164);
    return {
      e164,
      carrierRef,
      carrierAccount: null,
      country: offer?.country ?? 'US',
      region: offer?.region ?? null,
      locality: offer?.locality ?? null,
      numberType: offer?.numberType ?? 'local',
      features: offer?.features ?? ['voice'],
      monthlyCost: offer?.monthlyCost ?? 1,
      upfrontCost: offer?.upfrontCost ?? 1,
      currency: 'USD',
    };
  };

  return {
    name: 'sandbox',
    sandbox: true,
    faults,
    state: () => store.get(),
    takeElsewhere: (e164) => store.update((state) => void state.takenElsewhere.push(e164)),

    async search(criteria) {
      await enter('search');
      const state = store.get();
      const results: AvailableNumber[] = [];
      for (const entry of catalogue.values()) {
        if (matches(entry, criteria) && !unavailable(state, entry.e164)) results.push(entry);
      }
      // Like the real carriers' best-effort ordering: cheapest first, then by number.
      results.sort((a, b) => a.monthlyCost - b.monthlyCost || a.e164.localeCompare(b.e164));
      return results.slice(0, criteria.limit);
    },

    async check(e164) {
      await enter('check');
      const offer = catalogue.get(e164);
      const state = store.get();
      if (!offer || state.owned[e164] || state.takenElsewhere.includes(e164)) return null;
      return offer;
    },

    async hold(e164, reference) {
      await enter('hold');
      return store.update((state) => {
        if (unavailable(state, e164, reference)) return null;
        const holdRef = `sbx-hold-${++state.sequence}`;
        state.holds[holdRef] = {
          e164,
          reference,
          until: new Date(Date.now() + HOLD_MINUTES * 60_000).toISOString(),
        };
        return holdRef;
      });
    },

    async releaseHold(holdRef) {
      await enter('release hold');
      await store.update((state) => void delete state.holds[holdRef]);
    },

    async order(e164, { reference }): Promise<OrderOutcome> {
      crashPoint('order:before');
      const fault = await enter('order', [
        'rate_limit',
        'server_error',
        'timeout',
        'malformed',
        'pending',
      ]);
      // Faults that strike before the carrier acts: nothing happened, safe to retry.
      if (fault === 'rate_limit' || fault === 'server_error') throw faults.error(fault, 'order');
      const outcome = await store.update((state): OrderOutcome => {
        const existing = Object.values(state.orders).find((order) => order.reference === reference);
        if (existing) {
          // The same reference twice is the same order: carriers dedupe on it, and so do we.
          const entry = state.owned[existing.e164];
          if (existing.status === 'success' && entry)
            return {
              status: 'bought',
              number: bought(existing.e164, entry),
              orderRef: existing.orderRef,
            };
          if (existing.status === 'pending')
            return { status: 'pending', orderRef: existing.orderRef };
        }
        if (!catalogue.has(e164) || unavailable(state, e164, reference)) {
          return { status: 'taken', message: `${e164} is no longer available` };
        }
        const orderRef = `sbx-order-${++state.sequence}`;
        const pending = fault === 'pending';
        state.orders[orderRef] = {
          orderRef,
          reference,
          e164,
          status: pending ? 'pending' : 'success',
          createdAt: new Date().toISOString(),
        };
        for (const [ref, hold] of Object.entries(state.holds))
          if (hold.e164 === e164) delete state.holds[ref];
        if (pending) return { status: 'pending', orderRef };
        const entry: OwnedEntry = {
          carrierRef: `sbx-pn-${++state.sequence}`,
          orderRef,
          reference,
          boughtAt: new Date().toISOString(),
        };
        state.owned[e164] = entry;
        return { status: 'bought', number: bought(e164, entry), orderRef };
      });
      crashPoint('order:after');
      // Faults that strike after the carrier acted: the order exists, but the answer is lost.
      if (fault === 'timeout' || fault === 'malformed') {
        throw new CoreError(
          'UNAVAILABLE',
          `sandbox carrier order: ${fault === 'timeout' ? 'no answer (timeout)' : 'the answer could not be read'}; the order may have gone through`,
        );
      }
      return outcome;
    },

    async lookupOrder(reference, e164, orderRef): Promise<OrderLookup> {
      await enter('order lookup');
      return store.update((state): OrderLookup => {
        const order =
          (orderRef && state.orders[orderRef]) ||
          Object.values(state.orders).find((o) => o.reference === reference);
        if (!order) return { status: 'not-found' };
        if (order.status === 'pending') {
          // A pending sandbox order completes the next time anyone asks about it.
          order.status = 'success';
          state.owned[order.e164] = {
            carrierRef: `sbx-pn-${++state.sequence}`,
            orderRef: order.orderRef,
            reference,
            boughtAt: new Date().toISOString(),
          };
        }
        const entry = state.owned[order.e164];
        if (order.status === 'failure' || !entry)
          return { status: 'failed', message: `order ${order.orderRef} failed` };
        void e164;
        return { status: 'bought', number: bought(order.e164, entry), orderRef: order.orderRef };
      });
    },

    async release(number: Pick<NumberRecord, 'e164' | 'carrierRef' | 'carrierAccount'>) {
      await enter('release');
      crashPoint('release:before');
      await store.update((state) => {
        if (!state.owned[number.e164]) {
          throw new CoreError(
            'NOT_FOUND',
            `sandbox carrier: ${number.e164} is not in the account (already released?). Run sync to refresh.`,
          );
        }
        delete state.owned[number.e164];
      });
      crashPoint('release:after');
    },

    async lookupOwned(e164) {
      await enter('lookup owned');
      const entry = store.get().owned[e164];
      return entry ? toRow(e164, entry.carrierRef) : null;
    },

    async *listOwned(): AsyncIterable<OwnedNumber[]> {
      const state = store.get();
      const owned = Object.entries(state.owned);
      let page: OwnedNumber[] = [];
      for (const [e164, entry] of owned) {
        page.push(toRow(e164, entry.carrierRef));
        if (page.length >= pageSize) {
          await enter('list owned');
          yield page;
          page = [];
        }
      }
      // A large pretend account for benchmarks, generated page by page, never held whole.
      for (let i = 0; i < (options.extraOwned ?? 0); i++) {
        const e164 = `+1650${String(2000000 + i).padStart(7, '0')}`;
        page.push({
          ...toRow(e164, `sbx-bulk-${i}`),
          region: 'CA',
          locality: 'Palo Alto',
          monthlyCost: 1,
          upfrontCost: 1,
        });
        if (page.length >= pageSize) {
          await enter('list owned');
          yield page;
          page = [];
        }
      }
      await enter('list owned');
      if (page.length > 0) yield page;
    },
  };
}
