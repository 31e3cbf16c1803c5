/**
 * Migration 013 on every store: MCP tokens carry their owning member (default: their maker), and a
 * purchase request records on whose behalf it was made. Plus the backfill: tokens made before 013
 * belong to whoever made them, and running 013 twice changes nothing.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
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

const newRequest = (id: string, quoteId: string, onBehalfOf?: string | null) => ({
  id,
  requester: 'mcp:alice-claude',
  ...(onBehalfOf !== undefined ? { onBehalfOf } : {}),
  surface: 'mcp',
  quoteId,
  areaCode: null,
  reason: 'test',
  expiresAt: LATER(60),
  memberCap: null,
  monthlyBudget: null,
  now: NOW,
});

for (const { name, make, skip } of STORES) {
  describe.skipIf(skip)(`token owners and on-behalf requests: ${name}`, () => {
    let store: SqlStore;
    beforeEach(async () => {
      store = await make();
    });
    afterEach(async () => {
      await store.close();
    });

    it('a token is owned by the member named, else by its maker; list and lookup show the owner', async () => {
      const forAlice = await store.createApiToken({
        name: 'alice-claude',
        role: 'requester',
        tokenHash: HASH('a'),
        createdBy: 'U01ADMIN',
        owner: 'U01ALICE',
        now: NOW,
      });
      expect(forAlice).toMatchObject({
        status: 'created',
        token: { name: 'alice-claude', owner: 'U01ALICE', createdBy: 'U01ADMIN' },
      });
      const own = await store.createApiToken({
        name: 'admin-dash',
        role: 'reader',
        tokenHash: HASH('b'),
        createdBy: 'U01ADMIN',
        now: NOW,
      });
      expect(own).toMatchObject({ status: 'created', token: { owner: 'U01ADMIN' } });
      expect((await store.listApiTokens()).map((t) => [t.name, t.owner])).toEqual([
        ['alice-claude', 'U01ALICE'],
        ['admin-dash', 'U01ADMIN'],
      ]);
      expect((await store.findApiTokenByHash(HASH('a')))?.owner).toBe('U01ALICE');
      expect((await store.revokeApiToken('alice-claude', NOW)).status).toBe('revoked');
      expect((await store.listApiTokens())[0]).toMatchObject({ owner: 'U01ALICE' });
    });

    it('a purchase or provision request records on whose behalf it was made; others record none', async () => {
      await store.saveQuotes([
        quote('Q-1', '+14155550001'),
        quote('Q-2', '+14155550002'),
        quote('Q-3', '+14155550003'),
      ]);
      const made = await store.createPurchaseRequest(newRequest('R-1', 'Q-1', 'U01ALICE'));
      expect(made).toMatchObject({
        status: 'created',
        request: { requester: 'mcp:alice-claude', onBehalfOf: 'U01ALICE' },
      });
      const provisioned = await store.createPurchaseRequest({
        ...newRequest('R-2', 'Q-2', 'U01ALICE'),
        provision: { fallback: 'area-code', agent: 'retell:agent_1' },
      });
      expect(provisioned).toMatchObject({
        status: 'created',
        request: { onBehalfOf: 'U01ALICE', provision: { agent: 'retell:agent_1' } },
      });
      const plain = await store.createPurchaseRequest(newRequest('R-3', 'Q-3'));
      expect(plain).toMatchObject({ status: 'created', request: { onBehalfOf: null } });

      expect((await store.getRequest('R-1'))?.onBehalfOf).toBe('U01ALICE');
      const listed = await store.listRequests({});
      expect(Object.fromEntries(listed.map((r) => [r.id, r.onBehalfOf]))).toEqual({
        'R-1': 'U01ALICE',
        'R-2': 'U01ALICE',
        'R-3': null,
      });
      const decided = await store.decideRequest('R-1', 'U01BOB', true, null, NOW);
      expect(decided).toMatchObject({ status: 'decided', request: { onBehalfOf: 'U01ALICE' } });
    });
  });
}

// ------------------------------------------------------------------------------------------------
// The backfill: a database at 012, with tokens and a request, then 013 (twice).

const before013 = () => loadMigrations().filter((m) => m.name < '013');
const migration013 = () => {
  const found = loadMigrations().find((m) => m.name === '013_token_owner.sql');
  if (!found) throw new Error('013_token_owner.sql is missing');
  return found;
};

async function backfillCheck(db: SqlExecutor, store: SqlStore): Promise<void> {
  await migrate(db, before013());
  // Tokens as the previous build made them: the five-argument create_api_token, no owner.
  await db.query(
    `select switchboard.create_api_token($1::text, $2::text, $3::text, $4::text, $5::timestamptz)`,
    ['old-claude', 'requester', HASH('c'), 'U01ADMIN', NOW.toISOString()],
  );
  await db.query(
    `select switchboard.create_api_token($1::text, $2::text, $3::text, $4::text, $5::timestamptz)`,
    ['old-local', 'reader', HASH('d'), 'local', NOW.toISOString()],
  );
  await store.saveQuotes([quote('Q-OLD', '+14155550009')]);
  await db.query(
    `select switchboard.create_purchase_request($1::text, $2::text, $3::text, $4::text, $5::text,
       $6::text, $7::timestamptz, $8::int, $9::numeric, $10::timestamptz)`,
    [
      'R-OLD',
      'mcp:old-claude',
      'mcp',
      'Q-OLD',
      null,
      null,
      LATER(60).toISOString(),
      null,
      null,
      NOW.toISOString(),
    ],
  );

  expect(await migrate(db, [...before013(), migration013()])).toEqual(['013_token_owner.sql']);
  const owners = () =>
    store.listApiTokens().then((tokens) => tokens.map((t) => [t.name, t.owner, t.createdBy]));
  expect(await owners()).toEqual([
    ['old-claude', 'U01ADMIN', 'U01ADMIN'],
    ['old-local', 'local', 'local'],
  ]);
  expect((await store.getRequest('R-OLD'))?.onBehalfOf).toBeNull();
  const [column] = await db.query<{ is_nullable: string }>(
    `select is_nullable from information_schema.columns
     where table_schema = 'switchboard' and table_name = 'api_tokens' and column_name = 'owner'`,
  );
  expect(column?.is_nullable).toBe('NO');

  // Safe to run twice: the same file again changes nothing and leaves one function of each name.
  await db.transaction((tx) => tx.exec(migration013().sql));
  expect(await owners()).toEqual([
    ['old-claude', 'U01ADMIN', 'U01ADMIN'],
    ['old-local', 'local', 'local'],
  ]);
  const functions = await db.query<{ proname: string; n: number }>(
    `select proname, count(*)::int as n from pg_proc
     where pronamespace = 'switchboard'::regnamespace
       and proname in ('create_api_token', 'create_purchase_request', 'create_provision_request')
     group by proname order by proname`,
  );
  expect(functions).toEqual([
    { proname: 'create_api_token', n: 1 },
    { proname: 'create_provision_request', n: 1 },
    { proname: 'create_purchase_request', n: 1 },
  ]);
  // A caller of the previous build (five arguments) still makes tokens, owned by their maker.
  await db.query(
    `select switchboard.create_api_token($1::text, $2::text, $3::text, $4::text, $5::timestamptz)`,
    ['old-build', 'reader', HASH('e'), 'U01ADMIN', NOW.toISOString()],
  );
  expect((await store.findApiTokenByHash(HASH('e')))?.owner).toBe('U01ADMIN');
}

for (const { name, make, skip } of UNMIGRATED_STORES) {
  describe.skipIf(skip)(`migration 013 backfill: ${name}`, () => {
    it('tokens made before 013 are owned by their maker; running 013 twice changes nothing', async () => {
      const store = await make();
      try {
        await backfillCheck(dbOf(store), store);
      } finally {
        await store.close();
      }
    }, 120_000);
  });
}
