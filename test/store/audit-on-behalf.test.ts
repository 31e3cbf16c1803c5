/**
 * Migration 018 on every store: listAudit({ actor }) means events by that actor, or made on that
 * member's behalf (detail.onBehalfOf, which an MCP token's events carry: src/core/command.ts).
 * A member's filter finds their own events and their tokens', newest first within the limit; a
 * token's id finds the token's own; target and request id still narrow it. The migration's index
 * serves both the SQL stores' query and the one PostgREST builds for the supabase-js store, and
 * the migration runs twice without harm.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AuditFilter } from '../../src/core/ports.js';
import type { AuditEvent } from '../../src/core/types.js';
import { loadMigrations } from '../../src/store/migrate.js';
import type { SqlExecutor } from '../../src/store/sql.js';
import type { SqlStore } from '../../src/store/sql-store.js';
import { STORES } from '../helpers/stores.js';
import { auditEvent, minutesLater } from '../helpers/fixtures.js';

const dbOf = (store: SqlStore) => (store as unknown as { db: SqlExecutor }).db;

const event = (
  minute: number,
  actor: string,
  command: string,
  extra: Partial<AuditEvent> = {},
): AuditEvent =>
  auditEvent(actor, command, {
    at: minutesLater(minute),
    surface: actor.startsWith('mcp:') ? 'mcp' : 'cli',
    ...extra,
  });

const A = '+14155550101';
const B = '+14155550102';

/**
 * Recorded in this order (ids ascending). `link` and `release` share a time, so id breaks the tie:
 * `release`, by Alice's token, is the newer.
 */
const TRAIL: AuditEvent[] = [
  // By a member and (however it came about) on their own behalf: listed once.
  event(0, 'U01BOB', 'show', { detail: { onBehalfOf: 'U01BOB' } }),
  event(1, 'U01ALICE', 'claim', { target: A, detail: { alreadyYours: false } }),
  event(2, 'mcp:claude', 'buy', {
    target: B,
    requestId: 'R-1',
    detail: { onBehalfOf: 'U01ALICE' },
  }),
  event(3, 'mcp:other', 'claim', { target: '+14155550103', detail: { onBehalfOf: 'U01BOB' } }),
  event(4, 'U01BOB', 'approve', { target: B, requestId: 'R-1' }),
  // Alice's name elsewhere in the detail, even under the same key deeper down, is not "on her
  // behalf".
  event(5, 'U01CAROL', 'list', {
    detail: { note: 'U01ALICE', nested: { onBehalfOf: 'U01ALICE' } },
  }),
  event(6, 'U01ALICE', 'link', { target: A }),
  event(6, 'mcp:claude', 'release', { target: A, detail: { onBehalfOf: 'U01ALICE' } }),
];

