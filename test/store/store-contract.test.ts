/**
 * The store contract: every store (PGlite always; PostgreSQL when TEST_DATABASE_URL is set) runs
 * the same SQL functions and must give the same answers.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SyncRow } from '../../src/core/ports.js';
import { migrate } from '../../src/store/migrate.js';
import type { SqlStore } from '../../src/store/sql-store.js';
import { STORES } from '../helpers/stores.js';
import { minutesLater, sandboxQuote, syncRow, TEST_NOW } from '../helpers/fixtures.js';

// Now, to the minute: the database compares some times with its own clock.
const NOW = TEST_NOW;
const LATER = minutesLater;

const quote = (id: string, e164: string, monthly = 1) =>
  sandboxQuote(id, e164, { features: ['voice', 'sms'], monthlyCost: monthly });

const request = (
  id: string,
  quoteId: string,
  requester = 'U01ALICE',
  extra: {
    memberCap?: number | null;
    monthlyBudget?: number | null;
    areaCode?: string | null;
  } = {},
) => ({
  id,
  requester,
  surface: 'cli',
  quoteId,
  areaCode: extra.areaCode ?? null,
  reason: 'test',
  expiresAt: LATER(60),
  memberCap: extra.memberCap ?? null,
  monthlyBudget: extra.monthlyBudget ?? null,
  now: NOW,
});

/**
 * One whole sync run, begun at the current time: a run judges only numbers recorded before it
 * began (sync_finish compares their updated_at with the run's start), as real runs do.
 */
async function syncAll(store: SqlStore, runId: string, rows: SyncRow[]) {
  const begun = await store.syncBegin(runId, 'sandbox', 'local', new Date());
  expect(begun.status).toBe('started');
  const counts = await store.syncBatch(runId, 'sandbox', rows);
  const run = await store.syncFinish(runId, new Date());
  return { counts, run };
}

