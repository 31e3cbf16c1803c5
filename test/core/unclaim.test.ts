/**
 * `unclaim`: a number goes back to the team pool (assigned -> available, owner -> null) in one
 * compare-and-set (migration 023), staying in the carrier account. Its owner may (through a token:
 * the token's owner), an admin may take anyone's back, nobody else; never while it is linked; and
 * every other state is refused with what to do. The core on the sandbox carrier, on every store.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCommand } from '../../src/core/command.js';
import { claim, link, list, release, sync, unclaim } from '../../src/core/commands/index.js';
import type { ListResult, UnclaimResult } from '../../src/core/commands/numbers.js';
import { SANDBOX_OWNED } from '../../src/carriers/sandbox-inventory.js';
import type { CoreError } from '../../src/core/errors.js';
import type { Store } from '../../src/core/ports.js';
import type { Actor } from '../../src/core/types.js';
import { tokenActor } from '../../src/mcp/tokens.js';
import type { SqlStore } from '../../src/store/sql-store.js';
import { ADMIN, ALICE, CAROL, makeDeps } from '../helpers/deps.js';
import type { TestDeps } from '../helpers/deps.js';
import { apiToken } from '../helpers/fixtures.js';
import { STORES } from '../helpers/stores.js';

const AGENT = 'retell:agent_sandbox_support';
/** $1.00 a month, San Francisco; the pool's other four cost $5.65 together. */
const NUMBER = SANDBOX_OWNED[0];

const ALICE_CLAUDE = tokenActor(apiToken('alice-claude', 'U01ALICE', 1));
const CAROL_CLAUDE = tokenActor(apiToken('carol-claude', 'U01CAROL', 2));
/** A token of an admin is no admin. */
const ADMIN_CLAUDE = tokenActor(apiToken('admin-claude', 'U01ADMIN', 3));

