/**
 * Migration 024: a claim, an unclaim or a release that meets a change still in flight on its
 * number waits for it and decides on what it left. Before, its update skipped a row whose
 * committed version did not match without waiting, and it answered from a stale or a newer read: a claim racing an unclaim
 * said "already belongs to null" (found by CI); a release or an unclaim racing an unlink said
 * "linked".
 *
 * Each test holds the other change open in a second connection's transaction, starts the store's
 * call, sees it wait on the row lock, then commits. The interleaving needs two connections, so it
 * runs on PostgreSQL (when TEST_DATABASE_URL is set).
 */
import postgres from 'postgres';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openPostgresStore } from '../../src/store/postgres-store.js';
import type { SqlStore } from '../../src/store/sql-store.js';
import { syncRow } from '../helpers/fixtures.js';
import { createTestDatabase, TEST_DATABASE_URL } from '../helpers/stores.js';

const NUMBER = '+14155550142';
const ALICE = 'U01ALICE';
const CAROL = 'U03CAROL';

describe.skipIf(!TEST_DATABASE_URL)(
  'claims and releases racing a change in flight on PostgreSQL',
  () => {
    let store: SqlStore;
    let other: postgres.Sql;
    let drop: () => Promise<void>;
    let numberId: number;
    let letGo: (() => void) | undefined;
    beforeEach(async () => {
      const db = await createTestDatabase('switchboard_claim_race');
      drop = db.drop;
      store = await openPostgresStore({ url: db.url, max: 2 });
      other = postgres(db.url, { max: 2, onnotice: () => undefined });
      await store.syncBegin('S-1', 'sandbox', 'local', new Date());
      await store.syncBatch('S-1', 'sandbox', [syncRow(NUMBER)]);
      await store.syncFinish('S-1', new Date());
      numberId = (await store.getNumber(NUMBER))!.id;
    });
    afterEach(async () => {
      // A test that failed before committing leaves its transaction open: end it, so that the
      // failure is reported now rather than after the connection's timeout.
      letGo?.();
      await other.end();
      await store.close();
      await drop();
    });

    /** Runs `change` in a transaction of the other connection and keeps it open until `commit()`. */
    async function holdOpen(change: (tx: postgres.TransactionSql) => Promise<unknown>) {
      let commit!: () => void;
      const held = new Promise<void>((resolve) => (commit = resolve));
      let changed!: () => void;
      const changedYet = new Promise<void>((resolve) => (changed = resolve));
      letGo = commit;
      const done = other.begin(async (tx) => {
        await change(tx);
        changed();
        await held;
      });
      // A change that fails rejects here instead of leaving the test waiting for it.
      await Promise.race([changedYet, done]);
      return {
        async commit() {
          commit();
          await done;
        },
      };
    }

    it('a claim that meets an unclaim in flight waits for it and takes the number', async () => {
      expect((await store.claimNumber(NUMBER, ALICE, null)).status).toBe('claimed');
      const unclaim = await holdOpen(
        (tx) => tx`select switchboard.unclaim_number(${numberId}, ${ALICE}, now())`,
      );
      const claim = store.claimNumber(NUMBER, CAROL, null);
      await waitForLockWait(other);
      await unclaim.commit();
      const outcome = await claim;
      expect(outcome.status).toBe('claimed');
      expect(await store.getNumber(NUMBER)).toMatchObject({ status: 'assigned', owner: CAROL });
    });

    it('a claim that meets a release in flight waits for it and finds nothing to claim', async () => {
      const release = await holdOpen(
        (tx) => tx`select switchboard.release_number(${numberId}, now())`,
      );
      const claim = store.claimNumber(NUMBER, CAROL, null);
      await waitForLockWait(other);
      await release.commit();
      expect(await claim).toEqual({ status: 'not-found' });
      expect(await store.getNumber(NUMBER)).toMatchObject({ status: 'released', owner: null });
    });

    it('a claim that meets another member’s claim in flight waits and says whose it is now', async () => {
      const alice = await holdOpen(
        (tx) => tx`select switchboard.claim_number(${NUMBER}, ${ALICE}, null)`,
      );
      const claim = store.claimNumber(NUMBER, CAROL, null);
      await waitForLockWait(other);
      await alice.commit();
      expect(await claim).toMatchObject({ status: 'held', owner: ALICE });
    });

    it('an unclaim that meets an unlink in flight waits for it and gives the number back', async () => {
      expect((await store.claimNumber(NUMBER, ALICE, null)).status).toBe('claimed');
      const linked = await store.linkNumber(
        numberId,
        'retell',
        'agent_fake_1',
        'agent_fake_1',
        new Date(),
      );
      expect(linked.status).toBe('linked');
      const unlink = await holdOpen(
        (tx) => tx`select switchboard.unlink_number(${numberId}, now())`,
      );
      const unclaim = store.unclaimNumber(numberId, ALICE, new Date());
      await waitForLockWait(other);
      await unlink.commit();
      expect((await unclaim).status).toBe('unclaimed');
      expect(await store.getNumber(NUMBER)).toMatchObject({
        status: 'available',
        owner: null,
        agent: null,
      });
    });

    it('a release that meets an unlink in flight waits for it and records the release', async () => {
      const linked = await store.linkNumber(
        numberId,
        'retell',
        'agent_fake_1',
        'agent_fake_1',
        new Date(),
      );
      expect(linked.status).toBe('linked');
      const unlink = await holdOpen(
        (tx) => tx`select switchboard.unlink_number(${numberId}, now())`,
      );
      const release = store.releaseNumber(numberId, new Date());
      await waitForLockWait(other);
      await unlink.commit();
      const outcome = await release;
      expect(outcome.status).toBe('released');
      expect(await store.getNumber(NUMBER)).toMatchObject({ status: 'released', agent: null });
    });

    it('a release that meets a link in flight waits for it and refuses, linked', async () => {
      const link = await holdOpen(
        (tx) =>
          tx`select switchboard.link_number(${numberId}, 'retell', 'agent_fake_1', 'agent_fake_1', now())`,
      );
      const release = store.releaseNumber(numberId, new Date());
      await waitForLockWait(other);
      await link.commit();
      expect((await release).status).toBe('linked');
      expect(await store.getNumber(NUMBER)).toMatchObject({ status: 'available' });
    });
  },
);

/** Resolves once some backend of the database is waiting on a lock held by another transaction. */
async function waitForLockWait(sql: postgres.Sql): Promise<void> {
  for (let i = 0; i < 500; i++) {
    const rows = await sql<{ n: string }[]>`
      select count(*)::text as n from pg_stat_activity
      where datname = current_database() and wait_event_type = 'Lock'`;
    if (rows[0]?.n !== '0') return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error('the store’s call never waited on the change in flight: it answered without it');
}
