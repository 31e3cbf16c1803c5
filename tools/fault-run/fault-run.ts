/**
 * The fault run (issue 8, item 2): mixed operations from several concurrent actors through the
 * command core (`runCommand`, as every front end calls it) against the sandbox carrier and agent
 * platforms injecting faults, then a check of the books: the carrier's orders and numbers against
 * our records against the audit trail.
 *
 * Used by `npm run fault-run` (tools/fault-run.mjs, 1,000 operations) and by
 * test/proof/fault-run.test.ts (a smaller run that must balance).
 */
import { createSandboxAgents, SANDBOX_AGENTS } from '../../src/agents/sandbox-agents.js';
import { createSandboxCarrier } from '../../src/carriers/sandbox-carrier.js';
import { SANDBOX_AREA_CODES } from '../../src/carriers/sandbox-inventory.js';
import type { AnyCommand } from '../../src/core/command.js';
import { runCommand } from '../../src/core/command.js';
import {
  approve,
  buy,
  claim,
  deny,
  link,
  list,
  release,
  requests,
  search,
  sync,
} from '../../src/core/commands/index.js';
import { isCoreError } from '../../src/core/errors.js';
import type { ErrorCode } from '../../src/core/errors.js';
import { randomIds } from '../../src/core/ids.js';
import type { Deps, Policy, Store } from '../../src/core/ports.js';
import type { Actor, PurchaseRequest, RequestStatus } from '../../src/core/types.js';
import type { FaultKind } from '../../src/sandbox/faults.js';
import { FAULT_KINDS, seededRandom } from '../../src/sandbox/faults.js';

export interface FaultRunOptions {
  store: Store;
  operations: number;
  /** Share of sandbox calls that fail, 0 to 1. */
  faultRate?: number;
  seed?: number;
  /** Client-side retries of a command answered UNAVAILABLE (429, 5xx, timeout). */
  maxRetries?: number;
  /** Retry-After is honoured, scaled by this factor so the run stays fast (1 = real time). */
  retryAfterScale?: number;
  /** Added to every sandbox call, in milliseconds: lets the actors' calls interleave. */
  latencyMs?: number;
}

type Op =
  'search' | 'request' | 'approve' | 'deny' | 'claim' | 'link' | 'release' | 'sync' | 'list';
type Outcome = 'ok' | 'refused' | 'failed' | 'internal' | 'skipped';

export interface FaultRunReport {
  operations: number;
  actors: number;
  durationMs: number;
  byOperation: Record<string, Record<Outcome, number>>;
  faultsInjected: Record<FaultKind, number>;
  calls: { faulted: number };
  retries: { total: number; byCode: Record<string, number>; gaveUp: number };
  books: {
    requests: number;
    byStatus: Partial<Record<RequestStatus, number>>;
    carrierOrders: number;
    numbersBought: number;
    duplicates: number;
    lostRequests: number;
    notDefinite: number;
    needsAttention: number;
    carrierVsRecords: number;
    recordsVsAudit: number;
    internalErrors: number;
  };
  problems: string[];
}

const MEMBERS = ['U01ALICE', 'U01CAROL', 'U01DAVE'];
const APPROVERS = ['U01BOB', 'U01ERIN'];
const ADMIN = 'U01ADMIN';
const REFUSALS: ErrorCode[] = ['INVALID_INPUT', 'FORBIDDEN', 'NOT_FOUND', 'CONFLICT'];
/** States a user reads as an answer. `needs_attention` is one too, counted apart: a person acts. */
const DEFINITE: RequestStatus[] = ['pending', 'done', 'failed', 'denied', 'expired'];

