/**
 * The sync command on a real store (PGlite from the migrated template): reading pages and writing
 * batches overlap by one batch and no more, progress reports the carrier's total, cancellation
 * through the signal stops promptly with a definite run, and a failure midway commits nothing as
 * success. The carriers here are scripted (pages on demand, faults on cue); the last tests use the
 * real Telnyx adapter against the scenario server.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTelnyxCarrier } from '../../src/carriers/telnyx-carrier.js';
import { runCommand } from '../../src/core/command.js';
import {
  SYNC_BATCH_SIZE,
  sync,
  syncWriters,
  type SyncResult,
} from '../../src/core/commands/sync.js';
import type { Carrier, OwnedNumber, Progress, Store } from '../../src/core/ports.js';
import type { SqlStore } from '../../src/store/sql-store.js';
import { ADMIN, makeDeps, type TestDeps } from '../helpers/deps.js';
import { freshPglite } from '../helpers/stores.js';
import {
  SCENARIO_API_KEY,
  startTelnyxScenarioServer,
  type TelnyxScenarioServer,
} from '../helpers/telnyx-scenario-server.js';

const PAGE = 250;

function owned(i: number): OwnedNumber {
  return {
    e164: `+1650${String(5550000 + i).padStart(7, '0')}`,
    carrierRef: `ref-${i}`,
    carrierAccount: null,
    country: 'US',
    region: 'CA',
    locality: 'Palo Alto',
    numberType: 'local',
    features: ['voice', 'sms'],
    monthlyCost: 1,
    upfrontCost: 1,
    currency: 'USD',
  };
}

interface ScriptedCarrier extends Carrier {
  /** Pages handed out so far (the sync pulls them one at a time). */
  pulled: number;
}

/**
 * A Telnyx-named carrier whose account holds `count` numbers, 250 a page. `before(page, signal)`
 * runs before each page is handed out: tests block, fail or watch there.
 */
function scriptedCarrier(
  count: number,
  before: (page: number, signal?: AbortSignal) => Promise<void> | void = () => undefined,
  options: { total?: boolean; quietOnAbort?: boolean } = {},
): ScriptedCarrier {
  const carrier: ScriptedCarrier = {
    name: 'telnyx',
    sandbox: false,
    pulled: 0,
    search: () => Promise.resolve([]),
    check: () => Promise.resolve(null),
    order: () => Promise.reject(new Error('not in this test')),
    lookupOrder: () => Promise.resolve({ status: 'not-found' }),
    release: () => Promise.resolve(),
    async *listOwned(listOptions) {
      if (options.total !== false) listOptions?.onTotal?.(count);
      for (let start = 0, page = 1; start < count; start += PAGE, page++) {
        await before(page, listOptions?.signal);
        // Like the Telnyx adapter: an aborted listing may just end.
        if (options.quietOnAbort && listOptions?.signal?.aborted) return;
        carrier.pulled = page;
        yield Array.from({ length: Math.min(PAGE, count - start) }, (_, i) => owned(start + i));
      }
    },
  };
  return carrier;
}

/** A promise and its resolve, for holding a step until the test lets it go. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open = () => undefined as void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

/** The store with its syncBatch watched (and optionally held) by the test. */
function watchedStore(
  store: Store,
  hold?: (batch: number) => Promise<void> | void,
): Store & { batches: number; maxInFlight: number } {
  let inFlight = 0;
  const watched = Object.create(store) as Store & { batches: number; maxInFlight: number };
  watched.batches = 0;
  watched.maxInFlight = 0;
  watched.syncBatch = async (runId, carrier, rows) => {
    const batch = ++watched.batches;
    inFlight++;
    watched.maxInFlight = Math.max(watched.maxInFlight, inFlight);
    try {
      await hold?.(batch);
      return await store.syncBatch(runId, carrier, rows);
    } finally {
      inFlight--;
    }
  };
  return watched;
}

let store: SqlStore;
let deps: TestDeps;

beforeEach(async () => {
  store = await freshPglite();
  deps = makeDeps(store);
});

afterEach(async () => {
  await store.close();
});