for (const { name, make, skip } of STORES) {
  describe.skipIf(skip)(`audit events on a member's behalf: ${name}`, () => {
    let store: SqlStore;
    beforeEach(async () => {
      store = await make();
      for (const e of TRAIL) await store.recordAudit(e);
    });
    afterEach(async () => {
      await store.close();
    });

    const seen = async (filter: AuditFilter) =>
      (await store.listAudit(filter)).map((e) => `${e.actor} ${e.command}`);

    it("a member's filter gives their own events and those made on their behalf, newest first", async () => {
      expect(await seen({ actor: 'U01ALICE' })).toEqual([
        'mcp:claude release',
        'U01ALICE link',
        'mcp:claude buy',
        'U01ALICE claim',
      ]);
      expect(await seen({ actor: 'U01BOB' })).toEqual([
        'U01BOB approve',
        'mcp:other claim',
        'U01BOB show',
      ]);
      expect(await seen({ actor: 'U01CAROL' })).toEqual(['U01CAROL list']);
      expect(await seen({ actor: 'U01NOBODY' })).toEqual([]);
      // The events come back whole, detail included.
      const [release] = await store.listAudit({ actor: 'U01ALICE' });
      expect(release).toMatchObject({
        actor: 'mcp:claude',
        surface: 'mcp',
        target: A,
        detail: { onBehalfOf: 'U01ALICE' },
      });
    });

    it('respects the limit, taking the newest of both kinds', async () => {
      expect(await seen({ actor: 'U01ALICE', limit: 1 })).toEqual(['mcp:claude release']);
      expect(await seen({ actor: 'U01ALICE', limit: 2 })).toEqual([
        'mcp:claude release',
        'U01ALICE link',
      ]);
      expect(await seen({ actor: 'U01ALICE', limit: 3 })).toEqual([
        'mcp:claude release',
        'U01ALICE link',
        'mcp:claude buy',
      ]);
      expect(await seen({ actor: 'U01BOB', limit: 1 })).toEqual(['U01BOB approve']);
    });

    it("a token's own id gives that token's events only", async () => {
      expect(await seen({ actor: 'mcp:claude' })).toEqual(['mcp:claude release', 'mcp:claude buy']);
      expect(await seen({ actor: 'mcp:other' })).toEqual(['mcp:other claim']);
    });

    it('target and request id still narrow it', async () => {
      expect(await seen({ actor: 'U01ALICE', target: A })).toEqual([
        'mcp:claude release',
        'U01ALICE link',
        'U01ALICE claim',
      ]);
      expect(await seen({ actor: 'U01ALICE', target: A, limit: 2 })).toEqual([
        'mcp:claude release',
        'U01ALICE link',
      ]);
      expect(await seen({ actor: 'U01ALICE', requestId: 'R-1' })).toEqual(['mcp:claude buy']);
      expect(await seen({ actor: 'U01BOB', requestId: 'R-1' })).toEqual(['U01BOB approve']);
      expect(await seen({ actor: 'U01BOB', target: A })).toEqual([]);
      expect(await seen({ requestId: 'R-1' })).toEqual(['U01BOB approve', 'mcp:claude buy']);
      expect((await store.listAudit({})).length).toBe(TRAIL.length);
    });

    it('the "on behalf" half is answered from index audit_on_behalf, in both forms the stores send', async () => {
      const plan = (query: string) =>
        dbOf(store).transaction(async (tx) => {
          await tx.exec('set local enable_seqscan = off');
          const rows = await tx.query<Record<string, string>>(`explain ${query}`);
          return rows.map((row) => Object.values(row)[0]).join('\n');
        });
      // The SQL stores' half, and PostgREST's `detail->>onBehalfOf=eq.…` (the supabase store).
      expect(
        await plan(
          `select id from switchboard.audit_events
           where (detail->>'onBehalfOf') = 'U01ALICE' and actor <> 'U01ALICE'
           order by at desc, id desc limit 50`,
        ),
      ).toContain('audit_on_behalf');
      expect(
        await plan(
          `select id from switchboard.audit_events where "detail"->>'onBehalfOf' = 'U01ALICE'
           order by at desc, id desc limit 50`,
        ),
      ).toContain('audit_on_behalf');
    });

    it('migration 018 runs twice without harm', async () => {
      const migration = loadMigrations().find((m) => m.name === '018_audit_on_behalf.sql');
      if (!migration) throw new Error('018_audit_on_behalf.sql is missing');
      await dbOf(store).transaction((tx) => tx.exec(migration.sql));
      const indexes = await dbOf(store).query<{ n: number }>(
        `select count(*)::int as n from pg_indexes
         where schemaname = 'switchboard' and indexname = 'audit_on_behalf'`,
      );
      expect(indexes).toEqual([{ n: 1 }]);
      const policies = await dbOf(store).query<{ n: number }>(
        `select count(*)::int as n from pg_policies
         where schemaname = 'switchboard' and tablename = 'audit_events'`,
      );
      expect(policies).toEqual([{ n: 1 }]);
      expect(await seen({ actor: 'U01ALICE', limit: 2 })).toEqual([
        'mcp:claude release',
        'U01ALICE link',
      ]);
    });
  });
}
