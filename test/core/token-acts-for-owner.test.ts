/**
 * An MCP token acts for its owner (migration 015, memberOf in src/core/policy.ts): what it buys or
 * claims is the owner's and counts against the owner's cap, `mine` means the owner's, and it may
 * release, link and unlink the owner's numbers and no one else's. The audit trail still names the
 * token, and says on whose behalf. The core on the sandbox carrier, on every store.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCommand } from '../../src/core/command.js';
import {
  approve,
  buy,
  claim,
  getRequest,
  link,
  list,
  release,
  requests,
  show,
  sync,
  unlink,
} from '../../src/core/commands/index.js';
import type { BuyResult } from '../../src/core/commands/buy.js';
import type { DecisionResult } from '../../src/core/commands/decide.js';
import type { ListResult } from '../../src/core/commands/numbers.js';
import { SANDBOX_OWNED } from '../../src/carriers/sandbox-inventory.js';
import type { Store } from '../../src/core/ports.js';
import type { Actor, AuditEvent, NumberRecord, PurchaseRequest } from '../../src/core/types.js';
import { tokenActor } from '../../src/mcp/tokens.js';
import { ADMIN, ALICE, BOB, CAROL, makeDeps } from '../helpers/deps.js';
import type { TestDeps } from '../helpers/deps.js';
import { apiToken } from '../helpers/fixtures.js';
import { STORES } from '../helpers/stores.js';

const AGENT = 'retell:agent_sandbox_support';
const [POOL_A, POOL_B, POOL_C, POOL_D] = SANDBOX_OWNED;

let sequence = 0;
const token = (name: string, owner: string) => apiToken(name, owner, ++sequence);

/** Two assistants of Alice's, one of Carol's. */
const ALICE_CLAUDE = tokenActor(token('alice-claude', 'U01ALICE'));
const ALICE_CURSOR = tokenActor(token('alice-cursor', 'U01ALICE'));
const CAROL_CLAUDE = tokenActor(token('carol-claude', 'U01CAROL'));