function withCarrier(carrier: Carrier, over: Store = store): TestDeps {
  return { ...deps, store: over, carriers: { telnyx: carrier } };
}

const runSync = (
  d: TestDeps,
  options: { progress?: Progress; signal?: AbortSignal } = {},
): Promise<SyncResult> => runCommand(d, sync, ADMIN, { carrier: 'telnyx' }, options);

async function statuses(): Promise<Record<string, number>> {
  const numbers = await store.listNumbers({ scope: 'all', limit: 100_000 });
  const counts: Record<string, number> = {};
  for (const n of numbers) counts[n.status] = (counts[n.status] ?? 0) + 1;
  return counts;
}

describe('sync: reading and writing overlap, bounded to one batch', () => {
  it('reads the next batch while one is written, never a third; counts add up', async () => {
    const first = gate();
    const watched = watchedStore(store, (batch) => (batch === 1 ? first.promise : undefined));
    const carrier = scriptedCarrier(2600);
    const running = runSync(withCarrier(carrier, watched));
    // Batch 1 (pages 1-4) is being written and held: the reader fills batch 2 (pages 5-8) meanwhile.
    await expect.poll(() => carrier.pulled).toBe(8);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(carrier.pulled).toBe(8); // nothing more is read until batch 1 is written
    expect(watched.batches).toBe(1);
    first.open();
    const result = await running;
    expect(carrier.pulled).toBe(11);
    expect(watched.maxInFlight).toBe(1);
    expect(watched.batches).toBe(3); // 1000 + 1000 + 600
    expect(result.results[0]!.run).toMatchObject({
      status: 'succeeded',
      seen: 2600,
      new: 2600,
      updated: 0,
      missing: 0,
    });
    expect(await statuses()).toEqual({ available: 2600 });
  });

  it('on a store that writes in parallel (PostgreSQL, Supabase): two batches at once, never a third', async () => {
    expect(syncWriters('postgres')).toBe(2);
    expect(syncWriters('supabase')).toBe(2);
    expect(syncWriters('pglite')).toBe(1);
    const held = [gate(), gate()];
    const watched = watchedStore(store, (batch) => held[batch - 1]?.promise);
    // The sync command picks its writers by the store's kind; the batches still land in PGlite.
    Object.defineProperty(watched, 'kind', { value: 'postgres' });
    const carrier = scriptedCarrier(3600);
    const running = runSync(withCarrier(carrier, watched));
    // Batches 1 and 2 are held while being written: the reader fills batch 3 (pages 9-12), then waits.
    await expect.poll(() => carrier.pulled).toBe(12);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(carrier.pulled).toBe(12);
    expect(watched.batches).toBe(2);
    held[1]!.open(); // the second finishes first: its room goes to batch 3
    await expect.poll(() => watched.batches).toBeGreaterThanOrEqual(3);
    held[0]!.open();
    const result = await running;
    expect(watched.maxInFlight).toBe(2);
    expect(watched.batches).toBe(4); // 1000 + 1000 + 1000 + 600
    expect(result.results[0]!.run).toMatchObject({ status: 'succeeded', seen: 3600, new: 3600 });
    expect(await statuses()).toEqual({ available: 3600 });
  });

  it('reports progress per batch with the carrier total, ending at the total', async () => {
    const events: Array<{ done: number; total?: number; phase: string }> = [];
    await runSync(withCarrier(scriptedCarrier(2300)), { progress: (e) => events.push(e) });
    const done = events.map((e) => e.done);
    expect(done).toEqual([...done].sort((a, b) => a - b));
    expect(events.at(-1)).toMatchObject({ phase: 'sync telnyx', done: 2300, total: 2300 });
    expect(events.filter((e) => e.done > 0)).toHaveLength(Math.ceil(2300 / SYNC_BATCH_SIZE));
  });

  it('leaves total out when the carrier does not report one', async () => {
    const events: Array<{ total?: number }> = [];
    await runSync(withCarrier(scriptedCarrier(600, undefined, { total: false })), {
      progress: (e) => events.push(e),
    });
    expect(events.length).toBeGreaterThan(0);
    expect(events.every((e) => e.total === undefined)).toBe(true);
  });
});