for (const { name, make, skip } of STORES) {
  describe.skipIf(skip)(`store contract: ${name}`, () => {
    let store: SqlStore;
    beforeEach(async () => {
      store = await make();
    });
    afterEach(async () => {
      await store.close();
    });

    it('runs the migrations again without applying anything twice', async () => {
      const db = (store as unknown as { db: Parameters<typeof migrate>[0] }).db;
      expect(await migrate(db)).toEqual([]);
    });

    it('binds a request to the quote and refuses a second live request for the same number', async () => {
      await store.saveQuotes([quote('Q-1', '+14155550100', 1.15)]);
      const created = await store.createPurchaseRequest(request('R-1', 'Q-1'));
      expect(created).toMatchObject({
        status: 'created',
        request: {
          id: 'R-1',
          status: 'pending',
          monthlyCost: 1.15,
          e164: '+14155550100',
          requester: 'U01ALICE',
        },
      });
      const again = await store.createPurchaseRequest(request('R-2', 'Q-1', 'U01CAROL'));
      expect(again).toMatchObject({ status: 'duplicate', request: { id: 'R-1' } });
      expect(await store.createPurchaseRequest(request('R-3', 'Q-missing'))).toEqual({
        status: 'quote-not-found',
      });
    });

    it('refuses an expired quote', async () => {
      await store.saveQuotes([
        { ...quote('Q-old', '+14155550101'), expiresAt: new Date(NOW.getTime() - 1000) },
      ]);
      expect((await store.createPurchaseRequest(request('R-1', 'Q-old'))).status).toBe(
        'quote-expired',
      );
    });

    it('enforces the member cap and the monthly budget, saying by how much', async () => {
      await store.saveQuotes([quote('Q-1', '+14155550100', 3), quote('Q-2', '+14155550101', 3)]);
      expect((await store.createPurchaseRequest(request('R-1', 'Q-1'))).status).toBe('created');
      expect(
        await store.createPurchaseRequest(request('R-2', 'Q-2', 'U01ALICE', { memberCap: 1 })),
      ).toEqual({ status: 'member-cap', count: 1, cap: 1 });
      expect(
        await store.createPurchaseRequest(request('R-3', 'Q-2', 'U01CAROL', { monthlyBudget: 5 })),
      ).toEqual({ status: 'over-budget', committed: 3, budget: 5, cost: 3 });
    });

    it('moves pending -> approved once; a second decision sees it decided', async () => {
      await store.saveQuotes([quote('Q-1', '+14155550100')]);
      await store.createPurchaseRequest(request('R-1', 'Q-1'));
      const first = await store.decideRequest('R-1', 'U01BOB', true, null, NOW);
      expect(first).toMatchObject({
        status: 'decided',
        request: { status: 'approved', decidedBy: 'U01BOB' },
      });
      const second = await store.decideRequest('R-1', 'U01DAVE', false, 'no', NOW);
      expect(second).toMatchObject({
        status: 'not-pending',
        request: { status: 'approved', decidedBy: 'U01BOB' },
      });
      expect(await store.decideRequest('R-404', 'U01BOB', true, null, NOW)).toEqual({
        status: 'not-found',
      });
    });

    it('expires a pending request whose time is up, once', async () => {
      await store.saveQuotes([quote('Q-1', '+14155550100')]);
      await store.createPurchaseRequest(request('R-1', 'Q-1'));
      expect(await store.expireRequests(LATER(59))).toEqual([]);
      const expired = await store.expireRequests(LATER(61));
      expect(expired.map((r) => [r.id, r.status])).toEqual([['R-1', 'expired']]);
      expect(await store.expireRequests(LATER(62))).toEqual([]);
      expect((await store.decideRequest('R-1', 'U01BOB', true, null, LATER(63))).status).toBe(
        'not-pending',
      );
    });

    it('a decision after the deadline expires the request instead', async () => {
      await store.saveQuotes([quote('Q-1', '+14155550100')]);
      await store.createPurchaseRequest(request('R-1', 'Q-1'));
      expect(await store.decideRequest('R-1', 'U01BOB', true, null, LATER(61))).toMatchObject({
        status: 'expired',
        request: { status: 'expired' },
      });
    });

    it("executes once and records the purchase idempotently as the requester's number", async () => {
      await store.saveQuotes([quote('Q-1', '+14155550100')]);
      await store.createPurchaseRequest(request('R-1', 'Q-1'));
      await store.decideRequest('R-1', 'U01BOB', true, null, NOW);
      expect((await store.beginExecution('R-1', NOW)).status).toBe('executing');
      expect((await store.beginExecution('R-1', NOW)).status).toBe('not-approved');
      const bought = { ...quote('Q-1', '+14155550100'), carrierRef: 'sbx-pn-9' };
      const done = await store.completePurchase('R-1', bought, 'order-1', NOW);
      expect(done).toMatchObject({
        status: 'done',
        request: { status: 'done', carrierOrderRef: 'order-1' },
        number: {
          e164: '+14155550100',
          owner: 'U01ALICE',
          status: 'assigned',
          carrierRef: 'sbx-pn-9',
          source: 'purchase',
        },
      });
      const again = await store.completePurchase('R-1', bought, 'order-1', NOW);
      expect(again.status).toBe('already-done');
      expect((await store.listNumbers({ scope: 'all' })).length).toBe(1);
    });

    it('fails an executing request and refuses to fail a pending one', async () => {
      await store.saveQuotes([quote('Q-1', '+14155550100')]);
      await store.createPurchaseRequest(request('R-1', 'Q-1'));
      expect((await store.failRequest('R-1', 'failed', 'X', 'why', NOW)).status).toBe(
        'not-executing',
      );
      await store.decideRequest('R-1', 'U01BOB', true, null, NOW);
      await store.beginExecution('R-1', NOW);
      expect(await store.failRequest('R-1', 'failed', 'TAKEN', 'taken', NOW)).toMatchObject({
        status: 'ok',
        request: { status: 'failed', errorCode: 'TAKEN' },
      });
    });

    it('claims a pool number once; the owner claiming again gets it back; others conflict', async () => {
      await syncAll(store, 'S-1', [syncRow('+14155550142')]);
      expect((await store.claimNumber('+14155550142', 'U01ALICE', null)).status).toBe('claimed');
      expect((await store.claimNumber('+14155550142', 'U01ALICE', null)).status).toBe(
        'already-yours',
      );
      expect(await store.claimNumber('+14155550142', 'U01CAROL', null)).toMatchObject({
        status: 'held',
        owner: 'U01ALICE',
      });
      expect((await store.claimNumber('+19995550000', 'U01CAROL', null)).status).toBe('not-found');
    });

    it('gives a number back to the pool only from the owner checked, never while linked, missing or released', async () => {
      await syncAll(
        store,
        'S-1',
        ['+14155550142', '+14155550143', '+14155550144'].map((e) => syncRow(e)),
      );
      const [a, b, c] = await Promise.all(
        ['+14155550142', '+14155550143', '+14155550144'].map(async (e164) => {
          expect((await store.claimNumber(e164, 'U01ALICE', null)).status).toBe('claimed');
          return (await store.getNumber(e164))!;
        }),
      );
      // Someone else's now: nothing changes.
      expect(await store.unclaimNumber(a!.id, 'U01CAROL', NOW)).toMatchObject({
        status: 'held',
        owner: 'U01ALICE',
        number: { status: 'assigned', owner: 'U01ALICE' },
      });
      expect(await store.unclaimNumber(a!.id, 'U01ALICE', NOW)).toMatchObject({
        status: 'unclaimed',
        number: { e164: '+14155550142', status: 'available', owner: null },
      });
      expect((await store.unclaimNumber(a!.id, 'U01ALICE', NOW)).status).toBe('in-pool');
      expect((await store.listNumbers({ scope: 'pool' })).map((n) => n.e164)).toEqual([
        '+14155550142',
      ]);
      expect((await store.claimNumber('+14155550142', 'U01CAROL', null)).status).toBe('claimed');

      await store.linkNumber(b!.id, 'retell', 'agent_1', 'ref-1', NOW);
      expect(await store.unclaimNumber(b!.id, 'U01ALICE', NOW)).toMatchObject({
        status: 'linked',
        number: { status: 'assigned', owner: 'U01ALICE' },
      });
      await store.unlinkNumber(b!.id, NOW);
      await store.releaseNumber(b!.id, NOW);
      expect((await store.unclaimNumber(b!.id, 'U01ALICE', NOW)).status).toBe('released');

      // The next sync no longer lists c.
      await syncAll(store, 'S-2', [syncRow('+14155550142')]);
      expect(await store.unclaimNumber(c!.id, 'U01ALICE', NOW)).toMatchObject({
        status: 'missing',
        number: { status: 'missing', owner: 'U01ALICE' },
      });
      expect((await store.unclaimNumber(987_654_321, 'U01ALICE', NOW)).status).toBe('not-found');
    });

    it('refuses to release a linked number, releases an unlinked one, and keeps it as history', async () => {
      await syncAll(store, 'S-1', [syncRow('+14155550142')]);
      const number = (await store.getNumber('+14155550142'))!;
      expect((await store.linkNumber(number.id, 'retell', 'agent_1', 'ref-1', NOW)).status).toBe(
        'linked',
      );
      expect((await store.releaseNumber(number.id, NOW)).status).toBe('linked');
      expect((await store.unlinkNumber(number.id, NOW)).status).toBe('unlinked');
      expect((await store.unlinkNumber(number.id, NOW)).status).toBe('not-linked');
      expect(await store.releaseNumber(number.id, NOW)).toMatchObject({
        status: 'released',
        number: { status: 'released' },
      });
      expect(await store.listNumbers({ scope: 'all' })).toEqual([]);
      expect((await store.getNumber('+14155550142'))?.status).toBe('released');
    });

    it('syncs: new numbers land in the pool; an unchanged re-sync writes no number; vanished ones go missing', async () => {
      const first = await syncAll(store, 'S-1', [syncRow('+14155550142'), syncRow('+12125550117')]);
      expect(first.counts).toEqual({ seen: 2, new: 2, updated: 0, unchanged: 0 });
      expect((await store.listNumbers({ scope: 'pool' })).map((n) => n.e164).sort()).toEqual([
        '+12125550117',
        '+14155550142',
      ]);
      const before = (await store.getNumber('+14155550142'))!.updatedAt;
      const second = await syncAll(store, 'S-2', [
        syncRow('+14155550142'),
        syncRow('+12125550117'),
      ]);
      expect(second.counts).toEqual({ seen: 2, new: 0, updated: 0, unchanged: 2 });
      expect((await store.getNumber('+14155550142'))!.updatedAt).toEqual(before);
      const third = await syncAll(store, 'S-3', [syncRow('+14155550142', { monthlyCost: 2 })]);
      expect(third.counts).toEqual({ seen: 1, new: 0, updated: 1, unchanged: 0 });
      expect(third.run.missing).toBe(1);
      expect((await store.getNumber('+12125550117'))?.status).toBe('missing');
      const fourth = await syncAll(store, 'S-4', [
        syncRow('+14155550142', { monthlyCost: 2 }),
        syncRow('+12125550117'),
      ]);
      expect(fourth.counts.updated).toBe(1);
      expect((await store.getNumber('+12125550117'))?.status).toBe('available');
    });

    it('leaves numbers that purchases are ordering out of the pool, and pools the rest', async () => {
      await store.saveQuotes([
        quote('Q-1', '+14155550100'),
        quote('Q-2', '+14155550101'),
        quote('Q-3', '+14155550102'),
      ]);
      await store.createPurchaseRequest(request('R-1', 'Q-1'));
      await store.decideRequest('R-1', 'U01BOB', true, null, NOW); // approved
      await store.createPurchaseRequest(request('R-2', 'Q-2', 'U01CAROL'));
      await store.decideRequest('R-2', 'U01BOB', true, null, NOW);
      expect((await store.beginExecution('R-2', NOW)).status).toBe('executing');
      await store.createPurchaseRequest(request('R-3', 'Q-3', 'U01DAVE')); // still pending
      const { counts } = await syncAll(
        store,
        'S-1',
        ['+14155550100', '+14155550101', '+14155550102', '+14155550103'].map((e) => syncRow(e)),
      );
      expect(counts).toEqual({ seen: 4, new: 2, updated: 0, unchanged: 2 });
      expect((await store.listNumbers({ scope: 'pool' })).map((n) => n.e164).sort()).toEqual([
        '+14155550102',
        '+14155550103',
      ]);
      // Once the order is recorded, the next sync finds the number the purchase recorded.
      await store.completePurchase(
        'R-2',
        { ...quote('Q-2', '+14155550101'), carrierRef: 'ref-+14155550101' },
        'order-2',
        NOW,
      );
      expect((await store.getNumber('+14155550101'))?.owner).toBe('U01CAROL');
    });

    it('allows one running sync per carrier', async () => {
      expect((await store.syncBegin('S-1', 'sandbox', 'local', NOW)).status).toBe('started');
      expect(await store.syncBegin('S-2', 'sandbox', 'local', NOW)).toMatchObject({
        status: 'busy',
        run: { id: 'S-1' },
      });
      await store.syncFail('S-1', 'carrier down', NOW);
      expect((await store.listSyncRuns(1))[0]).toMatchObject({
        id: 'S-1',
        status: 'failed',
        error: 'carrier down',
      });
      expect((await store.syncBegin('S-3', 'sandbox', 'local', NOW)).status).toBe('started');
    });

    it('records and filters audit events', async () => {
      const base = {
        at: NOW,
        surface: 'cli' as const,
        outcome: 'ok' as const,
        errorCode: null,
        message: null,
        monthlyCost: null,
        upfrontCost: null,
        currency: null,
        durationMs: 3,
        detail: { a: 1 },
      };
      await store.recordAudit({
        ...base,
        actor: 'U01ALICE',
        command: 'claim',
        target: '+14155550142',
        requestId: null,
      });
      await store.recordAudit({
        ...base,
        actor: 'U01BOB',
        command: 'approve',
        target: '+14155550100',
        requestId: 'R-1',
        monthlyCost: 1.15,
        currency: 'USD',
      });
      expect((await store.listAudit({ actor: 'U01ALICE' })).map((e) => e.command)).toEqual([
        'claim',
      ]);
      expect(await store.listAudit({ requestId: 'R-1' })).toMatchObject([
        { actor: 'U01BOB', monthlyCost: 1.15, detail: { a: 1 } },
      ]);
      expect((await store.listAudit({})).length).toBe(2);
    });
  });
}