for (const { name, make, skip } of STORES) {
  describe.skipIf(skip)(`an MCP token acts for its owner: ${name}`, () => {
    let store: Store;
    let deps: TestDeps;

    const run = <T>(command: Parameters<typeof runCommand>[1], actor: Actor, input: unknown) =>
      runCommand(deps, command, actor, input) as Promise<T>;
    const buyAs = async (actor: Actor, target: string) =>
      (await run<BuyResult>(buy, actor, { target })).request;
    const claimAs = async (actor: Actor, number: string) =>
      (await run<{ number: NumberRecord; alreadyYours: boolean }>(claim, actor, { number })).number;

    beforeEach(async () => {
      store = await make();
      deps = makeDeps(store);
      // The sandbox account's numbers, in the pool.
      await run(sync, ADMIN, {});
    });
    afterEach(async () => {
      await store.close();
    });

    it("a purchase through a token ends owned by the token's owner; the request still names the token", async () => {
      const request = await buyAs(ALICE_CLAUDE, '415');
      expect(request).toMatchObject({ requester: 'mcp:alice-claude', onBehalfOf: 'U01ALICE' });
      const done = await run<DecisionResult>(approve, BOB, { id: request.id });
      expect(done.request.status).toBe('done');
      expect(done.number?.owner).toBe('U01ALICE');
      const stored = await store.getNumber(request.e164);
      expect(stored?.owner).toBe('U01ALICE');

      // Hers through any of her assistants, and hers directly.
      for (const actor of [ALICE, ALICE_CLAUDE, ALICE_CURSOR]) {
        const mine = await run<ListResult>(list, actor, { scope: 'mine' });
        expect(mine.numbers.map((n) => n.e164)).toEqual([request.e164]);
        expect(mine.totals.byOwner.map((t) => t.owner)).toEqual(['U01ALICE']);
      }
      const carols = await run<ListResult>(list, CAROL_CLAUDE, { scope: 'mine' });
      expect(carols.numbers).toEqual([]);
    });

    it("counts against the owner's cap: two tokens of one owner, and the owner, cannot exceed it", async () => {
      deps.policy = { ...deps.policy, memberNumberCap: 2 };
      await claimAs(ALICE, POOL_A as string);
      await buyAs(ALICE_CLAUDE, '415');
      // Alice holds one and has asked for one: at her cap, however she asks.
      for (const [actor, target] of [
        [ALICE_CURSOR, '212'],
        [ALICE_CLAUDE, '312'],
        [ALICE, '213'],
      ] as const) {
        await expect(buyAs(actor, target)).rejects.toMatchObject({
          code: 'FORBIDDEN',
          details: { count: 2, cap: 2 },
        });
      }
      await expect(claimAs(ALICE_CURSOR, POOL_B as string)).rejects.toMatchObject({
        code: 'FORBIDDEN',
        details: { count: 2, cap: 2 },
      });
      // Carol's assistant has Carol's cap, untouched by Alice's.
      expect((await buyAs(CAROL_CLAUDE, '512')).onBehalfOf).toBe('U01CAROL');
      expect((await claimAs(CAROL_CLAUDE, POOL_B as string)).owner).toBe('U01CAROL');
    });

    it("claim through a token makes the owner the owner; the owner's other tokens see it as theirs", async () => {
      const claimed = await claimAs(ALICE_CLAUDE, POOL_A as string);
      expect(claimed).toMatchObject({ owner: 'U01ALICE', status: 'assigned' });
      for (const actor of [ALICE, ALICE_CURSOR]) {
        const again = await run<{ alreadyYours: boolean }>(claim, actor, { number: POOL_A });
        expect(again.alreadyYours).toBe(true);
      }
      await expect(claimAs(CAROL_CLAUDE, POOL_A as string)).rejects.toMatchObject({
        code: 'CONFLICT',
        message: expect.stringContaining('already belongs to U01ALICE'),
      });
    });

    it("a requester token links, unlinks and releases its owner's numbers, and refuses another member's", async () => {
      const alices = (await claimAs(ALICE, POOL_A as string)).e164;
      const carols = (await claimAs(CAROL, POOL_B as string)).e164;

      const linked = await run<{ number: NumberRecord }>(link, ALICE_CLAUDE, {
        number: alices,
        agent: AGENT,
      });
      expect(linked.number.agent?.agentId).toBe('agent_sandbox_support');
      await run(unlink, ALICE_CURSOR, { number: alices });
      expect((await store.getNumber(alices))?.agent).toBeNull();

      for (const [command, input] of [
        [link, { number: carols, agent: AGENT }],
        [unlink, { number: carols }],
        [release, { number: carols }],
      ] as const) {
        await expect(run(command, ALICE_CLAUDE, input)).rejects.toMatchObject({
          code: 'FORBIDDEN',
          message: expect.stringContaining('belongs to U01CAROL'),
        });
      }
      // A pool number is claimed first, through a token as by anyone.
      await expect(run(release, ALICE_CLAUDE, { number: POOL_C })).rejects.toMatchObject({
        code: 'FORBIDDEN',
        message: expect.stringContaining('is in the pool'),
      });

      const released = await run<{ number: NumberRecord }>(release, ALICE_CLAUDE, {
        number: alices,
      });
      expect(released.number.status).toBe('released');
      expect((await store.getNumber(carols))?.status).toBe('assigned');
    });

    it("`requests mine` and `request` through a token show the owner's requests, and no one else's", async () => {
      const direct = await buyAs(ALICE, '415');
      const viaClaude = await buyAs(ALICE_CLAUDE, '212');
      const viaCursor = await buyAs(ALICE_CURSOR, '312');
      const carols = await buyAs(CAROL_CLAUDE, '213');
      const mine = async (actor: Actor) =>
        (await run<{ requests: PurchaseRequest[] }>(requests, actor, { scope: 'mine' })).requests
          .map((r) => r.id)
          .sort();
      const alicesIds = [direct.id, viaClaude.id, viaCursor.id].sort();
      expect(await mine(ALICE_CLAUDE)).toEqual(alicesIds);
      expect(await mine(ALICE)).toEqual(alicesIds);
      expect(await mine(CAROL_CLAUDE)).toEqual([carols.id]);
      // A limit keeps the newest of them.
      const one = await run<{ requests: PurchaseRequest[] }>(requests, ALICE_CURSOR, {
        scope: 'mine',
        limit: 1,
      });
      expect(one.requests).toHaveLength(1);

      const seen = await run<{ request: PurchaseRequest }>(getRequest, ALICE_CURSOR, {
        id: direct.id,
      });
      expect(seen.request.id).toBe(direct.id);
      await expect(run(getRequest, ALICE_CLAUDE, { id: carols.id })).rejects.toMatchObject({
        code: 'FORBIDDEN',
      });
    });

    it("`show` through a token gives the owner's history; the audit trail names the token and on whose behalf", async () => {
      await claimAs(ALICE_CLAUDE, POOL_D as string);
      const shown = await run<{ history: AuditEvent[] }>(show, ALICE_CURSOR, { number: POOL_D });
      expect(shown.history.map((e) => e.command)).toContain('claim');
      const [claimed] = await store.listAudit({ actor: 'mcp:alice-claude', limit: 5 });
      expect(claimed).toMatchObject({
        actor: 'mcp:alice-claude',
        surface: 'mcp',
        command: 'claim',
        outcome: 'ok',
        detail: { onBehalfOf: 'U01ALICE' },
      });
      // Someone else's assistant sees the number, not its history.
      const other = await run<{ history: AuditEvent[] }>(show, CAROL_CLAUDE, { number: POOL_D });
      expect(other.history).toEqual([]);
      // A person's own events carry no onBehalfOf.
      await claimAs(CAROL, POOL_C as string);
      const [carols] = await store.listAudit({ actor: 'U01CAROL', limit: 1 });
      expect(carols?.detail?.onBehalfOf).toBeUndefined();
    });
  });
}
