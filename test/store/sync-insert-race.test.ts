/**
 * Migration 021: sync_batch inserts new numbers without `on conflict`, and numbers.e164 compares
 * byte by byte. A batch looks each number up before inserting it, so the one conflict left is a
 * number another transaction inserts in between (a purchase being recorded): the batch must then
 * try again, see that number as stored, and neither fail nor put a bought number in the pool.
 * The race needs two connections, so it runs on PostgreSQL (when TEST_DATABASE_URL is set); the
 * collation check runs on every store.
 */
import postgres from 'postgres';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openPostgresStore } from '../../src/store/postgres-store.js';
import type { SqlExecutor } from '../../src/store/sql.js';
import type { SqlStore } from '../../src/store/sql-store.js';
import { syncRow } from '../helpers/fixtures.js';
import {
  createTestDatabase,
  STORES,
  TEST_DATABASE_URL,
  waitForLockWait,
} from '../helpers/stores.js';

const dbOf = (store: SqlStore) => (store as unknown as { db: SqlExecutor }).db;

for (const { name, make, skip } of STORES.filter((s) => s.name !== 'supabase')) {
  describe.skipIf(skip)(`numbers.e164 on ${name}`, () => {
    let store: SqlStore;
    beforeEach(async () => {
      store = await make();
    });
    afterEach(async () => {
      await store.close();
    });

    it('compares byte by byte (collate "C"), and lists numbers in the same order as before', async () => {
      const [column] = await dbOf(store).query<{ collation: string | null }>(
        `select collation_name as collation from information_schema.columns
         where table_schema = 'switchboard' and table_name = 'numbers' and column_name = 'e164'`,
      );
      expect(column?.collation).toBe('C');
      await store.syncBegin('S-1', 'sandbox', 'local', new Date());
      await store.syncBatch('S-1', 'sandbox', [
        syncRow('+442079460000'),
        syncRow('+14155550142'),
        syncRow('+1415555014'),
        syncRow('+12125550117'),
      ]);
      await store.syncFinish('S-1', new Date());
      const listed = await store.listNumbers({ scope: 'pool' });
      expect(listed.map((n) => n.e164)).toEqual([
        '+12125550117',
        '+1415555014',
        '+14155550142',
        '+442079460000',
      ]);
    });
  });
}

describe.skipIf(!TEST_DATABASE_URL)('a sync batch racing a purchase on PostgreSQL', () => {
  let store: SqlStore;
  let other: postgres.Sql;
  let drop: () => Promise<void>;
  beforeEach(async () => {
    const db = await createTestDatabase('switchboard_race');
    drop = db.drop;
    store = await openPostgresStore({ url: db.url, max: 2 });
    other = postgres(db.url, { max: 2, onnotice: () => undefined });
  });
  afterEach(async () => {
    await other.end();
    await store.close();
    await drop();
  });

  it('tries again when another transaction inserts one of its new numbers first, and keeps that number its owner’s', async () => {
    await store.syncBegin('S-1', 'sandbox', 'local', new Date());
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let inserted!: () => void;
    const insertedYet = new Promise<void>((resolve) => (inserted = resolve));
    // The "purchase": inserts +14155550142 for Alice and holds its transaction open.
    const purchase = other.begin(async (tx) => {
      await tx`insert into switchboard.members (id) values ('U01ALICE')`;
      await tx`insert into switchboard.numbers (e164, carrier, carrier_ref, status, owner, source)
               values ('+14155550142', 'sandbox', 'ref-bought', 'assigned', 'U01ALICE', 'purchase')`;
      inserted();
      await held;
    });
    await insertedYet;
    // The batch looks +14155550142 up, finds nothing committed, and waits on the insert's index
    // entry until the purchase commits.
    const batch = store.syncBatch('S-1', 'sandbox', [
      syncRow('+14155550142'),
      syncRow('+12125550117'),
    ]);
    await waitForLockWait(other, 'the sync batch');
    release();
    await purchase;

    const counts = await batch;
    // The second try saw the bought number as stored: the other one is new; this one is updated
    // to what the carrier says (its reference), not inserted into the pool a second time.
    expect(counts).toEqual({ seen: 2, new: 1, updated: 1, unchanged: 0 });
    const bought = await store.getNumber('+14155550142');
    expect(bought).toMatchObject({
      owner: 'U01ALICE',
      status: 'assigned',
      carrierRef: 'ref-+14155550142',
    });
    expect((await store.getNumber('+12125550117'))?.status).toBe('available');
    const [live] = await other<{ n: string }[]>`
      select count(*)::text as n from switchboard.numbers where e164 = '+14155550142'`;
    expect(live?.n).toBe('1');
    const run = await store.syncFinish('S-1', new Date());
    expect(run).toMatchObject({ status: 'succeeded', seen: 2, new: 1, updated: 1, missing: 0 });
  });
});
