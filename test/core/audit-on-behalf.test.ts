/**
 * `audit` shows a member what their MCP tokens did for them (migration 018, AuditFilter.actor):
 * the events name the token (`mcp:<name>`), and a member's own trail, or an approver's
 * `audit --actor <member>`, includes them. Another member's trail does not. The core on the
 * sandbox carrier, on every store.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCommand } from '../../src/core/command.js';
import { audit, claim, sync } from '../../src/core/commands/index.js';
import { SANDBOX_OWNED } from '../../src/carriers/sandbox-inventory.js';
import { renderers } from '../../src/cli/render.js';
import type { Store } from '../../src/core/ports.js';
import type { Actor, AuditEvent } from '../../src/core/types.js';
import { tokenActor } from '../../src/mcp/tokens.js';
import { ADMIN, ALICE, BOB, CAROL, makeDeps } from '../helpers/deps.js';
import type { TestDeps } from '../helpers/deps.js';
import { apiToken } from '../helpers/fixtures.js';
import { STORES } from '../helpers/stores.js';

const [POOL_A, POOL_B] = SANDBOX_OWNED;

const ALICE_CLAUDE = tokenActor(apiToken('alice-claude', 'U01ALICE'));

for (const { name, make, skip } of STORES) {
  describe.skipIf(skip)(`audit lists what a member's tokens did for them: ${name}`, () => {
    let store: Store;
    let deps: TestDeps;

    const trail = async (actor: Actor, input: Record<string, unknown> = {}) =>
      ((await runCommand(deps, audit, actor, input)) as { events: AuditEvent[] }).events;
    const rendered = (events: AuditEvent[]) =>
      (renderers.audit as (r: { events: AuditEvent[] }) => string)({ events });
    const claimsOf = (events: AuditEvent[]) =>
      events.filter((e) => e.command === 'claim').map((e) => `${e.actor} ${e.target}`);

    beforeEach(async () => {
      store = await make();
      deps = makeDeps(store);
      await runCommand(deps, sync, ADMIN, {}); // the sandbox account's numbers, in the pool
      await runCommand(deps, claim, ALICE_CLAUDE, { number: POOL_A });
      await runCommand(deps, claim, CAROL, { number: POOL_B });
    });
    afterEach(async () => {
      await store.close();
    });

    it("a member's own audit lists the claim their token made; another member's does not", async () => {
      const alices = await trail(ALICE);
      expect(claimsOf(alices)).toEqual([`mcp:alice-claude ${POOL_A}`]);
      expect(alices.find((e) => e.command === 'claim')).toMatchObject({
        surface: 'mcp',
        outcome: 'ok',
        detail: { onBehalfOf: 'U01ALICE' },
      });
      const table = rendered(alices);
      expect(table).toMatch(/mcp:alice-claude\s+mcp\s+claim\s+\+1/);

      const carols = await trail(CAROL);
      expect(claimsOf(carols)).toEqual([`U01CAROL ${POOL_B}`]);
      expect(rendered(carols)).not.toContain('mcp:alice-claude');
    });

    it("an approver asking for a member gets their tokens' events too; for the token, its own", async () => {
      expect(claimsOf(await trail(BOB, { actor: 'U01ALICE' }))).toEqual([
        `mcp:alice-claude ${POOL_A}`,
      ]);
      expect(claimsOf(await trail(BOB, { actor: 'U01CAROL' }))).toEqual([`U01CAROL ${POOL_B}`]);
      const tokens = await trail(BOB, { actor: 'mcp:alice-claude' });
      expect(tokens.map((e) => e.actor)).toEqual(['mcp:alice-claude']);
      // The history of the number names the token, whoever asks.
      expect(claimsOf(await trail(BOB, { subject: POOL_A, actor: 'U01ALICE' }))).toEqual([
        `mcp:alice-claude ${POOL_A}`,
      ]);
    });
  });
}