export async function runFaultRun(options: FaultRunOptions): Promise<FaultRunReport> {
  const seed = options.seed ?? 42;
  const faultOptions = {
    faultRate: options.faultRate ?? 0.2,
    seed,
    latencyMs: options.latencyMs ?? 0,
    faults: FAULT_KINDS,
  };
  // The injectors read these objects on every call: the settling phase turns faults off.
  const carrierFaults = { ...faultOptions };
  const retellFaults = { ...faultOptions, seed: seed + 1 };
  const vapiFaults = { ...faultOptions, seed: seed + 2 };
  const carrier = createSandboxCarrier(carrierFaults);
  const retell = createSandboxAgents('retell', retellFaults);
  const vapi = createSandboxAgents('vapi', vapiFaults);

  let offsetMs = 0;
  const policy: Policy = {
    approvers: APPROVERS,
    admins: [ADMIN],
    allowSelfApproval: false,
    autoApproveUnderMonthly: null,
    memberNumberCap: null,
    monthlyBudget: null,
    requestTtlMinutes: 60,
    quoteTtlMinutes: 30,
  };
  const deps: Deps = {
    store: options.store,
    carriers: { sandbox: carrier },
    agents: { retell, vapi },
    policy,
    clock: { now: () => new Date(Date.now() + offsetMs) },
    ids: randomIds,
  };

  const random = seededRandom(seed ^ 0x5eed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const byOperation: FaultRunReport['byOperation'] = {};
  const retries = { total: 0, byCode: {} as Record<string, number>, gaveUp: 0 };
  const requestIds = new Set<string>();
  const problems: string[] = [];
  const maxRetries = options.maxRetries ?? 3;
  const scale = options.retryAfterScale ?? 0.001;

  const count = (op: Op, outcome: Outcome) => {
    byOperation[op] ??= { ok: 0, refused: 0, failed: 0, internal: 0, skipped: 0 };
    byOperation[op][outcome]++;
  };

  async function call<O>(op: Op, actor: Actor, command: AnyCommand, input: unknown) {
    for (let attempt = 0; ; attempt++) {
      try {
        const result = (await runCommand(deps, command, actor, input)) as O;
        count(op, 'ok');
        return result;
      } catch (error) {
        if (!isCoreError(error)) {
          count(op, 'internal');
          problems.push(`${op}: threw a non-CoreError: ${String(error)}`);
          return null;
        }
        if (error.code === 'UNAVAILABLE' && attempt < maxRetries) {
          retries.total++;
          const key = error.vendorCode ?? 'no answer';
          retries.byCode[key] = (retries.byCode[key] ?? 0) + 1;
          const after = Number(error.details?.retryAfterMs ?? 100);
          await new Promise((resolve) => setTimeout(resolve, after * scale));
          continue;
        }
        if (error.code === 'UNAVAILABLE') retries.gaveUp++;
        if (error.code === 'INTERNAL') {
          count(op, 'internal');
          problems.push(`${op}: INTERNAL ${error.message} ${String(error.cause)}`);
        } else count(op, REFUSALS.includes(error.code) ? 'refused' : 'failed');
        return null;
      }
    }
  }

  const actor = (id: string): Actor => ({ id, surface: 'cli' });
  const skipped = (op: Op) => {
    count(op, 'skipped');
    return false;
  };
  const ownNumbers = (member: string) => deps.store.listNumbers({ owner: member, limit: 100 });

  const menus: Record<string, Array<[Op, number]>> = {
    member: [
      ['search', 3],
      ['request', 4],
      ['claim', 2],
      ['link', 3],
      ['release', 2],
      ['list', 1],
    ],
    approver: [
      ['approve', 6],
      ['deny', 1],
      ['list', 1],
    ],
    admin: [
      ['sync', 3],
      ['list', 1],
    ],
  };
  const choose = (menu: Array<[Op, number]>): Op => {
    const total = menu.reduce((sum, [, w]) => sum + w, 0);
    let roll = random() * total;
    for (const [op, weight] of menu) {
      roll -= weight;
      if (roll < 0) return op;
    }
    return menu[0]![0];
  };

  /** Does one operation; false when there was nothing to act on (counted as skipped). */
  async function perform(who: string, role: string, op: Op): Promise<boolean> {
    const me = actor(who);
    switch (op) {
      case 'search':
        await call(op, me, search, { query: pick(SANDBOX_AREA_CODES), limit: 5 });
        return true;
      case 'request': {
        const result = await call<{ request: PurchaseRequest }>(op, me, buy, {
          target: pick(SANDBOX_AREA_CODES),
          reason: 'fault run',
        });
        if (result) requestIds.add(result.request.id);
        return true;
      }
      case 'approve':
      case 'deny': {
        const pending = await deps.store.listRequests({ statuses: ['pending'], limit: 50 });
        if (pending.length === 0) return skipped(op);
        const target = pick(pending);
        await call(op, me, op === 'approve' ? approve : deny, { id: target.id });
        return true;
      }
      case 'claim': {
        const pool = await deps.store.listNumbers({ scope: 'pool', limit: 100 });
        if (pool.length === 0) return skipped(op);
        await call(op, me, claim, { number: pick(pool).e164 });
        return true;
      }
      case 'link': {
        const mine = (await ownNumbers(who)).filter((n) => n.status === 'assigned');
        if (mine.length === 0) return skipped(op);
        const platform = pick(['retell', 'vapi'] as const);
        const agent = pick(SANDBOX_AGENTS[platform]);
        await call(op, me, link, { number: pick(mine).e164, agent: `${platform}:${agent.id}` });
        return true;
      }
      case 'release': {
        const mine = (await ownNumbers(who)).filter((n) => n.status === 'assigned');
        if (mine.length === 0) return skipped(op);
        await call(op, me, release, { number: pick(mine).e164, unlink: true, reason: 'fault run' });
        return true;
      }
      case 'sync':
        await call(op, me, sync, {});
        return true;
      case 'list':
        await call(op, me, role === 'approver' ? requests : list, {});
        return true;
    }
  }

  const started = performance.now();
  const loops: Array<[string, string]> = [
    ...MEMBERS.map((id) => [id, 'member'] as [string, string]),
    ...APPROVERS.map((id) => [id, 'approver'] as [string, string]),
    [ADMIN, 'admin'],
  ];
  // Each actor does its share of the operations, and a turn with nothing to act on (no request
  // pending, an empty pool) does not use one up while others are still at work: the actor waits a
  // moment and picks again. (With one shared count, the approvers' cheap "nothing pending" turns
  // used up most of the run: 1,000 operations were about 660 skipped approvals and two dozen
  // purchase requests.) Each actor's uncounted turns are bounded, so a run always ends.
  const UNCOUNTED_TURNS = 500;
  await Promise.all(
    loops.map(async ([who, role], index) => {
      const share =
        Math.floor(options.operations / loops.length) +
        (index < options.operations % loops.length ? 1 : 0);
      let uncounted = 0;
      for (let done = 0; done < share;) {
        if (await perform(who, role, choose(menus[role]!))) done++;
        else if (uncounted++ < UNCOUNTED_TURNS) await new Promise((r) => setTimeout(r, 2));
        else done++;
      }
    }),
  );

  // Settle: faults off, two minutes later (past reconcile's staleness), an admin runs sync.
  const injected = { ...carrier.faults.injected };
  for (const platform of [retell, vapi])
    for (const kind of FAULT_KINDS) injected[kind] += platform.faults.injected[kind];
  for (const faults of [carrierFaults, retellFaults, vapiFaults]) faults.faultRate = 0;
  offsetMs = 2 * 60_000;
  await runCommand(deps, sync, actor(ADMIN), {});
  const durationMs = Math.round(performance.now() - started);

  // ---------------------------------------------------------------------------------------------
  // The books.
  const allRequests = await deps.store.listRequests({ limit: 100_000 });
  const numbers = await deps.store.listNumbers({
    scope: 'all',
    includeReleased: true,
    limit: 100_000,
  });
  const state = carrier.state();
  const orders = Object.values(state.orders);

  const byStatus: FaultRunReport['books']['byStatus'] = {};
  for (const r of allRequests) byStatus[r.status] = (byStatus[r.status] ?? 0) + 1;

  // Duplicates: two carrier orders for one request, or one number recorded twice (live), or two
  // live numbers from one request.
  let duplicates = 0;
  const ordersPerRequest = new Map<string, number>();
  for (const o of orders)
    ordersPerRequest.set(o.reference, (ordersPerRequest.get(o.reference) ?? 0) + 1);
  for (const [ref, n] of ordersPerRequest)
    if (n > 1) {
      duplicates += n - 1;
      problems.push(`request ${ref} has ${n} carrier orders`);
    }
  const live = numbers.filter((n) => n.status !== 'released');
  const liveByE164 = new Map<string, number>();
  for (const n of live) liveByE164.set(n.e164, (liveByE164.get(n.e164) ?? 0) + 1);
  for (const [e164, n] of liveByE164)
    if (n > 1) {
      duplicates += n - 1;
      problems.push(`${e164} is recorded ${n} times`);
    }
  const numbersPerRequest = new Map<string, number>();
  for (const n of numbers)
    if (n.requestId)
      numbersPerRequest.set(n.requestId, (numbersPerRequest.get(n.requestId) ?? 0) + 1);
  for (const [ref, n] of numbersPerRequest)
    if (n > 1) {
      duplicates += n - 1;
      problems.push(`request ${ref} has ${n} number records`);
    }

  // Lost: a request an actor was told about that is not stored; a carrier order whose request we
  // do not have; a successful order whose request is not done.
  const requestById = new Map(allRequests.map((r) => [r.id, r]));
  let lostRequests = 0;
  for (const id of requestIds)
    if (!requestById.has(id)) {
      lostRequests++;
      problems.push(`request ${id} was answered but is not stored`);
    }
  for (const o of orders) {
    const r = requestById.get(o.reference);
    if (!r) {
      lostRequests++;
      problems.push(`carrier order ${o.orderRef} names unknown request ${o.reference}`);
    } else if (o.status === 'success' && r.status !== 'done') {
      lostRequests++;
      problems.push(
        `carrier order ${o.orderRef} succeeded but ${r.id} is ${r.status} (${r.errorCode})`,
      );
    }
  }

  const notDefinite = allRequests.filter(
    (r) => !DEFINITE.includes(r.status) && r.status !== 'needs_attention',
  );
  for (const r of notDefinite) problems.push(`request ${r.id} is left ${r.status}`);
  const needsAttention = allRequests.filter((r) => r.status === 'needs_attention');
  for (const r of needsAttention)
    problems.push(`request ${r.id} needs attention: ${r.errorCode} ${r.errorMessage}`);

  // Carrier vs records: after the final sync, the carrier's numbers are exactly our live ones.
  let carrierVsRecords = 0;
  const owned = new Set(Object.keys(state.owned));
  for (const e164 of owned)
    if (!liveByE164.has(e164)) {
      carrierVsRecords++;
      problems.push(`${e164} is at the carrier but not in our records`);
    }
  for (const n of live)
    if (!owned.has(n.e164)) {
      carrierVsRecords++;
      problems.push(`${n.e164} is ${n.status} in our records but not at the carrier`);
    }
  for (const r of allRequests.filter((r) => r.status === 'done')) {
    const order = orders.find((o) => o.reference === r.id && o.status === 'success');
    if (!order) {
      carrierVsRecords++;
      problems.push(`request ${r.id} is done but the carrier has no successful order for it`);
    }
  }

  // Records vs audit: each stored request has its `buy` event; each decided one an approve or deny
  // event (or was settled by a sync); each released number its `release` event.
  let recordsVsAudit = 0;
  // Read per request and per number: one large listAudit trips the shared-PGlite bug reported
  // with this run (a big result arrives with broken JSON).
  for (const r of allRequests) {
    const events = (await deps.store.listAudit({ requestId: r.id, limit: 100 })).filter(
      (e) => e.outcome === 'ok',
    );
    const eventsFor = (command: string) => events.some((e) => e.command === command);
    if (!eventsFor('buy')) {
      recordsVsAudit++;
      problems.push(`request ${r.id} has no buy event`);
    }
    if (!['pending', 'expired'].includes(r.status) && !eventsFor('approve') && !eventsFor('deny')) {
      recordsVsAudit++;
      problems.push(`request ${r.id} is ${r.status} with no approve or deny event`);
    }
  }
  for (const n of numbers.filter((n) => n.status === 'released'))
    if (
      !(await deps.store.listAudit({ target: n.e164, limit: 200 })).some(
        (e) => e.command === 'release' && e.outcome === 'ok',
      )
    ) {
      recordsVsAudit++;
      problems.push(`${n.e164} is released with no release event`);
    }

  const internalErrors = Object.values(byOperation).reduce((sum, o) => sum + o.internal, 0);
  const faulted = Object.values(injected).reduce((a, b) => a + b, 0);
  return {
    operations: options.operations,
    actors: loops.length,
    durationMs,
    byOperation,
    faultsInjected: injected,
    calls: { faulted },
    retries,
    books: {
      requests: allRequests.length,
      byStatus,
      carrierOrders: orders.length,
      numbersBought: orders.filter((o) => o.status === 'success').length,
      duplicates,
      lostRequests,
      notDefinite: notDefinite.length,
      needsAttention: needsAttention.length,
      carrierVsRecords,
      recordsVsAudit,
      internalErrors,
    },
    problems,
  };
}
