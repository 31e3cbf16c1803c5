/**
 * A purchase requested through an MCP token is its owner's own (migration 013): the owner cannot
 * approve it unless self-approval is allowed, may still withdraw it and follow it; other
 * approvers decide as usual. The core, on the sandbox carrier and a PGlite store.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCommand } from '../../src/core/command.js';
import { approve, buy, deny, getRequest } from '../../src/core/commands/index.js';
import type { BuyResult } from '../../src/core/commands/buy.js';
import type { DecisionResult } from '../../src/core/commands/decide.js';
import type { ApiToken } from '../../src/core/ports.js';
import { assertMayDecide } from '../../src/core/policy.js';
import type { Actor, PurchaseRequest } from '../../src/core/types.js';
import { tokenActor } from '../../src/mcp/tokens.js';
import type { SqlStore } from '../../src/store/sql-store.js';
import { ALICE, BOB, CAROL, defaultPolicy, makeDeps } from '../helpers/deps.js';
import type { TestDeps } from '../helpers/deps.js';
import { freshPglite } from '../helpers/stores.js';

let store: SqlStore;
let deps: TestDeps;
const DAVE: Actor = { id: 'U01DAVE', surface: 'cli' };

beforeEach(async () => {
  store = await freshPglite();
  deps = makeDeps(store, { policy: { approvers: ['U01BOB', 'U01DAVE'] } });
});
afterEach(async () => {
  await store.close();
});

const token = (name: string, owner: string): ApiToken => ({
  id: 1,
  name,
  role: 'requester',
  owner,
  createdBy: 'local',
  createdAt: new Date(),
  revokedAt: null,
  lastUsedAt: null,
});

async function requestThrough(owner: string, target = '415'): Promise<PurchaseRequest> {
  const result = (await runCommand(deps, buy, tokenActor(token(`${owner}-claude`, owner)), {
    target,
  })) as BuyResult;
  return result.request;
}

describe('requests made through an MCP token', () => {
  it('record the token owner as onBehalfOf; a request made directly has none', async () => {
    const viaToken = await requestThrough('U01BOB');
    expect(viaToken).toMatchObject({
      status: 'pending',
      requester: 'mcp:U01BOB-claude',
      onBehalfOf: 'U01BOB',
      surface: 'mcp',
    });
    expect((await store.getRequest(viaToken.id))?.onBehalfOf).toBe('U01BOB');
    const direct = ((await runCommand(deps, buy, ALICE, { target: '212' })) as BuyResult).request;
    expect(direct.onBehalfOf).toBeNull();
  });

  it('the owner, an approver, cannot approve it: the refusal says why and who can; it stays pending', async () => {
    const request = await requestThrough('U01BOB');
    const refused = runCommand(deps, approve, BOB, { id: request.id });
    await expect(refused).rejects.toMatchObject({ code: 'FORBIDDEN' });
    const message = await refused.catch((error: Error) => error.message);
    expect(message).toContain(
      `You cannot approve ${request.id}: it was requested through your MCP token U01BOB-claude`,
    );
    expect(message).toContain('another approver (U01DAVE)');
    expect(message).toContain('you may still deny (withdraw) it');
    expect((await store.getRequest(request.id))?.status).toBe('pending');
    expect(Object.keys(deps.sandbox.state().orders)).toHaveLength(0);
    const audit = await store.listAudit({ requestId: request.id, actor: 'U01BOB' });
    expect(audit[0]).toMatchObject({ command: 'approve', outcome: 'refused' });
  });

  it("another approver approves it; the number goes to the token's owner (migration 015)", async () => {
    const request = await requestThrough('U01BOB');
    const result = (await runCommand(deps, approve, DAVE, { id: request.id })) as DecisionResult;
    expect(result.request).toMatchObject({ status: 'done', decidedBy: 'U01DAVE' });
    expect(result.number?.owner).toBe('U01BOB');
  });

  it('when the owner is the only approver, the refusal says an admin must add another', async () => {
    deps.policy = { ...deps.policy, approvers: ['U01BOB'] };
    const request = await requestThrough('U01BOB');
    await expect(runCommand(deps, approve, BOB, { id: request.id })).rejects.toMatchObject({
      code: 'FORBIDDEN',
      message: expect.stringContaining(
        'There is no other approver: an admin adds one to SWITCHBOARD_APPROVERS',
      ),
    });
  });

  it('SWITCHBOARD_ALLOW_SELF_APPROVAL lets the owner approve it, as for their own requests', async () => {
    deps.policy = { ...deps.policy, allowSelfApproval: true };
    const request = await requestThrough('U01BOB');
    const result = (await runCommand(deps, approve, BOB, { id: request.id })) as DecisionResult;
    expect(result.request.status).toBe('done');
  });

  it('the owner may withdraw (deny) it and follow it, even when not an approver', async () => {
    const forAlice = await requestThrough('U01ALICE');
    const seen = (await runCommand(deps, getRequest, ALICE, { id: forAlice.id })) as {
      request: PurchaseRequest;
    };
    expect(seen.request.onBehalfOf).toBe('U01ALICE');
    await expect(runCommand(deps, getRequest, CAROL, { id: forAlice.id })).rejects.toMatchObject({
      code: 'FORBIDDEN',
    });
    await expect(runCommand(deps, deny, CAROL, { id: forAlice.id })).rejects.toMatchObject({
      code: 'FORBIDDEN',
      message: expect.stringContaining('Only approvers'),
    });
    const withdrawn = (await runCommand(deps, deny, ALICE, {
      id: forAlice.id,
      reason: 'not needed',
    })) as DecisionResult;
    expect(withdrawn.request).toMatchObject({ status: 'denied', decidedBy: 'U01ALICE' });

    const forBob = await requestThrough('U01BOB', '212');
    const bobWithdraws = (await runCommand(deps, deny, BOB, { id: forBob.id })) as DecisionResult;
    expect(bobWithdraws.request.status).toBe('denied');
  });
});

describe('assertMayDecide', () => {
  const base = { id: 'R-TEST1', requester: 'mcp:bot', onBehalfOf: 'U01BOB' } as PurchaseRequest;
  it('treats requester === actor and onBehalfOf === actor alike, and no one else', () => {
    const policy = { ...defaultPolicy, approvers: ['U01BOB', 'U01DAVE'] };
    expect(() => assertMayDecide(policy, BOB, base, true)).toThrow(/your MCP token bot/);
    expect(() =>
      assertMayDecide(policy, BOB, { ...base, requester: 'U01BOB', onBehalfOf: null }, true),
    ).toThrow(/your own request/);
    expect(() => assertMayDecide(policy, DAVE, base, true)).not.toThrow();
    expect(() =>
      assertMayDecide(policy, BOB, { ...base, onBehalfOf: 'U01ALICE' }, true),
    ).not.toThrow();
    expect(() => assertMayDecide(policy, BOB, base, false)).not.toThrow();
    expect(() =>
      assertMayDecide({ ...policy, allowSelfApproval: true }, BOB, base, true),
    ).not.toThrow();
  });
});