for (const { name, make, skip } of STORES) {
  describe.skipIf(skip)(`unclaim (${name} store)`, () => {
    let store: SqlStore;
    let deps: TestDeps;

    const unclaimAs = (actor: Actor, number: string = NUMBER) =>
      runCommand(deps, unclaim, actor, { number }) as Promise<UnclaimResult>;
    const claimAs = (actor: Actor, number: string = NUMBER) =>
      runCommand(deps, claim, actor, { number });
    const listAs = (actor: Actor, scope: 'mine' | 'pool' | 'all') =>
      runCommand(deps, list, actor, { scope }) as Promise<ListResult>;
    const refusal = async (promise: Promise<unknown>) => {
      const error = (await promise.then(
        () => {
          throw new Error('expected a refusal');
        },
        (e: unknown) => e,
      )) as CoreError;
      return { code: error.code, message: error.message };
    };

    beforeEach(async () => {
      store = await make();
      deps = makeDeps(store);
      await runCommand(deps, sync, ADMIN, {});
      await claimAs(ALICE);
    });
    afterEach(async () => {
      await store.close();
    });

    it("the owner gives it back: it is in the pool, nobody's, and the totals move with it", async () => {
      const before = await listAs(ADMIN, 'all');
      expect(before.totals.byOwner).toEqual([
        { owner: 'pool', count: 4, monthly: 5.65 },
        { owner: ALICE.id, count: 1, monthly: 1 },
      ]);

      const result = await unclaimAs(ALICE);
      expect(result).toMatchObject({
        number: { e164: NUMBER, status: 'available', owner: null, agent: null },
        previousOwner: ALICE.id,
        wasYours: true,
      });
      expect(await store.getNumber(NUMBER)).toMatchObject({ status: 'available', owner: null });

      const pool = await listAs(CAROL, 'pool');
      expect(pool.numbers.map((n) => n.e164)).toContain(NUMBER);
      expect(pool.totals.team).toEqual({ count: 5, monthly: 6.65 });
      const mine = await listAs(ALICE, 'mine');
      expect(mine.numbers).toEqual([]);
      expect(mine.totals.team).toEqual({ count: 0, monthly: 0 });
      const after = await listAs(ADMIN, 'all');
      expect(after.totals.byOwner).toEqual([{ owner: 'pool', count: 5, monthly: 6.65 }]);
      expect(after.totals.team).toEqual(before.totals.team);

      // Anyone may claim it now.
      expect((await claimAs(CAROL)).number.owner).toBe(CAROL.id);
    });

    it('writes one audit event per call: the target, the cost and whose it was', async () => {
      await unclaimAs(ALICE);
      await refusal(unclaimAs(ALICE));
      const events = await store.listAudit({ target: NUMBER, limit: 10 });
      expect(events.filter((e) => e.command === 'unclaim')).toMatchObject([
        { actor: ALICE.id, outcome: 'refused', errorCode: 'CONFLICT' },
        {
          actor: ALICE.id,
          outcome: 'ok',
          monthlyCost: 1,
          currency: 'USD',
          detail: { previousOwner: ALICE.id },
        },
      ]);
    });

    it("another member is refused, with who can; the number stays the owner's", async () => {
      expect(await refusal(unclaimAs(CAROL))).toEqual({
        code: 'FORBIDDEN',
        message: `${NUMBER} belongs to U01ALICE: only they or an admin can unclaim it.`,
      });
      expect(await store.getNumber(NUMBER)).toMatchObject({
        status: 'assigned',
        owner: ALICE.id,
      });
      const [event] = await store.listAudit({ actor: CAROL.id, limit: 1 });
      expect(event).toMatchObject({ command: 'unclaim', target: NUMBER, outcome: 'refused' });
    });

    it("an admin takes back anyone's number, and says whose it was", async () => {
      const result = await unclaimAs(ADMIN);
      expect(result).toMatchObject({
        number: { status: 'available', owner: null },
        previousOwner: ALICE.id,
        wasYours: false,
      });
      expect(await store.getNumber(NUMBER)).toMatchObject({ status: 'available', owner: null });
    });

    it('is refused while linked, naming the unlink that comes first', async () => {
      await runCommand(deps, link, ALICE, { number: NUMBER, agent: AGENT });
      for (const actor of [ALICE, ADMIN]) {
        expect(await refusal(unclaimAs(actor))).toEqual({
          code: 'CONFLICT',
          message: `${NUMBER} is linked to ${AGENT}, so its calls would still reach that agent. Unlink it first (unlink ${NUMBER}), then unclaim it.`,
        });
      }
      expect(await store.getNumber(NUMBER)).toMatchObject({
        status: 'assigned',
        owner: ALICE.id,
        agent: { platform: 'retell', agentId: 'agent_sandbox_support' },
      });
    });

    it('a pool number, an unknown one, a released one and a missing one: each says what to do', async () => {
      const inPool = SANDBOX_OWNED[1];
      expect(await refusal(unclaimAs(ALICE, inPool))).toEqual({
        code: 'CONFLICT',
        message: `${inPool} is already in the team pool: nobody holds it, so there is nothing to give back. To take it: claim ${inPool}`,
      });
      expect(await refusal(unclaimAs(ALICE, '+19995550000'))).toEqual({
        code: 'NOT_FOUND',
        message:
          '+19995550000 is not one of our numbers, so there is nothing to give back. See yours with: list mine',
      });
      expect(await refusal(unclaimAs(ALICE, '12'))).toMatchObject({ code: 'INVALID_INPUT' });

      const released = SANDBOX_OWNED[2];
      await claimAs(ALICE, released);
      await runCommand(deps, release, ALICE, { number: released });
      const gone = await refusal(unclaimAs(ALICE, released));
      expect(gone.code).toBe('NOT_FOUND');
      expect(gone.message).toMatch(
        new RegExp(
          `^\\${released} was released at \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d UTC and is no longer in the carrier account, so it cannot go back to the pool\\. If the carrier still offers it, ask to buy it again: buy \\${released}$`,
        ),
      );

      // Gone from the carrier account (released in its portal, say): the next sync marks it missing.
      const missing = (await store.getNumber(NUMBER))!;
      await deps.sandbox.release(missing);
      await runCommand(deps, sync, ADMIN, {});
      expect((await store.getNumber(NUMBER))?.status).toBe('missing');
      expect(await refusal(unclaimAs(ALICE))).toEqual({
        code: 'CONFLICT',
        message: `${NUMBER} is missing from the carrier account since the last sync, so it cannot go back to the pool. An admin can check it; if it is gone for good, release it: release ${NUMBER}`,
      });
      expect(await store.getNumber(NUMBER)).toMatchObject({ status: 'missing', owner: ALICE.id });
    });

    it("a token gives back its owner's number, and no one else's", async () => {
      expect(await refusal(unclaimAs(CAROL_CLAUDE))).toEqual({
        code: 'FORBIDDEN',
        message: `${NUMBER} belongs to U01ALICE: only they or an admin can unclaim it.`,
      });
      // The owner's roles do not pass to the token.
      expect((await refusal(unclaimAs(ADMIN_CLAUDE))).code).toBe('FORBIDDEN');
      expect((await store.getNumber(NUMBER))?.owner).toBe(ALICE.id);

      const result = await unclaimAs(ALICE_CLAUDE);
      expect(result).toMatchObject({ previousOwner: ALICE.id, wasYours: true });
      expect(await store.getNumber(NUMBER)).toMatchObject({ status: 'available', owner: null });
      const [event] = await store.listAudit({ actor: 'mcp:alice-claude', limit: 1 });
      expect(event).toMatchObject({
        command: 'unclaim',
        target: NUMBER,
        outcome: 'ok',
        surface: 'mcp',
        detail: { previousOwner: ALICE.id, onBehalfOf: ALICE.id },
      });
    });

    it("frees a slot under the member cap, which the cap's refusal says", async () => {
      const capped = makeDeps(store, { policy: { memberNumberCap: 1 } });
      const other = SANDBOX_OWNED[1];
      expect(await refusal(runCommand(capped, claim, ALICE, { number: other }))).toEqual({
        code: 'FORBIDDEN',
        message:
          'You hold or have asked for 1 number and the cap is 1 a member: give one back to the pool (unclaim <number>) or release one first, or ask an admin to raise SWITCHBOARD_MEMBER_NUMBER_CAP.',
      });
      await runCommand(capped, unclaim, ALICE, { number: NUMBER });
      expect((await runCommand(capped, claim, ALICE, { number: other })).number).toMatchObject({
        e164: other,
        owner: ALICE.id,
      });
    });

    it('ten concurrent unclaims: one gives it back, nine are told it is already in the pool', async () => {
      const results = await Promise.allSettled(
        Array.from({ length: 10 }, (_, i) => unclaimAs(i % 2 ? ALICE : ADMIN)),
      );
      const ok = results.filter((r) => r.status === 'fulfilled');
      const refused = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      expect(ok).toHaveLength(1);
      expect(refused).toHaveLength(9);
      for (const r of refused) {
        expect((r.reason as CoreError).code).toBe('CONFLICT');
        expect((r.reason as CoreError).message).toMatch(/is already in the team pool/);
      }
      expect(await store.getNumber(NUMBER)).toMatchObject({ status: 'available', owner: null });
      expect((await listAs(ADMIN, 'all')).totals.byOwner).toEqual([
        { owner: 'pool', count: 5, monthly: 6.65 },
      ]);
    });

    it("an unclaim racing someone else's claim: it always goes back, and the claim either took it after or saw it held", async () => {
      for (let round = 0; round < 8; round++) {
        const [unclaimed, claimed] = await Promise.allSettled([unclaimAs(ALICE), claimAs(CAROL)]);
        expect(unclaimed.status).toBe('fulfilled');
        const number = await store.getNumber(NUMBER);
        if (claimed.status === 'fulfilled') {
          expect(number).toMatchObject({ status: 'assigned', owner: CAROL.id });
          await unclaimAs(CAROL);
        } else {
          expect((claimed.reason as CoreError).code).toBe('CONFLICT');
          expect((claimed.reason as CoreError).message).toMatch(/already belongs to U01ALICE/);
          expect(number).toMatchObject({ status: 'available', owner: null });
        }
        const totals = (await listAs(ADMIN, 'all')).totals;
        expect(totals.team).toEqual({ count: 5, monthly: 6.65 });
        await claimAs(ALICE);
      }
    });

    it('a number that changed hands between the check and the change is not given back', async () => {
      // Alice gives it back and Carol claims it just after the admin read it as Alice's.
      let interleaved = false;
      const racing = new Proxy(store, {
        get(target, key, receiver) {
          if (key !== 'getNumber') return Reflect.get(target, key, receiver) as unknown;
          return async (e164: string) => {
            const read = await target.getNumber(e164);
            if (!interleaved) {
              interleaved = true;
              await unclaimAs(ALICE);
              await claimAs(CAROL);
            }
            return read;
          };
        },
      }) as Store;
      const adminDeps = { ...deps, store: racing };
      const error = await refusal(runCommand(adminDeps, unclaim, ADMIN, { number: NUMBER }));
      expect(error).toEqual({
        code: 'CONFLICT',
        message: `${NUMBER} changed hands meanwhile: it is now U01CAROL's, so it was not given back. Check it with: show ${NUMBER}`,
      });
      expect(await store.getNumber(NUMBER)).toMatchObject({ status: 'assigned', owner: CAROL.id });
    });
  });
}
