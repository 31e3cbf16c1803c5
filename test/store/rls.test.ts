/**
 * Row-level security (005_rls_leases.sql), on PGlite always and on PostgreSQL when
 * TEST_DATABASE_URL is set. Each query runs the way Supabase's API runs it: in a transaction with
 * `set local role <anon|authenticated|service_role>` and the JWT's claims in
 * `request.jwt.claims`, so `auth.uid()` answers as it does on Supabase.
 *
 * For every role and every table in schema `switchboard` the test shows what can be read, and
 * that nothing can be written except by the service role.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SqlExecutor } from '../../src/store/sql.js';
import type { SqlStore } from '../../src/store/sql-store.js';
import { auditEvent, minutesLater, sandboxQuote, syncRow, TEST_NOW } from '../helpers/fixtures.js';
import { freshPglite, freshPostgres, TEST_DATABASE_URL } from '../helpers/stores.js';

// Now, to the minute: the database compares some times with its own clock.
const NOW = TEST_NOW;
const LATER = minutesLater(60);

// Supabase auth user ids (the JWT's `sub`).
const ALICE = '11111111-1111-4111-8111-111111111111';
const BOB = '22222222-2222-4222-8222-222222222222'; // an approver
const CAROL = '33333333-3333-4333-8333-333333333333';
const STRANGER = '44444444-4444-4444-8444-444444444444'; // signed in, but no member

type Who =
  | { role: 'anon' }
  | { role: 'authenticated'; sub: string }
  | { role: 'service_role' }
  | { role: 'owner' };

const anon: Who = { role: 'anon' };
const as = (sub: string): Who => ({ role: 'authenticated', sub });
const service: Who = { role: 'service_role' };

type Result<T> = { ok: true; rows: T[] } | { ok: false; code: string; message: string };

function executor(store: SqlStore): SqlExecutor {
  return (store as unknown as { db: SqlExecutor }).db;
}

/** Runs one statement as `who`, in a transaction that is always rolled back. */
async function run<T = Record<string, unknown>>(
  store: SqlStore,
  who: Who,
  text: string,
  params: unknown[] = [],
): Promise<Result<T>> {
  const rollback = new Error('rollback');
  let result: Result<T> | undefined;
  try {
    await executor(store).transaction(async (tx) => {
      if (who.role !== 'owner') {
        const claims =
          who.role === 'authenticated' ? { sub: who.sub, role: who.role } : { role: who.role };
        await tx.query(`select set_config('request.jwt.claims', $1, true)`, [
          JSON.stringify(claims),
        ]);
        await tx.exec(`set local role ${who.role}`);
      }
      try {
        result = { ok: true, rows: await tx.query<T>(text, params) };
      } catch (error) {
        const e = error as { code?: string; message?: string };
        result = { ok: false, code: String(e.code), message: String(e.message) };
      }
      throw rollback;
    });
  } catch (error) {
    if (error !== rollback) throw error;
  }
  return result!;
}

async function tables(store: SqlStore): Promise<string[]> {
  const result = await run<{ tablename: string }>(
    store,
    { role: 'owner' },
    `select tablename from pg_tables where schemaname = 'switchboard' order by tablename`,
  );
  if (!result.ok) throw new Error(result.message);
  return result.rows.map((row) => row.tablename);
}

/** A small world: a pool number, one number each for Alice and Carol, requests and audit events. */
async function seed(store: SqlStore) {
  await store.setMemberRoles('U01BOB', ['approver']);
  for (const id of ['U01ALICE', 'U01CAROL']) await store.touchMember(id);
  const db = executor(store);
  for (const [member, sub] of [
    ['U01ALICE', ALICE],
    ['U01BOB', BOB],
    ['U01CAROL', CAROL],
  ])
    await db.query('select switchboard.link_auth_user($1, $2::uuid)', [member, sub]);
  const quote = (id: string, e164: string) => sandboxQuote(id, e164, { expiresAt: LATER });
  await store.saveQuotes([
    quote('Q-A1', '+14155550101'),
    quote('Q-A2', '+14155550102'),
    quote('Q-C1', '+14155550103'),
  ]);
  const request = (id: string, quoteId: string, requester: string) => ({
    id,
    requester,
    surface: 'cli',
    quoteId,
    areaCode: null,
    reason: null,
    expiresAt: LATER,
    memberCap: null,
    monthlyBudget: null,
    now: NOW,
  });
  await store.createPurchaseRequest(request('R-ALICE-PENDING', 'Q-A1', 'U01ALICE'));
  await store.createPurchaseRequest(request('R-ALICE-DENIED', 'Q-A2', 'U01ALICE'));
  await store.decideRequest('R-ALICE-DENIED', 'U01BOB', false, 'no', NOW);
  await store.createPurchaseRequest(request('R-CAROL-PENDING', 'Q-C1', 'U01CAROL'));
  // Made by Alice's MCP token on her behalf (015), then denied: hers, not an approver's to see.
  await store.saveQuotes([quote('Q-T1', '+14155550104')]);
  await store.touchMember('mcp:alice-claude');
  await store.createPurchaseRequest({
    ...request('R-ALICE-TOKEN', 'Q-T1', 'mcp:alice-claude'),
    onBehalfOf: 'U01ALICE',
  });
  await store.decideRequest('R-ALICE-TOKEN', 'U01BOB', false, 'no', NOW);

  const row = (e164: string) => syncRow(e164, { carrierRef: null });
  await store.syncBegin('S-1', 'sandbox', 'local', NOW);
  await store.syncBatch('S-1', 'sandbox', [
    row('+12125550100'),
    row('+12125550101'),
    row('+12125550102'),
  ]);
  await store.syncFinish('S-1', NOW);
  await store.claimNumber('+12125550101', 'U01ALICE', null);
  await store.claimNumber('+12125550102', 'U01CAROL', null);

  await store.recordAudit(auditEvent('U01ALICE', 'claim'));
  await store.recordAudit(auditEvent('U01CAROL', 'claim'));
  await store.recordAudit(auditEvent('U01BOB', 'deny'));
  await store.tryLease('job:expire', 'replica-1', 60_000);
}

