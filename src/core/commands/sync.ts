import { z } from 'zod';
import { defineCommand } from '../command.js';
import type { CommandContext } from '../command.js';
import { CoreError } from '../errors.js';
import { assertAdmin } from '../policy.js';
import { reconcile } from '../purchase.js';
import type { Carrier, SyncBatchCounts, SyncRow } from '../ports.js';
import type { CarrierName, PurchaseRequest, SyncRun } from '../types.js';
import { CarrierArg } from '../schemas.js';
import { joinSentences } from '../sentences.js';
import { pickCarriers } from './search.js';

/** Rows per upsert: big enough to amortise a round trip, small enough to keep memory flat. */
export const SYNC_BATCH_SIZE = 1000;

export interface SyncCarrierResult {
  carrier: CarrierName;
  sandbox: boolean;
  run: SyncRun;
  unchanged: number;
}

export interface SyncResult {
  results: SyncCarrierResult[];
  reconciled: PurchaseRequest[];
}

function cancelled(): CoreError {
  return new CoreError('UNAVAILABLE', 'cancelled before the carrier listed every number');
}

/**
 * The pages of `listOwned`, stopping as soon as `signal` aborts: a page the adapter is still
 * waiting for is not awaited (the adapter is told to stop through `return()`), so cancellation
 * does not wait out a slow carrier.
 */
async function* pagesUntilAborted(
  pages: AsyncIterable<SyncRow[]>,
  signal: AbortSignal | undefined,
): AsyncGenerator<SyncRow[]> {
  const iterator = pages[Symbol.asyncIterator]();
  if (!signal) {
    for (;;) {
      const next = await iterator.next();
      if (next.done) return;
      yield next.value;
    }
  }
  let onAbort: () => void = () => undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(cancelled());
    signal.addEventListener('abort', onAbort, { once: true });
  });
  aborted.catch(() => undefined); // only ever observed through the race below
  try {
    for (;;) {
      if (signal.aborted) throw cancelled();
      const next = await Promise.race([iterator.next(), aborted]);
      if (next.done) break;
      yield next.value;
    }
    // An adapter may end its pages quietly when the signal aborts: that is not a complete list.
    if (signal.aborted) throw cancelled();
  } catch (error) {
    // Tell the adapter to stop fetching; a generator busy awaiting a page finishes that first.
    void Promise.resolve(iterator.return?.()).catch(() => undefined);
    throw error;
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}

/**
 * Batches a sync may have being written at once. PostgreSQL (and Supabase in front of it) writes
 * two batches on two connections in parallel, each in its own transaction, so a batch's write no
 * longer holds the reading back; PGlite is one connection in this process, where a second write
 * would only queue behind the first.
 */
export function syncWriters(kind: string): number {
  return kind === 'pglite' ? 1 : 2;
}

/**
 * Reads the carrier's pages and writes them in batches, the two overlapped: while batches are
 * being written (at most syncWriters()) the next is read, and no more than that, so memory stays
 * flat (the batches being written, one filling, and the adapter's pages in flight). A failure on
 * either side stops both; the run is then marked failed and nothing is marked missing.
 */
