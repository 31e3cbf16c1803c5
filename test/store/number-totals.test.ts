/**
 * `list` totals come from a summary the numbers table's triggers keep (migration 012), not from
 * reading every number. Whatever happens to the numbers (syncs that add, change, mark missing and
 * bring back; claims, unclaims, releases, links), the totals must stay equal to what the numbers themselves
 * add up to, for every scope, on every store; and the summary must stay small.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { NumberTotal, SyncRow } from '../../src/core/ports.js';
import type { NumberRecord } from '../../src/core/types.js';
import type { SqlExecutor } from '../../src/store/sql.js';
import type { SqlStore } from '../../src/store/sql-store.js';
import { syncRow } from '../helpers/fixtures.js';
import { STORES } from '../helpers/stores.js';

const MEMBERS = ['U01ALICE', 'U01BOB', 'U01CAROL'];
const e164 = (i: number) => `+1650${String(3000000 + i).padStart(7, '0')}`;

/** A small deterministic generator (mulberry32): the same operations on every store and run. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const row = (i: number, monthly: number, currency = 'USD'): SyncRow =>
  syncRow(e164(i), { monthlyCost: monthly, currency });

/** What the totals must be: the live numbers themselves, added up in JavaScript. */
function expected(
  numbers: NumberRecord[],
  scope: 'all' | 'pool' | 'owned',
  owner?: string,
): NumberTotal[] {
  const groups = new Map<string | null, NumberTotal>();
  for (const n of numbers) {
    if (n.status === 'released') continue;
    if (owner !== undefined && n.owner !== owner) continue;
    if (scope === 'pool' && !(n.status === 'available' && n.owner === null)) continue;
    if (scope === 'owned' && n.owner === null) continue;
    const total = groups.get(n.owner) ?? { owner: n.owner, count: 0, monthly: 0, currency: '' };
    total.count += 1;
    total.monthly += n.monthlyCost ?? 0;
    total.currency =
      total.currency === '' || n.currency < total.currency ? n.currency : total.currency;
    groups.set(n.owner, total);
  }
  return [...groups.values()]
    .map((t) => ({ ...t, monthly: Math.round(t.monthly * 10_000) / 10_000 }))
    .sort((a, b) => (a.owner === null ? -1 : b.owner === null ? 1 : a.owner < b.owner ? -1 : 1));
}

const rounded = (totals: NumberTotal[]) =>
  totals.map((t) => ({ ...t, monthly: Math.round(t.monthly * 10_000) / 10_000 }));

for (const { name, make, skip } of STORES) {
  describe.skipIf(skip)(`list totals summary (${name} store)`, () => {
    let store: SqlStore;
    beforeEach(async () => {
      store = await make();
    });
    afterEach(async () => {
      await store.close();
    });

    async function check(step: string): Promise<void> {
      const numbers = await store.listNumbers({ scope: 'all', limit: 100_000 });
      for (const scope of ['all', 'pool', 'owned'] as const) {
        expect(rounded(await store.numberTotals({ scope })), `${step}: scope ${scope}`).toEqual(
          expected(numbers, scope),
        );
      }
      expect(
        rounded(await store.numberTotals({ scope: 'all', owner: 'U01BOB' })),
        `${step}: owner U01BOB`,
      ).toEqual(expected(numbers, 'all', 'U01BOB'));
    }

    async function sync(runId: string, rows: SyncRow[]): Promise<void> {
      const begun = await store.syncBegin(runId, 'sandbox', 'local', new Date());
      expect(begun.status).toBe('started');
      for (let start = 0; start < rows.length; start += 250)
        await store.syncBatch(runId, 'sandbox', rows.slice(start, start + 250));
      await store.syncFinish(runId, new Date());
    }

    it('stay equal to the numbers through syncs, claims, unclaims, releases and links', async () => {
      const next = random(20261121);
      // 600 numbers, two currencies, costs in tenths of a cent.
      await sync(
        'S-T1',
        Array.from({ length: 600 }, (_, i) =>
          row(i, 1 + (i % 7) * 0.0125, i % 10 === 0 ? 'CAD' : 'USD'),
        ),
      );
      await check('after the first sync');

      let unclaimed = 0;
      for (let op = 0; op < 400; op++) {
        const i = Math.floor(next() * 600);
        const roll = next();
        const number = await store.getNumber(e164(i));
        if (roll < 0.5) {
          await store.claimNumber(e164(i), MEMBERS[op % MEMBERS.length]!, null);
        } else if (roll < 0.58 && number?.owner && number.status !== 'released') {
          // Back to the pool (migration 023): the owner's count and cost move to the pool's.
          const outcome = await store.unclaimNumber(number.id, number.owner, new Date());
          if (outcome.status === 'unclaimed') unclaimed++;
        } else if (roll < 0.65 && number && number.status !== 'released') {
          await store.releaseNumber(number.id, new Date());
        } else if (roll < 0.85 && number && number.status === 'assigned') {
          await store.linkNumber(number.id, 'retell', `agent_${op}`, null, new Date());
        } else if (number?.agent) {
          await store.unlinkNumber(number.id, new Date());
        }
        if (op % 50 === 49) await check(`after operation ${op + 1}`);
      }
      expect(unclaimed).toBeGreaterThan(0);

      // A sync that no longer lists a third of the numbers (missing), changes costs and brings a
      // released number's e164 back as a new record.
      await sync(
        'S-T2',
        Array.from({ length: 600 }, (_, i) => i)
          .filter((i) => i % 3 !== 0)
          .map((i) => row(i, i % 4 === 0 ? 2.5 : 1 + (i % 7) * 0.0125)),
      );
      await check('after a sync with missing numbers and new costs');
      // And one that lists them all again.
      await sync(
        'S-T3',
        Array.from({ length: 600 }, (_, i) => row(i, 1)),
      );
      await check('after a sync that lists every number again');
    });

    // The summary's own size needs SQL; the supabase-js store runs the same SQL on PostgreSQL.
    if (name !== 'supabase')
      it('keeps its summary small: compaction folds it into one row per group', async () => {
        await sync(
          'S-T4',
          Array.from({ length: 300 }, (_, i) => row(i, 1)),
        );
        // A claim appends two rows (the pool's count down, the member's up), a release one:
        // about 750 rows without compaction.
        for (let i = 0; i < 300; i++)
          await store.claimNumber(e164(i), MEMBERS[i % MEMBERS.length]!, null);
        for (let i = 0; i < 300; i += 2) {
          const number = await store.getNumber(e164(i));
          await store.releaseNumber(number!.id, new Date());
        }
        await check('after 450 claims and releases');
        const db = (store as unknown as { db: SqlExecutor }).db;
        const [{ rows }] = (await db.query<{ rows: number }>(
          'select count(*)::int as rows from switchboard.number_totals_delta',
        )) as [{ rows: number }];
        expect(rows).toBeLessThan(300);
      });
  });
}
