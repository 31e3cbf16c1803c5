import { z } from 'zod';
import { defineCommand } from '../command.js';
import type { CommandContext } from '../command.js';
import { CoreError } from '../errors.js';
import { assertAdmin } from '../policy.js';
import { reconcile } from '../purchase.js';
import type { Carrier, SyncRow } from '../ports.js';
import type { CarrierName, PurchaseRequest, SyncRun } from '../types.js';
import { CarrierArg } from '../schemas.js';
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
  const counts = { seen: 0, new: 0, updated: 0, unchanged: 0 };
  let batch: SyncRow[] = [];
  const flush = async () => {
    if (batch.length === 0) return;
    const result = await store.syncBatch(runId, carrier.name, batch);
    counts.seen += result.seen;
    counts.new += result.new;
    counts.updated += result.updated;
    counts.unchanged += result.unchanged;
    batch = [];
    ctx.progress?.({
      phase: `sync ${carrier.name}`,
      done: counts.seen,
      message: `${counts.new} new, ${counts.updated} updated`,
    });
  };
  try {
    for await (const page of carrier.listOwned(ctx.signal ? { signal: ctx.signal } : {})) {
      if (ctx.signal?.aborted) throw new CoreError('UNAVAILABLE', 'Sync cancelled.');
      batch.push(...page);
      if (batch.length >= SYNC_BATCH_SIZE) await flush();
    }
    await flush();
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    await store.syncFail(runId, message, clock.now());
    throw new CoreError(
      error instanceof CoreError && error.code !== 'INTERNAL' ? error.code : 'UPSTREAM',
      `The ${carrier.name} sync stopped after ${counts.seen} numbers: ${message}. Numbers it had read were updated; none were marked missing. Run sync again.`,
      { cause: error },
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