async function syncCarrier(ctx: CommandContext, carrier: Carrier): Promise<SyncCarrierResult> {
  const { store, clock, ids } = ctx.deps;
  const begun = await store.syncBegin(ids.syncRun(), carrier.name, ctx.actor.id, clock.now());
  if (begun.status === 'busy') {
    throw new CoreError(
      'CONFLICT',
      `A ${carrier.name} sync (${begun.run.id}) started by ${begun.run.startedBy} is still running. Wait for it to finish.`,
    );
  }
  const runId = begun.run.id;
  const phase = `sync ${carrier.name}`;
  const counts = { seen: 0, new: 0, updated: 0, unchanged: 0 };
  let total: number | undefined;
  let read = 0;
  const writers = syncWriters(store.kind);
  const writing = new Set<Promise<void>>();
  // Set by a failed write; a holder object, since only callbacks assign it.
  const failed: { error?: unknown; yes: boolean } = { yes: false };

  const report = () =>
    ctx.progress?.({
      phase,
      done: counts.seen,
      ...(total !== undefined ? { total } : {}),
      message: `${counts.new} new, ${counts.updated} updated`,
    });
  const write = (rows: SyncRow[]): void => {
    const done: Promise<void> = store.syncBatch(runId, carrier.name, rows).then(
      (result: SyncBatchCounts) => {
        counts.seen += result.seen;
        counts.new += result.new;
        counts.updated += result.updated;
        counts.unchanged += result.unchanged;
        report();
      },
      (error: unknown) => {
        failed.yes = true;
        failed.error = error;
      },
    );
    writing.add(done);
    void done.finally(() => writing.delete(done));
  };
  /**
   * Waits until fewer than `room` batches are being written (0: until none is); rethrows a
   * failed write; starts nothing once cancelled.
   */
  const settle = async (room = 0) => {
    while (writing.size > room && !failed.yes) await Promise.race(writing);
    if (failed.yes) throw failed.error;
    if (ctx.signal?.aborted) throw cancelled();
  };

  try {
    let batch: SyncRow[] = [];
    const listing = carrier.listOwned({
      ...(ctx.signal ? { signal: ctx.signal } : {}),
      onTotal: (count: number) => {
        total = count;
        report();
      },
    });
    for await (const page of pagesUntilAborted(listing, ctx.signal)) {
      if (failed.yes) throw failed.error;
      read += page.length;
      for (const row of page) batch.push(row);
      if (batch.length >= SYNC_BATCH_SIZE) {
        await settle(writers - 1);
        write(batch);
        batch = [];
      }
    }
    if (batch.length > 0) {
      await settle(writers - 1);
      write(batch);
    }
    await settle();
  } catch (error) {
    // Let batches still being written finish (or fail) first: the run's end is then definite.
    await Promise.allSettled([...writing]);
    const message = error instanceof Error ? error.message : String(error);
    const wasCancelled = ctx.signal?.aborted === true;
    await store.syncFail(
      runId,
      wasCancelled ? `cancelled after ${counts.seen} numbers` : message,
      clock.now(),
    );
    if (wasCancelled) {
      throw new CoreError(
        'UNAVAILABLE',
        `The ${carrier.name} sync was cancelled after ${counts.seen} of ${total ?? read} numbers. Numbers it had written were updated; none were marked missing. Run sync again to finish it.`,
        { cause: error, details: { runId, cancelled: true } },
      );
    }
    throw new CoreError(
      error instanceof CoreError && error.code !== 'INTERNAL' ? error.code : 'UPSTREAM',
      joinSentences(
        `The ${carrier.name} sync stopped after ${counts.seen} numbers: ${message}`,
        'Numbers it had read were updated; none were marked missing. Run sync again.',
      ),
      { cause: error, details: { runId } },
    );
  }
  const run = await store.syncFinish(runId, clock.now());
  return {
    carrier: carrier.name,
    sandbox: carrier.sandbox,
    run,
    unchanged: run.seen - run.new - run.updated,
  };
}

export const sync = defineCommand({
  name: 'sync',
  adminOnly: true,
  summary:
    'Import the carrier account: new numbers land in the pool, vanished ones are marked missing',
  effect: 'write',
  usage: 'sync [--carrier telnyx|twilio|sandbox]',
  examples: ['sync', 'sync --carrier telnyx'],
  args: [],
  input: z.object({ carrier: CarrierArg.optional() }),
  async run(ctx, input): Promise<SyncResult> {
    assertAdmin(ctx.deps.policy, ctx.actor, 'sync the carrier account');
    ctx.note({ target: input.carrier ?? 'all carriers' });
    const carriers = pickCarriers(ctx, input.carrier);
    // Purchases a crash left without an outcome are settled first, so the sync sees them recorded.
    const reconciled = await reconcile(ctx.deps);
    const results: SyncCarrierResult[] = [];
    for (const carrier of carriers) results.push(await syncCarrier(ctx, carrier));
    ctx.note({
      detail: {
        runs: results.map((r) => ({
          carrier: r.carrier,
          run: r.run.id,
          seen: r.run.seen,
          new: r.run.new,
          updated: r.run.updated,
          missing: r.run.missing,
        })),
      },
    });
    return { results, reconciled };
  },
});
