/**
 * Shared rate limits (migration 020: switchboard.rate_take, rate_forget) on every store: PGlite
 * always; PostgreSQL and the supabase-js store (through the PostgREST fake) when TEST_DATABASE_URL
 * is set. The buckets follow createRateLimiter's maths (start full at `burst`, gain `perMinute` a
 * minute up to `burst`, a call takes one), timed by the database's clock; a key's takes are
 * decided one at a time on its row, so concurrent callers never both take the last token; and,
 * the point of it, two stores on one PostgreSQL database (two replicas) share one budget.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Store } from '../../src/core/ports.js';
import { openPostgresStore } from '../../src/store/postgres-store.js';
import type { SqlExecutor } from '../../src/store/sql.js';
import type { SqlStore } from '../../src/store/sql-store.js';
import { freshSupabase } from '../helpers/postgrest-fake.js';
import { createTestDatabase, freshPglite, STORES, TEST_DATABASE_URL } from '../helpers/stores.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The executor behind a store (SqlStore's, or the one freshSupabase attaches). */
const dbOf = (store: Store) => (store as unknown as { db: SqlExecutor }).db;

/** Moves a bucket's last take back in time, as if `ms` had passed since. */
async function age(store: Store, key: string, ms: number): Promise<void> {
  await dbOf(store).query(
    `update switchboard.rate_buckets set at = at - make_interval(secs => $2::float8 / 1000)
     where key = $1`,
    [key, ms],
  );
}

async function takes(store: Store, key: string, n: number, perMinute: number, burst: number) {
  const answers = [];
  for (let i = 0; i < n; i++) answers.push(await store.rateTake(key, perMinute, burst));
  return answers;
}

const oks = (answers: Array<{ ok: boolean }>) => answers.map((a) => a.ok);

for (const { name, make, skip } of STORES) {
  describe.skipIf(skip)(`shared rate limits on ${name}`, () => {
    let store: SqlStore;
    beforeEach(async () => {
      store = await make();
    });
    afterEach(async () => {
      await store.close();
    });

    it('lets a burst through, then refuses with the wait until the next token', async () => {
      expect(oks(await takes(store, 'mcp-member:U01ALICE', 3, 60, 3))).toEqual([true, true, true]);
      const refused = await store.rateTake('mcp-member:U01ALICE', 60, 3);
      expect(refused.ok).toBe(false);
      // One token a second: at most a second to wait, less the little time the takes took.
      const wait = (refused as { retryAfterMs: number }).retryAfterMs;
      expect(wait).toBeGreaterThan(800);
      expect(wait).toBeLessThanOrEqual(1000);
      // A refusal takes nothing: the wait does not grow with more refused calls.
      const again = await store.rateTake('mcp-member:U01ALICE', 60, 3);
      expect(again.ok).toBe(false);
      expect((again as { retryAfterMs: number }).retryAfterMs).toBeLessThanOrEqual(wait);
    });

    it('keeps one bucket per key', async () => {
      expect(oks(await takes(store, 'slack-user:U01ALICE', 2, 1, 1))).toEqual([true, false]);
      expect((await store.rateTake('slack-user:U01BOB', 1, 1)).ok).toBe(true);
      expect((await store.rateTake('mcp-member:U01ALICE', 1, 1)).ok).toBe(true);
      expect((await store.rateTake('slack-user:U01ALICE', 1, 1)).ok).toBe(false);
    });

    it('refills at the sustained rate, never beyond the burst (the database clock decides)', async () => {
      const key = 'slack-user:U01CAROL';
      expect(oks(await takes(store, key, 3, 60, 2))).toEqual([true, true, false]);
      await age(store, key, 1_500); // one and a half tokens' worth
      const after = await takes(store, key, 2, 60, 2);
      expect(oks(after)).toEqual([true, false]);
      // Half a token was left: about half a second to the next.
      const wait = (after[1] as { retryAfterMs: number }).retryAfterMs;
      expect(wait).toBeGreaterThan(300);
      expect(wait).toBeLessThanOrEqual(500);
      await age(store, key, 60 * 60_000); // an hour of quiet still gives only `burst` tokens
      expect(oks(await takes(store, key, 3, 60, 2))).toEqual([true, true, false]);
    });

    it('refills in real time too (a short sleep, at 1,000 a minute)', async () => {
      const key = 'mcp-member:U01FAST';
      // Spent at one a minute (no refill to speak of while the calls run, however slow)...
      expect(oks(await takes(store, key, 2, 1, 1))).toEqual([true, false]);
      await sleep(100);
      // ...then 100 ms at 1,000 a minute (one every 60 ms) refills the one-token bucket.
      expect((await store.rateTake(key, 1000, 1)).ok).toBe(true);
      expect((await store.rateTake(key, 1, 1)).ok).toBe(false);
    });

    it('reads the clock at each call, also inside one transaction (clock_timestamp, not now())', async () => {
      const answers = await dbOf(store).transaction(async (tx) => {
        const take = async (perMinute: number) =>
          (
            await tx.query<{ r: { ok: boolean } }>(
              `select switchboard.rate_take('mcp-member:U01TX', $1::float8, 1) as r`,
              [perMinute],
            )
          )[0]!.r.ok;
        const first = await take(1);
        await tx.query('select pg_sleep(0.1)');
        // now() would still be the transaction's start: no time passed, no refill.
        return [first, await take(1000)];
      });
      expect(answers).toEqual([true, true]);
    });

    it('twenty concurrent takes from a burst of five: exactly five pass', async () => {
      const answers = await Promise.all(
        Array.from({ length: 20 }, () => store.rateTake('mcp-member:U01RACE', 1, 5)),
      );
      expect(answers.filter((a) => a.ok)).toHaveLength(5);
      expect(answers.filter((a) => !a.ok)).toHaveLength(15);
    });

    it('forgets idle buckets only, and a forgotten bucket starts full', async () => {
      await takes(store, 'old', 2, 1, 2);
      await takes(store, 'recent', 2, 1, 2);
      await age(store, 'old', 20 * 60_000);
      expect(await store.rateForget(10 * 60_000)).toBe(1);
      const keys = await dbOf(store).query<{ key: string }>(
        'select key from switchboard.rate_buckets order by key',
      );
      expect(keys.map((row) => row.key)).toEqual(['recent']);
      expect((await store.rateTake('recent', 1, 2)).ok).toBe(false);
      expect(oks(await takes(store, 'old', 3, 1, 2))).toEqual([true, true, false]);
      expect(await store.rateForget(10 * 60_000)).toBe(0);
    });

    it('refuses nonsense limits', async () => {
      for (const [perMinute, burst] of [
        [0, 1],
        [-1, 1],
        [60, 0],
        [Number.NaN, 1],
      ] as const)
        await expect(store.rateTake('k', perMinute, burst)).rejects.toMatchObject({
          name: 'CoreError',
        });
    });
  });
}

