/**
 * Migration 015 on every store: a request is for coalesce(on_behalf_of, requester), the member a
 * token acts for. complete_purchase makes that member the number's owner (and their member row),
 * the per-member cap counts their requests whichever token made them (also when two arrive at
 * once, or a claim and a request race for the last slot), and listRequests({ member }) finds
 * them. Plus the upgrade: what tokens held before 015 moves to their owners, and running 015
 * twice changes nothing.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { NewPurchaseRequest } from '../../src/core/ports.js';
import { loadMigrations, migrate } from '../../src/store/migrate.js';
import type { SqlExecutor } from '../../src/store/sql.js';
import type { SqlStore } from '../../src/store/sql-store.js';
import { STORES, UNMIGRATED_STORES } from '../helpers/stores.js';
import { minutesLater, sandboxQuote, TEST_NOW } from '../helpers/fixtures.js';

const dbOf = (store: SqlStore) => (store as unknown as { db: SqlExecutor }).db;
const NOW = TEST_NOW;
const LATER = minutesLater;
const HASH = (c: string) => c.repeat(64);

const quote = (id: string, e164: string) => sandboxQuote(id, e164);

const request = (
  id: string,
  quoteId: string,
  requester: string,
  onBehalfOf: string | null,
  memberCap: number | null = null,
): NewPurchaseRequest => ({
  id,
  requester,
  onBehalfOf,
  surface: requester.startsWith('mcp:') ? 'mcp' : 'cli',
  quoteId,
  areaCode: null,
  reason: null,
  expiresAt: LATER(60),
  memberCap,
  monthlyBudget: null,
  now: NOW,
});

for (const { name, make, skip } of STORES) {
  describe.skipIf(skip)(`a request is for the member a token acts for: ${name}`, () => {
    let store: SqlStore;
    beforeEach(async () => {
      store = await make();
    });
    afterEach(async () => {
      await store.close();
    });

    it("complete_purchase makes the token's owner the number's owner, a member they were not yet", async () => {
      await store.saveQuotes([quote('Q-1', '+14155550101')]);
      await store.createPurchaseRequest(request('R-1', 'Q-1', 'mcp:dave-claude', 'U01DAVE'));
      expect(await store.getMember('U01DAVE')).not.toBeNull();
      await store.decideRequest('R-1', 'U01BOB', true, null, NOW);
      await store.beginExecution('R-1', NOW);
      const bought = { ...quote('Q-1', '+14155550101'), carrierRef: 'sbx-1' };
      const done = await store.completePurchase('R-1', bought, 'order-1', NOW);
      expect(done).toMatchObject({
        status: 'done',
        request: { requester: 'mcp:dave-claude', onBehalfOf: 'U01DAVE' },
        number: { owner: 'U01DAVE', status: 'assigned' },
      });
      expect((await store.getNumber('+14155550101'))?.owner).toBe('U01DAVE');
      // A request made directly is its requester's, as before.
      await store.saveQuotes([quote('Q-2', '+14155550102')]);
      await store.createPurchaseRequest(request('R-2', 'Q-2', 'U01ERIN', null));
      await store.decideRequest('R-2', 'U01BOB', true, null, NOW);
      await store.beginExecution('R-2', NOW);
      const direct = await store.completePurchase(
        'R-2',
        { ...quote('Q-2', '+14155550102'), carrierRef: 'sbx-2' },
        null,
        NOW,
      );
      expect(direct).toMatchObject({ status: 'done', number: { owner: 'U01ERIN' } });
    });

    it("the cap counts the owner's requests through every token, also two arriving at once", async () => {
      await store.saveQuotes([
        quote('Q-A', '+14155550201'),
        quote('Q-B', '+14155550202'),
        quote('Q-C', '+14155550203'),
        quote('Q-D', '+14155550204'),
      ]);
      const outcomes = await Promise.all([
        store.createPurchaseRequest(request('R-A', 'Q-A', 'mcp:alice-claude', 'U01ALICE', 1)),
        store.createPurchaseRequest(request('R-B', 'Q-B', 'mcp:alice-cursor', 'U01ALICE', 1)),
      ]);
      expect(outcomes.map((o) => o.status).sort()).toEqual(['created', 'member-cap']);
      expect(outcomes.find((o) => o.status === 'member-cap')).toMatchObject({ count: 1, cap: 1 });
      // Alice herself is at the cap too; a claim of hers as well.
      const direct = await store.createPurchaseRequest(request('R-C', 'Q-C', 'U01ALICE', null, 1));
      expect(direct).toMatchObject({ status: 'member-cap', count: 1 });
      // Another member's token is not.
      const carols = await store.createPurchaseRequest(
        request('R-D', 'Q-D', 'mcp:carol-claude', 'U01CAROL', 1),
      );
      expect(carols.status).toBe('created');
    });

    it('a claim and a request for one member cannot both take the last slot', async () => {
      await store.importNumber(
        'sandbox',
        {
          e164: '+14155550301',
          carrierRef: 'sbx-301',
          carrierAccount: null,
          country: 'US',
          region: 'CA',
          locality: null,
          numberType: 'local',
          features: ['voice'],
          monthlyCost: 1,
          upfrontCost: 0,
          currency: 'USD',
        },
        NOW,
      );
      await store.saveQuotes([quote('Q-R', '+14155550302')]);
      for (let round = 0; round < 3; round++) {
        const [claimed, requested] = await Promise.all([
          store.claimNumber('+14155550301', 'U01ALICE', 1),
          store.createPurchaseRequest(
            request(`R-RACE${round}`, 'Q-R', 'mcp:alice-claude', 'U01ALICE', 1),
          ),
        ]);
        const won = [claimed.status === 'claimed', requested.status === 'created'];
        expect(won.filter(Boolean)).toHaveLength(1);
        expect([claimed.status, requested.status]).toContain('member-cap');
        // Back to where it started, for the next round.
        if (claimed.status === 'claimed') {
          await dbOf(store).query(
            `update switchboard.numbers set owner = null, status = 'available' where e164 = $1`,
            ['+14155550301'],
          );
        } else {
          await store.decideRequest(`R-RACE${round}`, 'U01ALICE', false, null, NOW);
        }
      }
    });

    it('listRequests({ member }) finds the requests made by them or on their behalf, newest first', async () => {
      await store.saveQuotes([
        quote('Q-1', '+14155550401'),
        quote('Q-2', '+14155550402'),
        quote('Q-3', '+14155550403'),
        quote('Q-4', '+14155550404'),
      ]);
      await store.createPurchaseRequest({ ...request('R-1', 'Q-1', 'U01ALICE', null) });
      await store.createPurchaseRequest({
        ...request('R-2', 'Q-2', 'mcp:alice-claude', 'U01ALICE'),
        now: LATER(1),
      });
      await store.createPurchaseRequest({
        ...request('R-3', 'Q-3', 'mcp:carol-claude', 'U01CAROL'),
        now: LATER(2),
      });
      await store.createPurchaseRequest({
        ...request('R-4', 'Q-4', 'mcp:alice-cursor', 'U01ALICE'),
        now: LATER(3),
      });
      const ids = async (filter: Parameters<SqlStore['listRequests']>[0]) =>
        (await store.listRequests(filter)).map((r) => r.id);
      expect(await ids({ member: 'U01ALICE' })).toEqual(['R-4', 'R-2', 'R-1']);
      expect(await ids({ member: 'U01ALICE', limit: 2 })).toEqual(['R-4', 'R-2']);
      expect(await ids({ member: 'U01CAROL' })).toEqual(['R-3']);
      expect(await ids({ member: 'mcp:alice-claude' })).toEqual(['R-2']);
      expect(await ids({ member: 'U01ALICE', statuses: ['denied'] })).toEqual([]);
    });
  });
}

// ------------------------------------------------------------------------------------------------
// The upgrade: a database at 014 where tokens held numbers and made requests, then 015 (twice).

const before015 = () => loadMigrations().filter((m) => m.name < '015');
const migration015 = () => {
  const found = loadMigrations().find((m) => m.name === '015_token_acts_for_owner.sql');
  if (!found) throw new Error('015_token_acts_for_owner.sql is missing');
  return found;
};

async function upgradeCheck(db: SqlExecutor, store: SqlStore): Promise<void> {
  await migrate(db, before015());
  await store.createApiToken({
    name: 'alice-claude',
    role: 'requester',
    tokenHash: HASH('a'),
    createdBy: 'U01ADMIN',
    owner: 'U01ALICE',
    now: NOW,
  });
  for (const [e164, ref] of [
    ['+14155550501', 'sbx-501'],
    ['+14155550502', 'sbx-502'],
  ] as const) {
    await store.importNumber(
      'sandbox',
      {
        e164,
        carrierRef: ref,
        carrierAccount: null,
        country: 'US',
        region: 'CA',
        locality: null,
        numberType: 'local',
        features: [],
        monthlyCost: 1,
        upfrontCost: 0,
        currency: 'USD',
      },
      NOW,
    );
  }
  // What the previous build did: a claim through the token made `mcp:alice-claude` the owner.
  await store.claimNumber('+14155550501', 'mcp:alice-claude', null);
  await store.claimNumber('+14155550502', 'U01CAROL', null);
  await store.saveQuotes([quote('Q-OLD', '+14155550503'), quote('Q-NEW', '+14155550504')]);
  // A request through the token from before 013 (no owner recorded), pending.
  await store.createPurchaseRequest(request('R-OLD', 'Q-OLD', 'mcp:alice-claude', null));
  // One made by 013's function for a member no function had made a row for yet.
  await store.createPurchaseRequest(request('R-NEW', 'Q-NEW', 'mcp:erin-claude', 'U01ERIN'));
  await store.decideRequest('R-NEW', 'U01BOB', true, null, NOW);
  await store.beginExecution('R-NEW', NOW);

  expect(await migrate(db, [...before015(), migration015()])).toEqual([
    '015_token_acts_for_owner.sql',
  ]);
  const state = async () => ({
    numbers: Object.fromEntries(
      (
        await db.query<{ e164: string; owner: string | null }>(
          `select e164, owner from switchboard.numbers order by e164`,
        )
      ).map((n) => [n.e164, n.owner]),
    ),
    old: (await store.getRequest('R-OLD'))?.onBehalfOf,
  });
  const moved = {
    numbers: { '+14155550501': 'U01ALICE', '+14155550502': 'U01CAROL' },
    old: 'U01ALICE',
  };
  expect(await state()).toEqual(moved);
  expect(await store.getMember('U01ALICE')).not.toBeNull();
  // The number totals (012's triggers) follow the move.
  expect(await store.numberTotals({ owner: 'U01ALICE' })).toMatchObject([
    { owner: 'U01ALICE', count: 1 },
  ]);
  expect(await store.numberTotals({ owner: 'mcp:alice-claude' })).toEqual([]);

  // The request made before 015 completes to its member, whose row is made on the way.
  const done = await store.completePurchase(
    'R-NEW',
    { ...quote('Q-NEW', '+14155550504'), carrierRef: 'sbx-504' },
    null,
    NOW,
  );
  expect(done).toMatchObject({ status: 'done', number: { owner: 'U01ERIN' } });

  // Safe to run twice: nothing moves again, and one function of each name is left.
  await db.transaction((tx) => tx.exec(migration015().sql));
  expect(await state()).toEqual({
    numbers: { ...moved.numbers, '+14155550504': 'U01ERIN' },
    old: 'U01ALICE',
  });
  const functions = await db.query<{ proname: string; n: number }>(
    `select proname, count(*)::int as n from pg_proc
     where pronamespace = 'switchboard'::regnamespace
       and proname in ('create_purchase_request', 'create_provision_request', 'complete_purchase',
                       'member_number_count', 'claim_number')
     group by proname order by proname`,
  );
  expect(functions).toEqual([
    { proname: 'claim_number', n: 1 },
    { proname: 'complete_purchase', n: 1 },
    { proname: 'create_provision_request', n: 1 },
    { proname: 'create_purchase_request', n: 1 },
    { proname: 'member_number_count', n: 1 },
  ]);
  // A caller of an older build (ten arguments, no on_behalf_of) still makes requests.
  await store.saveQuotes([quote('Q-TEN', '+14155550505')]);
  await db.query(
    `select switchboard.create_purchase_request($1::text, $2::text, $3::text, $4::text, $5::text,
       $6::text, $7::timestamptz, $8::int, $9::numeric, $10::timestamptz)`,
    [
      'R-TEN',
      'U01ALICE',
      'cli',
      'Q-TEN',
      null,
      null,
      LATER(60).toISOString(),
      5,
      null,
      NOW.toISOString(),
    ],
  );
  expect((await store.getRequest('R-TEN'))?.status).toBe('pending');
}

for (const { name, make, skip } of UNMIGRATED_STORES) {
  describe.skipIf(skip)(`migration 015 upgrade: ${name}`, () => {
    it('moves what tokens held to their owners; running 015 twice changes nothing', async () => {
      const store = await make();
      try {
        await upgradeCheck(dbOf(store), store);
      } finally {
        await store.close();
      }
    }, 120_000);
  });
}