describe('sync: what the carrier stopped listing', () => {
  it('marks it missing, writes nothing unchanged, and brings it back when listed again', async () => {
    await runSync(withCarrier(scriptedCarrier(1200)));
    const unchanged = await runSync(withCarrier(scriptedCarrier(1200)));
    expect(unchanged.results[0]).toMatchObject({
      run: { seen: 1200, new: 0, updated: 0, missing: 0 },
      unchanged: 1200,
    });
    const shrunk = await runSync(withCarrier(scriptedCarrier(1000)));
    expect(shrunk.results[0]!.run).toMatchObject({ seen: 1000, new: 0, updated: 0, missing: 200 });
    expect(await statuses()).toEqual({ available: 1000, missing: 200 });
    const back = await runSync(withCarrier(scriptedCarrier(1200)));
    expect(back.results[0]!.run).toMatchObject({ new: 0, updated: 200, missing: 0 });
    expect(await statuses()).toEqual({ available: 1200 });
  });
});

describe('sync: cancellation through the signal', () => {
  it('stops while the carrier hangs: run failed as cancelled, nothing missing, next sync runs', async () => {
    await runSync(withCarrier(scriptedCarrier(1500)));
    const controller = new AbortController();
    const hang = new Promise<void>(() => undefined);
    const carrier = scriptedCarrier(1500, (page) => (page === 3 ? hang : undefined));
    const running = runSync(withCarrier(carrier), { signal: controller.signal });
    await expect.poll(() => carrier.pulled).toBe(2);
    controller.abort();
    await expect(running).rejects.toMatchObject({
      code: 'UNAVAILABLE',
      message: expect.stringContaining('cancelled'),
      details: { cancelled: true },
    });
    const [run] = await store.listSyncRuns(1);
    expect(run).toMatchObject({ status: 'failed', error: expect.stringContaining('cancelled') });
    expect(await statuses()).toEqual({ available: 1500 });
    const again = await runSync(withCarrier(scriptedCarrier(1500)));
    expect(again.results[0]!.run).toMatchObject({ status: 'succeeded', missing: 0 });
  });

  it('stops after the batch being written, writing no more', async () => {
    const controller = new AbortController();
    const first = gate();
    const watched = watchedStore(store, (batch) => (batch === 1 ? first.promise : undefined));
    const carrier = scriptedCarrier(5000);
    const running = runSync(withCarrier(carrier, watched), { signal: controller.signal });
    await expect.poll(() => carrier.pulled).toBe(8);
    controller.abort();
    first.open();
    await expect(running).rejects.toMatchObject({
      code: 'UNAVAILABLE',
      details: { cancelled: true },
    });
    expect(watched.batches).toBe(1);
    const [run] = await store.listSyncRuns(1);
    expect(run).toMatchObject({ status: 'failed', seen: 1000, missing: 0 });
  });

  it('an adapter that ends its pages quietly on abort does not make the sync look complete', async () => {
    await runSync(withCarrier(scriptedCarrier(1500)));
    const controller = new AbortController();
    const carrier = scriptedCarrier(
      1500,
      (page) => {
        if (page === 2) controller.abort();
      },
      { quietOnAbort: true },
    );
    await expect(
      runSync(withCarrier(carrier), { signal: controller.signal }),
    ).rejects.toMatchObject({ details: { cancelled: true } });
    expect((await store.listSyncRuns(1))[0]).toMatchObject({ status: 'failed' });
    // Finishing would have marked the 1,250 numbers never listed missing.
    expect(await statuses()).toEqual({ available: 1500 });
  });
});