const STORES = [
  { name: 'pglite', make: freshPglite, skip: false },
  { name: 'postgres', make: freshPostgres, skip: !TEST_DATABASE_URL },
];

for (const { name, make, skip } of STORES) {
  describe.skipIf(skip)(`row-level security on ${name}`, () => {
    let store: SqlStore;
    beforeAll(async () => {
      store = await make();
      await seed(store);
    });
    afterAll(async () => {
      await store?.close();
    });

    const select = async (who: Who, table: string, columns = 'id') =>
      run<Record<string, unknown>>(
        store,
        who,
        `select ${columns} from switchboard.${table} order by 1`,
      );
    const ids = async (who: Who, table: string, column = 'id') => {
      const result = await select(who, table, column);
      if (!result.ok) throw new Error(`${table}: ${result.message}`);
      return result.rows.map((row) => row[column]);
    };

    it('every table in schema switchboard has row-level security enabled', async () => {
      const result = await run<{ relname: string; relrowsecurity: boolean }>(
        store,
        { role: 'owner' },
        `select c.relname, c.relrowsecurity from pg_class c
         where c.relnamespace = 'switchboard'::regnamespace and c.relkind in ('r', 'p')
         order by c.relname`,
      );
      if (!result.ok) throw new Error(result.message);
      // The tables this issue knows of must be among them, so an empty list cannot pass.
      expect(result.rows.map((r) => r.relname)).toEqual(
        expect.arrayContaining(['audit_events', 'leases', 'members', 'numbers', 'requests']),
      );
      expect(result.rows.filter((r) => !r.relrowsecurity).map((r) => r.relname)).toEqual([]);
    });

    it('no function in the schema is executable by PUBLIC, anon or authenticated, except the two policy helpers', async () => {
      const result = await run<{ fn: string }>(
        store,
        { role: 'owner' },
        `select p.oid::regprocedure::text as fn from pg_proc p
         where p.pronamespace = 'switchboard'::regnamespace
           and (has_function_privilege('anon', p.oid, 'execute')
             or has_function_privilege('authenticated', p.oid, 'execute'))
         order by 1`,
      );
      if (!result.ok) throw new Error(result.message);
      expect(result.rows.map((r) => r.fn)).toEqual([
        'switchboard.current_member_has_role(text)',
        'switchboard.current_member_id()',
      ]);
    });

    it('anon reads nothing from any table', async () => {
      for (const table of await tables(store)) {
        const result = await select(anon, table, '*');
        expect(result, table).toMatchObject({ ok: false, code: '42501' });
      }
    });

    it('a member sees the pool and their own numbers, requests, audit events and member row', async () => {
      expect(await ids(as(ALICE), 'numbers', 'e164')).toEqual(['+12125550100', '+12125550101']);
      // Her own, and the one her token made on her behalf (019).
      expect(await ids(as(ALICE), 'requests')).toEqual([
        'R-ALICE-DENIED',
        'R-ALICE-PENDING',
        'R-ALICE-TOKEN',
      ]);
      expect(await ids(as(ALICE), 'audit_events', 'actor')).toEqual(['U01ALICE']);
      expect(await ids(as(ALICE), 'members')).toEqual(['U01ALICE']);
      expect(await ids(as(CAROL), 'numbers', 'e164')).toEqual(['+12125550100', '+12125550102']);
      expect(await ids(as(CAROL), 'requests')).toEqual(['R-CAROL-PENDING']);
    });

    it("an approver also sees other members' pending requests, not their settled ones", async () => {
      expect(await ids(as(BOB), 'requests')).toEqual(['R-ALICE-PENDING', 'R-CAROL-PENDING']);
      expect(await ids(as(BOB), 'numbers', 'e164')).toEqual(['+12125550100']);
      expect(await ids(as(BOB), 'audit_events', 'actor')).toEqual(['U01BOB']);
    });

    it("a member also sees audit events made on their behalf (018), not another member's", async () => {
      // Recorded and read in one transaction that is rolled back: the seed stays as it is.
      const rollback = new Error('rollback');
      const seen: Record<string, unknown[]> = {};
      await executor(store)
        .transaction(async (tx) => {
          // Two MCP tokens' events: Alice's token's and Carol's, each on its owner's behalf.
          await tx.query(
            `insert into switchboard.audit_events (actor, surface, command, outcome, detail)
             values ('mcp:alice-claude', 'mcp', 'claim', 'ok', '{"onBehalfOf": "U01ALICE"}'),
                    ('mcp:carol-claude', 'mcp', 'claim', 'ok', '{"onBehalfOf": "U01CAROL"}')`,
          );
          for (const [member, sub] of [
            ['alice', ALICE],
            ['carol', CAROL],
          ] as const) {
            await tx.query(`select set_config('request.jwt.claims', $1, true)`, [
              JSON.stringify({ sub, role: 'authenticated' }),
            ]);
            await tx.exec('set local role authenticated');
            const rows = await tx.query<{ actor: string }>(
              `select actor from switchboard.audit_events order by id`,
            );
            seen[member] = rows.map((row) => row.actor);
            await tx.exec('reset role');
          }
          throw rollback;
        })
        .catch((error: unknown) => {
          if (error !== rollback) throw error;
        });
      expect(seen).toEqual({
        alice: ['U01ALICE', 'mcp:alice-claude'],
        carol: ['U01CAROL', 'mcp:carol-claude'],
      });
      expect(await ids(as(ALICE), 'audit_events', 'actor')).toEqual(['U01ALICE']);
    });

    it('a signed-in user who is no member sees only the pool', async () => {
      expect(await ids(as(STRANGER), 'numbers', 'e164')).toEqual(['+12125550100']);
      for (const table of ['requests', 'audit_events', 'members'])
        expect(await ids(as(STRANGER), table, '1'), table).toEqual([]);
    });

    it('authenticated users cannot read the other tables at all', async () => {
      const readable = ['audit_events', 'members', 'numbers', 'requests'];
      for (const table of await tables(store)) {
        const result = await select(as(ALICE), table, '*');
        if (readable.includes(table)) expect(result.ok, table).toBe(true);
        else expect(result, table).toMatchObject({ ok: false, code: '42501' });
      }
    });

    it('neither anon nor authenticated can insert, update or delete in any table', async () => {
      for (const table of await tables(store)) {
        const column = await firstColumn(table);
        for (const who of [anon, as(ALICE), as(BOB)]) {
          for (const text of [
            `insert into switchboard.${table} default values`,
            `update switchboard.${table} set ${column} = ${column}`,
            `delete from switchboard.${table}`,
          ]) {
            const result = await run(store, who, text);
            expect(result, `${who.role} ${text}`).toMatchObject({ ok: false, code: '42501' });
          }
        }
      }
    });

    it('neither anon nor authenticated can call the state-changing functions', async () => {
      const calls = [
        `select switchboard.decide_request('R-CAROL-PENDING', 'U01BOB', true, null, now())`,
        `select switchboard.claim_number('+12125550100', 'U01ALICE', null)`,
        `select switchboard.unclaim_number(1, 'U01ALICE', now())`,
        `select switchboard.set_member_roles('U01ALICE', array['admin'])`,
        `select switchboard.link_auth_user('U01BOB', '${ALICE}')`,
        `select switchboard.try_lease('job:expire', 'intruder', 60000)`,
        `select switchboard.expire_requests(now() + interval '1 year')`,
      ];
      for (const who of [anon, as(ALICE), as(BOB)])
        for (const call of calls)
          expect(await run(store, who, call), `${who.role} ${call}`).toMatchObject({
            ok: false,
            code: '42501',
          });
    });

    it('the service role reads every row of every table and calls the functions, bypassing RLS', async () => {
      for (const table of await tables(store)) {
        const asService = await run<{ n: number }>(
          store,
          service,
          `select count(*)::int as n from switchboard.${table}`,
        );
        const asOwner = await run<{ n: number }>(
          store,
          { role: 'owner' },
          `select count(*)::int as n from switchboard.${table}`,
        );
        expect(asService, table).toEqual(asOwner);
      }
      expect(await ids(service, 'requests')).toEqual([
        'R-ALICE-DENIED',
        'R-ALICE-PENDING',
        'R-ALICE-TOKEN',
        'R-CAROL-PENDING',
      ]);
      const decided = await run<{ r: { status: string } }>(
        store,
        service,
        `select switchboard.decide_request('R-CAROL-PENDING', 'U01BOB', true, null, $1::timestamptz) as r`,
        [NOW.toISOString()],
      );
      expect(decided).toMatchObject({ ok: true, rows: [{ r: { status: 'decided' } }] });
    });

    /** A column that may be assigned (identity columns refuse before privileges are checked). */
    async function firstColumn(table: string): Promise<string> {
      const result = await run<{ column_name: string }>(
        store,
        { role: 'owner' },
        `select column_name from information_schema.columns
         where table_schema = 'switchboard' and table_name = $1
           and is_identity = 'NO' and is_generated = 'NEVER'
         order by ordinal_position limit 1`,
        [table],
      );
      if (!result.ok || !result.rows[0]) throw new Error(`no columns in ${table}`);
      return result.rows[0].column_name;
    }
  });
}