describe('the buckets are not for signed-in users', () => {
  let store: SqlStore;
  beforeEach(async () => {
    store = await freshPglite();
    await store.rateTake('mcp-member:U01ALICE', 60, 30);
  });
  afterEach(async () => {
    await store.close();
  });

  /** One statement as `authenticated`, rolled back; the error code, or 'ok'. */
  async function asAuthenticated(text: string): Promise<string> {
    const rollback = new Error('rollback');
    let outcome = 'ok';
    await dbOf(store)
      .transaction(async (tx) => {
        await tx.exec('set local role authenticated');
        await tx.query(text).catch((error: { code?: string }) => {
          outcome = String(error.code);
        });
        throw rollback;
      })
      .catch((error: unknown) => {
        if (error !== rollback) throw error;
      });
    return outcome;
  }

  it('authenticated can neither read the table nor take or forget tokens', async () => {
    expect(await asAuthenticated('select * from switchboard.rate_buckets')).toBe('42501');
    expect(await asAuthenticated(`select switchboard.rate_take('x', 60, 30)`)).toBe('42501');
    expect(await asAuthenticated('select switchboard.rate_forget(0)')).toBe('42501');
  });
});

describe.skipIf(!TEST_DATABASE_URL)('two stores on one PostgreSQL database (replicas)', () => {
  let url: string;
  let db: { url: string; drop(): Promise<void> };
  const open: Store[] = [];

  beforeEach(async () => {
    db = await createTestDatabase('switchboard_rates');
    url = db.url;
    open.push(await openPostgresStore({ url, max: 10 })); // migrates
  });
  afterEach(async () => {
    await Promise.allSettled(open.splice(0).map((store) => store.close()));
    await db.drop();
  });

  it('share one budget: what one spends, the other cannot', async () => {
    const a = open[0]!;
    const b = await openPostgresStore({ url, max: 10, skipMigrate: true });
    open.push(b);
    expect(oks(await takes(a, 'mcp-member:U01ALICE', 2, 1, 3))).toEqual([true, true]);
    expect(oks(await takes(b, 'mcp-member:U01ALICE', 2, 1, 3))).toEqual([true, false]);
    expect((await a.rateTake('mcp-member:U01ALICE', 1, 3)).ok).toBe(false);
    // Other keys are untouched.
    expect((await b.rateTake('mcp-member:U01BOB', 1, 3)).ok).toBe(true);
  });

  it('forty concurrent takes through two pools and the supabase-js store: exactly the burst passes', async () => {
    const a = open[0]!;
    const b = await openPostgresStore({ url, max: 10, skipMigrate: true });
    open.push(b);
    const supabase = await freshSupabase(() =>
      openPostgresStore({ url, max: 5, skipMigrate: true }),
    );
    open.push(supabase);
    const stores = [a, b, supabase];
    const answers = await Promise.all(
      Array.from({ length: 42 }, (_, i) => stores[i % 3]!.rateTake('slack-user:U01RACE', 1, 5)),
    );
    expect(answers.filter((answer) => answer.ok)).toHaveLength(5);
  });
});
