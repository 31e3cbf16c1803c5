/** The command core end to end on the sandbox carrier and a real (PGlite) store. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCommand } from '../../src/core/command.js';
import {
  approve,
  audit,
  buy,
  claim,
  deny,
  link,
  list,
  release,
  requests,
  search,
  sync,
  unlink,
  show,
} from '../../src/core/commands/index.js';
import { reconcile } from '../../src/core/purchase.js';
import type { Actor } from '../../src/core/types.js';
import type { SqlStore } from '../../src/store/sql-store.js';
import { ADMIN, ALICE, BOB, CAROL, makeDeps } from '../helpers/deps.js';
import type { TestDeps } from '../helpers/deps.js';
import { freshPglite } from '../helpers/stores.js';

let store: SqlStore;
let deps: TestDeps;

beforeEach(async () => {
  store = await freshPglite();
  deps = makeDeps(store);
});
afterEach(async () => {
  await store.close();
});

const run = <O>(command: { name: string }, actor: Actor, input: unknown) =>
  runCommand(deps, command as never, actor, input) as Promise<O>;

async function requestFor(actor: Actor, target = '415') {
  const result = await run<{
    request: { id: string; e164: string; status: string; monthlyCost: number };
  }>(buy, actor, { target, reason: 'test line' });
  return result.request;
}

describe('search', () => {
  it('finds sandbox numbers in an area code, cheapest first, saved as quotes', async () => {
    const result = await run<{
      quotes: Array<{ e164: string; monthlyCost: number; id: string }>;
      sandbox: boolean;
      described: string;
    }>(search, ALICE, { query: '415', limit: 5 });
    expect(result.sandbox).toBe(true);
    expect(result.described).toBe('area code 415 (San Francisco, CA)');
    expect(result.quotes).toHaveLength(5);
    expect(result.quotes.every((q) => q.e164.startsWith('+1415'))).toBe(true);
    const prices = result.quotes.map((q) => q.monthlyCost);
    expect(prices).toEqual([...prices].sort((a, b) => a - b));
    expect(await store.getQuote(result.quotes[0]!.id)).toMatchObject({
      e164: result.quotes[0]!.e164,
      sandbox: true,
    });
  });

  it('searches by city and by toll-free prefix', async () => {
    const byCity = await run<{ quotes: Array<{ locality: string }> }>(search, ALICE, {
      query: 'Toronto',
    });
    expect(byCity.quotes.length).toBeGreaterThan(0);
    expect(byCity.quotes.every((q) => q.locality === 'Toronto')).toBe(true);
    const tollFree = await run<{ quotes: Array<{ numberType: string; e164: string }> }>(
      search,
      ALICE,
      { query: '800', limit: 3 },
    );
    expect(
      tollFree.quotes.every((q) => q.numberType === 'toll-free' && q.e164.startsWith('+1800')),
    ).toBe(true);
  });

  it('refuses a two-digit area code and an unknown city with what to type', async () => {
    await expect(run(search, ALICE, { query: '41' })).rejects.toMatchObject({
      code: 'INVALID_INPUT',
      message: expect.stringContaining('search 415'),
    });
    await expect(run(search, ALICE, { query: 'Atlantis' })).rejects.toMatchObject({
      code: 'INVALID_INPUT',
      message: expect.stringContaining('area code'),
    });
  });

  it('answers with a clear error when every carrier fails', async () => {
    deps = makeDeps(store, { carrier: { faultRate: 1, faults: ['server_error'] } });
    await expect(run(search, ALICE, { query: '415' })).rejects.toMatchObject({
      code: 'UPSTREAM',
      message: expect.stringMatching(
        /^Every carrier failed: sandbox: [^]*[^.]\. Try again in a minute\.$/,
      ),
    });
  });
});

describe('buy, approve, deny', () => {
  it('requests at the server quote, and an approver buys it for the requester', async () => {
    const request = await requestFor(ALICE);
    expect(request).toMatchObject({ status: 'pending', monthlyCost: 1 });
    expect(deps.sandbox.state().owned[request.e164]).toBeUndefined();
    const result = await run<{
      request: { status: string };
      number: { owner: string; e164: string };
    }>(approve, BOB, { id: request.id });
    expect(result.request.status).toBe('done');
    expect(result.number).toMatchObject({ owner: 'U01ALICE', e164: request.e164 });
    expect(deps.sandbox.state().owned[request.e164]).toBeDefined();
    const mine = await run<{
      numbers: Array<{ e164: string }>;
      totals: { team: { monthly: number } };
    }>(list, ALICE, {});
    expect(mine.numbers.map((n) => n.e164)).toEqual([request.e164]);
    expect(mine.totals.team.monthly).toBe(1);
  });

  it('refuses self-approval, non-approvers and AI assistants, leaving the request pending', async () => {
    const request = await requestFor(BOB);
    await expect(run(approve, BOB, { id: request.id })).rejects.toMatchObject({
      code: 'FORBIDDEN',
      message: expect.stringContaining('your own request'),
    });
    await expect(run(approve, CAROL, { id: request.id })).rejects.toMatchObject({
      code: 'FORBIDDEN',
      message: expect.stringContaining('Only approvers'),
    });
    await expect(
      run(approve, { id: 'U01BOB', surface: 'mcp' }, { id: request.id }),
    ).rejects.toMatchObject({
      code: 'FORBIDDEN',
      message: expect.stringContaining('never approve'),
    });
    expect((await store.getRequest(request.id))?.status).toBe('pending');
    expect(Object.keys(deps.sandbox.state().orders)).toHaveLength(0);
  });

  it('allows self-approval only when policy says so', async () => {
    deps = makeDeps(store, { policy: { allowSelfApproval: true } });
    const request = await requestFor(BOB);
    await expect(run(approve, BOB, { id: request.id })).resolves.toMatchObject({
      request: { status: 'done' },
    });
  });

  it('denies with a reason; the requester may withdraw their own; a denied request cannot be approved', async () => {
    const first = await requestFor(ALICE);
    await expect(run(deny, BOB, { id: first.id, reason: 'use the pool' })).resolves.toMatchObject({
      request: { status: 'denied', decisionNote: 'use the pool' },
    });
    await expect(run(approve, BOB, { id: first.id })).rejects.toMatchObject({
      code: 'CONFLICT',
      message: expect.stringMatching(
        /already denied by U01BOB at \d{4}-\d\d-\d\d \d\d:\d\d UTC\.$/,
      ),
    });
    const second = await requestFor(ALICE);
    await expect(run(deny, ALICE, { id: second.id })).resolves.toMatchObject({
      request: { status: 'denied' },
    });
    const third = await requestFor(ALICE);
    await expect(run(deny, CAROL, { id: third.id })).rejects.toMatchObject({ code: 'FORBIDDEN' });
  });

  it('expires pending requests and will not approve them afterwards', async () => {
    const request = await requestFor(ALICE);
    deps.setNow(new Date(Date.now() + 61 * 60_000));
    await expect(run(approve, BOB, { id: request.id })).rejects.toMatchObject({
      code: 'CONFLICT',
      message: expect.stringContaining('expired'),
    });
    expect((await store.getRequest(request.id))?.status).toBe('expired');
  });

  it('holds the number while pending and lets go when denied', async () => {
    const request = await requestFor(ALICE);
    expect(Object.values(deps.sandbox.state().holds).map((h) => h.e164)).toEqual([request.e164]);
    await run(deny, BOB, { id: request.id });
    expect(Object.keys(deps.sandbox.state().holds)).toHaveLength(0);
  });

  it('for an area code, tries the next quote when the first number was taken; never buys two', async () => {
    const request = await requestFor(ALICE, '415');
    await deps.sandbox.takeElsewhere(request.e164);
    const result = await run<{ request: { status: string; e164: string } }>(approve, BOB, {
      id: request.id,
    });
    expect(result.request.status).toBe('done');
    expect(result.request.e164).not.toBe(request.e164);
    expect(Object.keys(deps.sandbox.state().orders)).toHaveLength(1);
  });

  it('fails a request for an exact number that was taken, saying nothing was bought', async () => {
    const searched = await run<{ quotes: Array<{ e164: string }> }>(search, ALICE, {
      query: '212',
      limit: 1,
    });
    const request = await requestFor(ALICE, searched.quotes[0]!.e164);
    await deps.sandbox.takeElsewhere(request.e164);
    const result = await run<{
      request: { status: string; errorCode: string; errorMessage: string };
    }>(approve, BOB, { id: request.id });
    expect(result.request).toMatchObject({
      status: 'failed',
      errorCode: 'TAKEN',
      errorMessage: expect.stringContaining('nothing was bought'),
    });
  });

  it('refuses a request over the monthly budget, saying by how much', async () => {
    deps = makeDeps(store, { policy: { monthlyBudget: 1.5 } });
    await requestFor(ALICE, '212');
    await expect(requestFor(CAROL, '312')).rejects.toMatchObject({
      code: 'FORBIDDEN',
      message: expect.stringMatching(/\$0\.50 over the monthly budget of \$1\.50/),
    });
  });

  it("the only approver's own request names nobody who could approve it, and says how to get one", async () => {
    const own = await run<{ request: { id: string }; approvers: string[] }>(buy, BOB, {
      target: '415',
      reason: 'test line',
    });
    expect(own.approvers).toEqual([]);
    await expect(run(approve, BOB, { id: own.request.id })).rejects.toMatchObject({
      code: 'FORBIDDEN',
      message: expect.stringMatching(
        /cannot approve your own request .*there is no other approver: an admin adds one to SWITCHBOARD_APPROVERS/,
      ),
    });
    const alices = await run<{ approvers: string[] }>(buy, ALICE, { target: '212' });
    expect(alices.approvers).toEqual([BOB.id]);
    deps = makeDeps(store, { policy: { allowSelfApproval: true } });
    const allowed = await run<{ approvers: string[] }>(buy, BOB, { target: '312' });
    expect(allowed.approvers).toEqual([BOB.id]);
  });

  it('refuses a request over the per-member cap', async () => {
    deps = makeDeps(store, { policy: { memberNumberCap: 1 } });
    await requestFor(ALICE, '212');
    await expect(requestFor(ALICE, '312')).rejects.toMatchObject({
      code: 'FORBIDDEN',
      message: expect.stringContaining('cap is 1'),
    });
  });

  it('auto-approves under the threshold when policy turns it on', async () => {
    deps = makeDeps(store, { policy: { autoApproveUnderMonthly: 1.1 } });
    const result = await run<{
      autoApproved: boolean;
      request: { status: string; decidedBy: string };
      number: { owner: string };
    }>(buy, ALICE, { target: '415' });
    expect(result).toMatchObject({
      autoApproved: true,
      request: { status: 'done', decidedBy: 'policy:auto-approve' },
      number: { owner: 'U01ALICE' },
    });
  });

  it('records an order whose answer was lost (timeout after the carrier acted) exactly once', async () => {
    deps = makeDeps(store, {
      carrier: { faultRate: 1, faults: ['timeout'], operations: ['order'] },
    });
    const request = await requestFor(ALICE, '415');
    const result = await run<{ request: { status: string }; number: { owner: string } }>(
      approve,
      BOB,
      { id: request.id },
    );
    expect(result).toMatchObject({ request: { status: 'done' }, number: { owner: 'U01ALICE' } });
    expect(deps.sandbox.faults.injected.timeout).toBe(1);
    expect(Object.keys(deps.sandbox.state().orders)).toHaveLength(1);
  });

  it('a 5xx on the order is looked up, found never placed, and failed: nothing bought', async () => {
    deps = makeDeps(store, {
      carrier: { faultRate: 1, faults: ['server_error'], operations: ['order'] },
    });
    const request = await requestFor(ALICE, '415');
    const result = await run<{ request: { status: string; errorCode: string } }>(approve, BOB, {
      id: request.id,
    });
    expect(result.request).toMatchObject({ status: 'failed', errorCode: 'NOT_ORDERED' });
    expect(Object.keys(deps.sandbox.state().orders)).toHaveLength(0);
    expect(Object.keys(deps.sandbox.state().owned)).not.toContain(request.e164);
  });

  it("a failed order's reason that ends with a full stop gets no second one", async () => {
    deps = makeDeps(store, {
      carrier: { faultRate: 1, faults: ['server_error'], operations: ['order'] },
    });
    deps.sandbox.lookupOrder = () =>
      Promise.resolve({ status: 'failed', message: 'Order ord-1 failed: Number not available.' });
    const request = await requestFor(ALICE, '415');
    const result = await run<{ request: { status: string; errorMessage: string } }>(approve, BOB, {
      id: request.id,
    });
    expect(result.request).toMatchObject({
      status: 'failed',
      errorMessage:
        "The carrier's order failed: Order ord-1 failed: Number not available. Nothing was bought.",
    });
  });

  it("reconcile settles a purchase interrupted between the carrier's yes and our record", async () => {
    const request = await requestFor(ALICE, '415');
    await store.decideRequest(request.id, 'U01BOB', true, null, new Date());
    await store.beginExecution(request.id, new Date());
    // The carrier took the order, then the process died before recording it.
    await deps.sandbox.order(request.e164, { reference: request.id });
    deps.setNow(new Date(Date.now() + 5 * 60_000));
    const settled = await reconcile(deps);
    expect(settled.map((r) => [r.id, r.status])).toEqual([[request.id, 'done']]);
    expect((await store.getNumber(request.e164))?.owner).toBe('U01ALICE');
    expect(Object.keys(deps.sandbox.state().orders)).toHaveLength(1);
    expect(await reconcile(deps)).toEqual([]);
  });

  it('reconcile fails an interrupted purchase the carrier never saw', async () => {
    const request = await requestFor(ALICE, '415');
    await store.decideRequest(request.id, 'U01BOB', true, null, new Date());
    await store.beginExecution(request.id, new Date());
    deps.setNow(new Date(Date.now() + 5 * 60_000));
    const settled = await reconcile(deps);
    expect(settled).toMatchObject([{ id: request.id, status: 'failed', errorCode: 'NOT_ORDERED' }]);
  });
});

describe('pool, release, link', () => {
  beforeEach(async () => {
    await run(sync, ADMIN, {});
  });

  it('sync imports the sandbox account into the pool; only admins may sync', async () => {
    const pool = await run<{ numbers: Array<{ e164: string; owner: string | null }> }>(
      list,
      ALICE,
      { scope: 'pool' },
    );
    expect(pool.numbers.map((n) => n.e164)).toContain('+14155550142');
    expect(pool.numbers.every((n) => n.owner === null)).toBe(true);
    await expect(run(sync, ALICE, {})).rejects.toMatchObject({ code: 'FORBIDDEN' });
    const again = await run<{ results: Array<{ run: { new: number; updated: number } }> }>(
      sync,
      ADMIN,
      {},
    );
    expect(again.results[0]!.run).toMatchObject({ new: 0, updated: 0 });
  });

  it('claims, links, refuses to release while linked, then unlinks and releases', async () => {
    await run(claim, ALICE, { number: '+1 (415) 555-0142' });
    await expect(run(claim, CAROL, { number: '+14155550142' })).rejects.toMatchObject({
      code: 'CONFLICT',
      message: expect.stringContaining('U01ALICE'),
    });
    await expect(
      run(link, CAROL, { number: '+14155550142', agent: 'retell:agent_sandbox_support' }),
    ).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(
      run(link, ALICE, { number: '+14155550142', agent: 'retell:agent_nope' }),
    ).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await run(link, ALICE, { number: '+14155550142', agent: 'retell:agent_sandbox_support' });
    expect(deps.retell.state().links['+14155550142']?.agentId).toBe('agent_sandbox_support');
    await expect(run(release, ALICE, { number: '+14155550142' })).rejects.toMatchObject({
      code: 'CONFLICT',
      message: expect.stringContaining('--unlink'),
    });
    const released = await run<{ number: { status: string }; unlinked: boolean }>(release, ALICE, {
      number: '+14155550142',
      unlink: true,
      reason: 'done',
    });
    expect(released).toMatchObject({ number: { status: 'released' }, unlinked: true });
    expect(deps.retell.state().links['+14155550142']).toBeUndefined();
    expect(deps.sandbox.state().owned['+14155550142']).toBeUndefined();
    const shown = await run<{ number: { status: string }; history: Array<{ command: string }> }>(
      show,
      ALICE,
      { number: '+14155550142' },
    );
    expect(shown.number.status).toBe('released');
    expect(shown.history.map((e) => e.command)).toEqual(
      expect.arrayContaining(['claim', 'link', 'release']),
    );
    // Claiming it afterwards says it was released and when, not that it never existed.
    await expect(run(claim, CAROL, { number: '+14155550142' })).rejects.toMatchObject({
      code: 'NOT_FOUND',
      message: expect.stringMatching(
        /^\+14155550142 was released at \d{4}-\d\d-\d\d \d\d:\d\d UTC and is no longer in the carrier account, so it cannot be claimed\. If the carrier still offers it, ask to buy it again: buy \+14155550142$/,
      ),
    });
    // A number never seen still gets the plain answer.
    await expect(run(claim, CAROL, { number: '+14155550999' })).rejects.toMatchObject({
      code: 'NOT_FOUND',
      message: expect.stringContaining('is neither in the pool nor in the carrier account'),
    });
  });

  it('keeps a number linked when the platform fails to unlink it', async () => {
    await run(claim, ALICE, { number: '+14155550142' });
    await run(link, ALICE, { number: '+14155550142', agent: 'vapi:asst_sandbox_reception' });
    deps.agents.vapi = {
      ...deps.vapi,
      unlink: async () => Promise.reject(new Error('503 from platform')),
    };
    await expect(run(unlink, ALICE, { number: '+14155550142' })).rejects.toMatchObject({
      code: 'UPSTREAM',
      message: expect.stringContaining('stays linked'),
    });
    expect((await store.getNumber('+14155550142'))?.agent?.agentId).toBe('asst_sandbox_reception');
  });

  it('only admins release pool numbers', async () => {
    await expect(run(release, ALICE, { number: '+12125550117' })).rejects.toMatchObject({
      code: 'FORBIDDEN',
      message: expect.stringContaining('claim it first'),
    });
    await expect(run(release, ADMIN, { number: '+12125550117' })).resolves.toMatchObject({
      number: { status: 'released' },
    });
  });
});

describe('audit', () => {
  it('writes one event per command, refusals included, and members see only their own', async () => {
    await run(search, ALICE, { query: '415' });
    await expect(run(approve, CAROL, { id: 'R-NOPE1234' })).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    await expect(run(search, ALICE, { query: '41' })).rejects.toMatchObject({
      code: 'INVALID_INPUT',
    });
    const all = await run<{
      events: Array<{ actor: string; command: string; outcome: string; errorCode: string | null }>;
    }>(audit, BOB, {});
    expect(all.events.slice(0, 3).map((e) => [e.actor, e.command, e.outcome, e.errorCode])).toEqual(
      [
        ['U01ALICE', 'search', 'refused', 'INVALID_INPUT'],
        ['U01CAROL', 'approve', 'refused', 'NOT_FOUND'],
        ['U01ALICE', 'search', 'ok', null],
      ],
    );
    const own = await run<{ events: Array<{ actor: string }> }>(audit, ALICE, {});
    expect(own.events.every((e) => e.actor === 'U01ALICE')).toBe(true);
    // Asking for another member's is refused, not answered silently with one's own.
    await expect(run(audit, ALICE, { actor: CAROL.id })).rejects.toMatchObject({
      code: 'FORBIDDEN',
      message: expect.stringContaining('Leave out --actor U01CAROL'),
    });
    const named = await run<{ events: Array<{ actor: string }> }>(audit, ALICE, {
      actor: ALICE.id,
    });
    // Her own, and now also her two audit commands (the refused one included).
    expect(named.events.every((e) => e.actor === ALICE.id)).toBe(true);
    expect(named.events).toHaveLength(own.events.length + 2);
  });

  it('lists requests: members see theirs, approvers the pending ones', async () => {
    await requestFor(ALICE, '212');
    await requestFor(CAROL, '312');
    const mine = await run<{ requests: Array<{ requester: string }> }>(requests, ALICE, {});
    expect(mine.requests.map((r) => r.requester)).toEqual(['U01ALICE']);
    const pending = await run<{ scope: string; requests: unknown[] }>(requests, BOB, {});
    expect(pending).toMatchObject({ scope: 'pending' });
    expect(pending.requests).toHaveLength(2);
  });
});
