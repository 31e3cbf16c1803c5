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
import { createTestDatabase, TEST_DATABASE_URL, waitForLockWait } from '../helpers/stores.js';

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

    /**
     * Runs `change` in a transaction of the other connection and holds it open; starts `call`,
     * sees it wait on a lock, then commits the change and returns what `call` answered.
     */
    async function duringChange<T>(
      change: (tx: postgres.TransactionSql) => Promise<unknown>,
      call: () => Promise<T>,
    ): Promise<T> {
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
      const answer = call();
      // Awaited below; if the wait fails first, its rejection is not left unhandled.
      answer.catch(() => undefined);
      await waitForLockWait(other, 'the store’s call');
      commit();
      await done;
      return answer;
    }

    async function linkIt(): Promise<void> {
      const linked = await store.linkNumber(
        numberId,
        'retell',
        'agent_fake_1',
        'agent_fake_1',
        new Date(),
      );
      expect(linked.status).toBe('linked');
    }

    const unlink = (tx: postgres.TransactionSql) =>
      tx`select switchboard.unlink_number(${numberId}, now())`;

    it('a claim that meets an unclaim in flight waits for it and takes the number', async () => {
      expect((await store.claimNumber(NUMBER, ALICE, null)).status).toBe('claimed');
      const outcome = await duringChange(
        (tx) => tx`select switchboard.unclaim_number(${numberId}, ${ALICE}, now())`,
        () => store.claimNumber(NUMBER, CAROL, null),
      );
      expect(outcome.status).toBe('claimed');
      expect(await store.getNumber(NUMBER)).toMatchObject({ status: 'assigned', owner: CAROL });
    });

    it('a claim that meets a release in flight waits for it and finds nothing to claim', async () => {
      const outcome = await duringChange(
        (tx) => tx`select switchboard.release_number(${numberId}, now())`,
        () => store.claimNumber(NUMBER, CAROL, null),
      );
      expect(outcome).toEqual({ status: 'not-found' });
      expect(await store.getNumber(NUMBER)).toMatchObject({ status: 'released', owner: null });
    });

    it('a claim that meets another member’s claim in flight waits and says whose it is now', async () => {
      const outcome = await duringChange(
        (tx) => tx`select switchboard.claim_number(${NUMBER}, ${ALICE}, null)`,
        () => store.claimNumber(NUMBER, CAROL, null),
      );
      expect(outcome).toMatchObject({ status: 'held', owner: ALICE });
    });

    it('an unclaim that meets an unlink in flight waits for it and gives the number back', async () => {
      expect((await store.claimNumber(NUMBER, ALICE, null)).status).toBe('claimed');
      await linkIt();
      const outcome = await duringChange(unlink, () =>
        store.unclaimNumber(numberId, ALICE, new Date()),
      );
      expect(outcome.status).toBe('unclaimed');
      expect(await store.getNumber(NUMBER)).toMatchObject({
        status: 'available',
        owner: null,
        agent: null,
      });
    });

    it('a release that meets an unlink in flight waits for it and records the release', async () => {
      await linkIt();
      const outcome = await duringChange(unlink, () => store.releaseNumber(numberId, new Date()));
      expect(outcome.status).toBe('released');
      expect(await store.getNumber(NUMBER)).toMatchObject({ status: 'released', agent: null });
    });

    it('a release that meets a link in flight waits for it and refuses, linked', async () => {
      const outcome = await duringChange(
        (tx) =>
          tx`select switchboard.link_number(${numberId}, 'retell', 'agent_fake_1', 'agent_fake_1', now())`,
        () => store.releaseNumber(numberId, new Date()),
      );
      expect(outcome.status).toBe('linked');
      expect(await store.getNumber(NUMBER)).toMatchObject({ status: 'available' });
    });
  },
);
