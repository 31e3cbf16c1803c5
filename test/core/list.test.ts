/**
 * `list`: a page of numbers (100 by default) and totals over every number in scope, on every
 * store.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCommand } from '../../src/core/command.js';
import { list } from '../../src/core/commands/index.js';
import { LIST_PAGE } from '../../src/core/commands/numbers.js';
import { parseWords } from '../../src/core/grammar.js';
import type { SqlStore } from '../../src/store/sql-store.js';
import { ADMIN, ALICE, BOB, makeDeps } from '../helpers/deps.js';
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

    it('pages through every number with `after`, the pool first, across owners, none twice', async () => {
      for (const i of [7, 8, 9]) await store.claimNumber(e164(i), 'U01CAROL', null);
      const everything = await runCommand(deps, list, ADMIN, { scope: 'all', limit: 1000 });
      expect(everything.next).toBeNull();
      const seen: string[] = [];
      let after: string | undefined;
      for (let pages = 0; pages < 10; pages++) {
        const page = await runCommand(deps, list, ADMIN, {
          scope: 'all',
          limit: 29,
          ...(after ? { after } : {}),
        });
        seen.push(...page.numbers.map((n) => n.e164));
        expect(page.totals.team.count).toBe(COUNT);
        if (!page.next) break;
        expect(page.next).toBe(page.numbers[page.numbers.length - 1]!.e164);
        after = page.next;
      }
      // 150 in pages of 29: five full pages and one of 5; the owners' numbers come last, in order.
      expect(seen).toEqual(everything.numbers.map((n) => n.e164));
      expect(seen.slice(-5)).toEqual([e164(3), e164(4), e164(7), e164(8), e164(9)]);
    });

    it('the store lists the numbers that start with a prefix, as a range', async () => {
      const tens = await store.listNumbers({ scope: 'pool', prefix: '+1650200001', limit: 100 });
      expect(tens.map((n) => n.e164)).toEqual(Array.from({ length: 10 }, (_, i) => e164(10 + i)));
      // Alice's two are not the pool's; the prefix is the whole number's start, not any digits.
      expect(await store.listNumbers({ scope: 'pool', prefix: '+16502000003' })).toEqual([]);
      expect(
        (await store.listNumbers({ owner: ALICE.id, prefix: '+1650' })).map((n) => n.e164),
      ).toEqual([e164(3), e164(4)]);
      expect(await store.listNumbers({ scope: 'all', prefix: '+1415' })).toEqual([]);
      expect(await store.listNumbers({ scope: 'all', prefix: '+2000000' })).toEqual([]);
    });

    /** Three numbers in 415 at $2 a month: two in the pool, +14155550103 Alice's. */
    async function threeIn415(): Promise<void> {
      await store.syncBegin('S-AREA', 'sandbox', 'local', new Date());
      await store.syncBatch(
        'S-AREA',
        'sandbox',
        ['+14155550101', '+14155550102', '+14155550103'].map((n) => syncRow(n, { monthlyCost: 2 })),
      );
      await store.claimNumber('+14155550103', ALICE.id, null);
    }

    it('narrows to an area code, totals and pages included', async () => {
      await threeIn415();
      const pool = await runCommand(deps, list, ADMIN, { scope: 'pool', area: '415' });
      expect(pool.area).toBe('415');
      expect(pool.numbers.map((n) => n.e164)).toEqual(['+14155550101', '+14155550102']);
      expect(pool.totals.team).toEqual({ count: 2, monthly: 4 });
      const all = await runCommand(deps, list, ADMIN, { scope: 'all', area: '415' });
      expect(all.totals.byOwner).toEqual([
        { owner: 'pool', count: 2, monthly: 4 },
        { owner: ALICE.id, count: 1, monthly: 2 },
      ]);
      const mine = await runCommand(deps, list, ALICE, { scope: 'mine', area: '415' });
      expect(mine.numbers.map((n) => n.e164)).toEqual(['+14155550103']);
      expect(mine.poolInArea).toBeNull();
      // Bob has none of his own in 415: the answer counts the pool's there, free to claim.
      const bobs = await runCommand(deps, list, BOB, { scope: 'mine', area: '415' });
      expect(bobs.numbers).toEqual([]);
      expect(bobs.poolInArea).toBe(2);
      expect((await runCommand(deps, list, BOB, { scope: 'mine', area: '212' })).poolInArea).toBe(
        0,
      );
      expect(pool.poolInArea).toBeNull();
      const none = await runCommand(deps, list, ADMIN, { scope: 'pool', area: '212' });
      expect(none.numbers).toEqual([]);
      expect(none.totals.team).toEqual({ count: 0, monthly: 0 });
      // Paging within the area code: the 650 numbers, none of the 415 ones.
      const first = await runCommand(deps, list, ADMIN, { scope: 'all', area: '650', limit: 100 });
      expect(first.totals.team.count).toBe(COUNT);
      const rest = await runCommand(deps, list, ADMIN, {
        scope: 'all',
        area: '650',
        after: first.next!,
        limit: 100,
      });
      expect(rest.next).toBeNull();
      const seen = [...first.numbers, ...rest.numbers].map((n) => n.e164);
      expect(new Set(seen).size).toBe(COUNT);
      expect(seen.every((e) => e.startsWith('+1650'))).toBe(true);
    });

    it('`list 415` (an area code, no scope) is the default scope in 415: hers for a member, all for an admin', async () => {
      await threeIn415();
      // As the CLI and Slack read the words: the area code alone, the scope left to its default.
      const words = parseWords(list, ['415']);
      expect(words).toEqual({ area: '415' });
      const mine = await runCommand(deps, list, ALICE, words);
      expect(mine.scope).toBe('mine');
      expect(mine.area).toBe('415');
      // Hers in 415 only: not the pool's 415 numbers, nor her 650 ones.
      expect(mine.numbers.map((n) => n.e164)).toEqual(['+14155550103']);
      expect(mine.totals.team).toEqual({ count: 1, monthly: 2 });
      expect(mine).toEqual(await runCommand(deps, list, ALICE, parseWords(list, ['mine', '415'])));
      const all = await runCommand(deps, list, ADMIN, words);
      expect(all.scope).toBe('all');
      expect(all.numbers.map((n) => n.e164)).toEqual([
        '+14155550101',
        '+14155550102',
        '+14155550103',
      ]);
      expect(all.totals.team).toEqual({ count: 3, monthly: 6 });
      expect(all).toEqual(await runCommand(deps, list, ADMIN, parseWords(list, ['all', '415'])));
    });

    it('a page that ends exactly at the last number has no next page', async () => {
      const pool = await runCommand(deps, list, ADMIN, { scope: 'pool', limit: COUNT - 3 });
      expect(pool.numbers).toHaveLength(COUNT - 3);
      expect(pool.next).toBe(pool.numbers[COUNT - 4]!.e164);
      const rest = await runCommand(deps, list, ADMIN, { scope: 'pool', after: pool.next! });
      expect(rest.numbers.map((n) => n.e164)).toEqual([e164(COUNT - 1)]);
      expect(rest.next).toBeNull();
      const exact = await runCommand(deps, list, ADMIN, { scope: 'pool', limit: COUNT - 2 });
      expect(exact.next).toBeNull();
    });

    it('mine and pool go on after a number that has since moved; all needs a number we know', async () => {
      // Her page's last number is hers no more (here, the pool's): the next page starts after it.
      const mine = await runCommand(deps, list, ALICE, { scope: 'mine', after: e164(2) });
      expect(mine.numbers.map((n) => n.e164)).toEqual([e164(3), e164(4)]);
      const afterHers = await runCommand(deps, list, ALICE, { scope: 'mine', after: e164(3) });
      expect(afterHers.numbers.map((n) => n.e164)).toEqual([e164(4)]);
      // The pool's page goes on after a number that is Alice's now.
      const pool = await runCommand(deps, list, ALICE, { scope: 'pool', after: e164(4), limit: 2 });
      expect(pool.numbers.map((n) => n.e164)).toEqual([e164(5), e164(6)]);
      await expect(
        runCommand(deps, list, ADMIN, { scope: 'all', after: '+14155550199' }),
      ).rejects.toMatchObject({
        code: 'NOT_FOUND',
        message: expect.stringContaining('+14155550199 is not one of our numbers'),
      });
    });
  });
}