describe('sync: a failure midway commits nothing as success', () => {
  it('the carrier failing on a later page: run failed with the reason, nothing missing', async () => {
    await runSync(withCarrier(scriptedCarrier(3000)));
    const carrier = scriptedCarrier(3000, (page) => {
      if (page === 7) throw new Error('page 7 of the account: 503 Service Unavailable');
    });
    const error = await runSync(withCarrier(carrier)).catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: 'UPSTREAM',
      message: expect.stringMatching(
        /stopped after \d+ numbers: page 7 .*503.*none were marked missing/,
      ),
    });
    const [run] = await store.listSyncRuns(1);
    expect(run).toMatchObject({ status: 'failed', error: expect.stringContaining('503') });
    expect(await statuses()).toEqual({ available: 3000 });
  });

  it('a reason that ends with a full stop is not given a second one before the advice', async () => {
    const carrier = scriptedCarrier(600, (page) => {
      if (page === 1)
        throw new Error('Telnyx refused page 1: The API key you provided is invalid.');
    });
    const error = await runSync(withCarrier(carrier)).catch((e: unknown) => e);
    expect((error as Error).message).toBe(
      'The telnyx sync stopped after 0 numbers: Telnyx refused page 1: The API key you provided is invalid. Numbers it had read were updated; none were marked missing. Run sync again.',
    );
  });

  it('a batch write failing stops the reading too: run failed, no later batch written', async () => {
    const watched = watchedStore(store, (batch) => {
      if (batch === 2) throw new Error('database went away');
    });
    const carrier = scriptedCarrier(10_000);
    const error = await runSync(withCarrier(carrier, watched)).catch((e: unknown) => e);
    expect(error).toMatchObject({ message: expect.stringContaining('database went away') });
    expect(watched.batches).toBe(2);
    expect(carrier.pulled).toBeLessThanOrEqual(16); // at most one batch read past the failure
    const [run] = await store.listSyncRuns(1);
    expect(run).toMatchObject({ status: 'failed', seen: 1000, missing: 0 });
  });
});

describe('sync through the Telnyx adapter and the scenario server', () => {
  let server: TelnyxScenarioServer;
  afterEach(async () => {
    await server.close();
  });

  it('reports meta.total_results as the total; the bar ends full', async () => {
    server = await startTelnyxScenarioServer({ ownedCount: 1200 });
    const telnyx = createTelnyxCarrier({ apiKey: SCENARIO_API_KEY, baseUrl: server.url });
    const events: Array<{ done: number; total?: number }> = [];
    const result = await runSync(withCarrier(telnyx), { progress: (e) => events.push(e) });
    expect(result.results[0]!.run).toMatchObject({ seen: 1200, new: 1200 });
    expect(events.at(-1)).toMatchObject({ done: 1200, total: 1200 });
  });

  it('a refused key: the whole message, one full stop after each sentence', async () => {
    server = await startTelnyxScenarioServer({ apiKey: 'KEY_TEST_FAKE_TELNYX_OTHER' });
    const telnyx = createTelnyxCarrier({ apiKey: SCENARIO_API_KEY, baseUrl: server.url });
    const error = await runSync(withCarrier(telnyx)).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'UPSTREAM' });
    expect((error as Error).message).toBe(
      "The telnyx sync stopped after 0 numbers: Telnyx refused page 1 of the account's numbers: The API key you provided is invalid. Check TELNYX_API_KEY. Numbers it had read were updated; none were marked missing. Run sync again.",
    );
  });

  it('cancels promptly while pages are in flight; the run is failed, nothing missing', async () => {
    server = await startTelnyxScenarioServer({ ownedCount: 5000, latencyMs: 20 });
    const telnyx = createTelnyxCarrier({ apiKey: SCENARIO_API_KEY, baseUrl: server.url });
    await runSync(withCarrier(telnyx));
    const pageReads = () => server.requests.filter((r) => r.path === '/phone_numbers').length;
    const before = pageReads();
    const controller = new AbortController();
    const running = runSync(withCarrier(telnyx), {
      signal: controller.signal,
      progress: (e) => {
        if (e.done >= 1000) controller.abort();
      },
    });
    await expect(running).rejects.toMatchObject({ details: { cancelled: true } });
    expect((await store.listSyncRuns(1))[0]).toMatchObject({ status: 'failed', missing: 0 });
    expect(await statuses()).toEqual({ available: 5000 });
    // The listing stopped: of 20 pages, only those read or in flight when it was cancelled.
    await new Promise((resolve) => setTimeout(resolve, 200));
    const read = pageReads() - before;
    expect(read).toBeLessThan(20);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(pageReads() - before).toBe(read);
  });
});
