/**
 * Races decided in SQL: on every store (PostgreSQL's connection pool makes them truly concurrent),
 * 20 approvals of one request make one purchase, and 50 claims of one number make one owner.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCommand } from '../../src/core/command.js';
import { approve, buy, claim, sync } from '../../src/core/commands/index.js';
import type { CoreError } from '../../src/core/errors.js';
import type { SqlStore } from '../../src/store/sql-store.js';
import { ADMIN, ALICE, makeDeps } from '../helpers/deps.js';
import type { TestDeps } from '../helpers/deps.js';
import { STORES } from '../helpers/stores.js';

for (const { name, make, skip } of STORES) {
  describe.skipIf(skip)(`races on ${name}`, () => {
    let store: SqlStore;
    let deps: TestDeps;
    beforeEach(async () => {
      store = await make();
      // Latency on the carrier widens every race window.
      deps = makeDeps(store, {
        policy: { approvers: Array.from({ length: 20 }, (_, i) => `U02APPR${i}`) },
        carrier: { latencyMs: 5 },
      });
    });
    afterEach(async () => {
      await store.close();
    });

    it('20 concurrent approvals of one request make exactly one purchase', async () => {
      const { request } = (await runCommand(deps, buy as never, ALICE, { target: '415' })) as {
        request: { id: string; e164: string };
      };
      const results = await Promise.allSettled(
        deps.policy.approvers.map((id) =>
          runCommand(deps, approve as never, { id, surface: 'slack' }, { id: request.id }),
        ),
      );
      const ok = results.filter((r) => r.status === 'fulfilled');
      const refused = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      expect(ok).toHaveLength(1);
      expect(refused).toHaveLength(19);
      for (const r of refused) expect((r.reason as CoreError).code).toBe('CONFLICT');
      const state = deps.sandbox.state();
      expect(Object.values(state.orders).filter((o) => o.reference === request.id)).toHaveLength(1);
      expect(Object.keys(state.orders)).toHaveLength(1);
      expect(await store.getRequest(request.id)).toMatchObject({ status: 'done', attempts: 1 });
      expect((await store.listNumbers({ owner: 'U01ALICE' })).map((n) => n.e164)).toEqual([
        request.e164,
      ]);
    });

    it('50 concurrent claims of one pool number: one owner, 49 clear conflicts', async () => {
      await runCommand(deps, sync as never, ADMIN, {});
      const members = Array.from({ length: 50 }, (_, i) => `U03M${String(i).padStart(3, '0')}`);
      const results = await Promise.allSettled(
        members.map((id) =>
          runCommand(deps, claim as never, { id, surface: 'slack' }, { number: '+14155550142' }),
        ),
      );
      const winners = results.filter((r) => r.status === 'fulfilled');
      const losers = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      expect(winners).toHaveLength(1);
      expect(losers).toHaveLength(49);
      const owner = (await store.getNumber('+14155550142'))!.owner!;
      expect(members).toContain(owner);
      for (const loser of losers) {
        expect(loser.reason).toMatchObject({
          code: 'CONFLICT',
          message: `+14155550142 already belongs to ${owner}. Pick another from: list pool`,
        });
      }
    });
  });
}
