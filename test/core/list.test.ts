/**
 * `list`: a page of numbers (100 by default) and totals over every number in scope, on every
 * store.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCommand } from '../../src/core/command.js';
import { list } from '../../src/core/commands/index.js';
import { LIST_PAGE } from '../../src/core/commands/numbers.js';
import type { SqlStore } from '../../src/store/sql-store.js';
import { ADMIN, ALICE, makeDeps } from '../helpers/deps.js';
import { syncRow } from '../helpers/fixtures.js';
import type { TestDeps } from '../helpers/deps.js';
import { STORES } from '../helpers/stores.js';

const COUNT = 150;
const e164 = (i: number) => `+1650${String(2000000 + i).padStart(7, '0')}`;

for (const { name, make, skip } of STORES) {
  describe.skipIf(skip)(`list (${name} store)`, () => {
    let store: SqlStore;
    let deps: TestDeps;
    beforeEach(async () => {
      store = await make();
      deps = makeDeps(store);
      await store.syncBegin('S-LIST', 'sandbox', 'local', new Date());
      await store.syncBatch(
        'S-LIST',
        'sandbox',
        Array.from({ length: COUNT }, (_, i) =>
          syncRow(e164(i), { monthlyCost: i % 2 === 0 ? 1 : 1.15 }),
        ),
      );
      await store.syncFinish('S-LIST', new Date());
      for (const i of [3, 4]) await store.claimNumber(e164(i), ALICE.id, null);
    });
    afterEach(async () => {
      await store.close();
    });

    it('shows a page and totals every number in scope', async () => {
      const all = await runCommand(deps, list, ADMIN, { scope: 'all' });
      expect(all.numbers).toHaveLength(LIST_PAGE);
      expect(all.totals.team).toEqual({ count: COUNT, monthly: 75 * 1 + 75 * 1.15 });
      expect(all.totals.byOwner).toEqual([
        { owner: 'pool', count: COUNT - 2, monthly: 161.25 - 2.15 },
        { owner: ALICE.id, count: 2, monthly: 2.15 },
      ]);
      const everything = await runCommand(deps, list, ADMIN, { scope: 'all', limit: 1000 });
      expect(everything.numbers).toHaveLength(COUNT);
      const pool = await runCommand(deps, list, ALICE, { scope: 'pool', limit: 10 });
      expect(pool.numbers).toHaveLength(10);
      expect(pool.totals.team.count).toBe(COUNT - 2);
      const mine = await runCommand(deps, list, ALICE, {});
      expect(mine.scope).toBe('mine');
      expect(mine.numbers.map((n) => n.e164)).toEqual([e164(3), e164(4)]);
      expect(mine.totals.team).toEqual({ count: 2, monthly: 2.15 });
    });
  });
}
