import { z } from 'zod';
import { defineCommand } from '../command.js';
import type { CommandContext } from '../command.js';
import { CoreError } from '../errors.js';
import { assertMayDecide, isOwnRequest, memberOf, seesEveryone } from '../policy.js';
import { executePurchase, releaseHoldOf } from '../purchase.js';
import type { NumberRecord, PurchaseRequest } from '../types.js';
import { minuteUtc } from '../time.js';

const RequestIdArg = z
  .string()
  .regex(/^R-[0-9A-Za-z]{4,20}$/, 'give a request id such as R-7K3Q9X2M (see `requests`)')
  .describe('Request id, e.g. R-7K3Q9X2M');

export interface DecisionResult {
  request: PurchaseRequest;
  /** The number bought, when an approval went through. */
  number: NumberRecord | null;
}

async function loadRequest(ctx: CommandContext, id: string): Promise<PurchaseRequest> {
  const request = await ctx.deps.store.getRequest(id.toUpperCase());
  if (!request) throw new CoreError('NOT_FOUND', `No request ${id}. List them with: requests`);
  return request;
}

function notPending(request: PurchaseRequest): CoreError {
  const who = request.decidedBy ? ` by ${request.decidedBy}` : '';
  const when = request.decidedAt ? ` at ${minuteUtc(request.decidedAt)}` : '';
  if (request.status === 'expired') {
    return new CoreError(
      'CONFLICT',
      `Request ${request.id} expired at ${minuteUtc(request.expiresAt)} before anyone decided. Ask for it again: buy ${request.e164}`,
      { details: { status: request.status } },
    );
  }
  return new CoreError(
    'CONFLICT',
    `Request ${request.id} is already ${request.status}${who}${when}.`,
    { details: { status: request.status } },
  );
}

export const approve = defineCommand({
  name: 'approve',
  summary: 'Approve a pending purchase; the number is bought at the quoted price',
  effect: 'spend',
  usage: 'approve <request id> [--note "…"]',
  examples: ['approve R-7K3Q9X2M'],
  args: [{ name: 'id', required: true, says: 'the request id' }],
  input: z.object({
    id: RequestIdArg,
    note: z.string().max(500).optional().describe('A note for the audit trail'),
  }),
  async run(ctx, input): Promise<DecisionResult> {
    const { deps, actor } = ctx;
    const request = await loadRequest(ctx, input.id);
    ctx.note({
      target: request.e164,
      requestId: request.id,
      monthlyCost: request.monthlyCost,
      upfrontCost: request.upfrontCost,
      currency: request.currency,
    });
    assertMayDecide(deps.policy, actor, request, true);
    const decided = await deps.store.decideRequest(
      request.id,
      actor.id,
      true,
      input.note ?? null,
      deps.clock.now(),
    );
    if (decided.status === 'not-found') throw new CoreError('NOT_FOUND', `No request ${input.id}.`);
    if (decided.status !== 'decided') {
      if (decided.status === 'expired') await releaseHoldOf(deps, decided.request);
      throw notPending(decided.request);
    }
    const outcome = await executePurchase(ctx, request.id);
    ctx.note({
      target: outcome.request.e164,
      detail: { status: outcome.request.status, errorCode: outcome.request.errorCode },
    });
    return outcome;
  },
});

export const deny = defineCommand({
  name: 'deny',
  summary: 'Deny a pending purchase (or withdraw your own)',
  effect: 'write',
  usage: 'deny <request id> [--reason "…"]',
  examples: ['deny R-7K3Q9X2M --reason "Use a pool number instead"'],
  args: [
    { name: 'id', required: true, says: 'the request id' },
    { name: 'reason', rest: true },
  ],
  input: z.object({
    id: RequestIdArg,
    reason: z.string().max(500).optional().describe('Why, for the requester'),
  }),
  async run(ctx, input): Promise<DecisionResult> {
    const { deps, actor } = ctx;
    const request = await loadRequest(ctx, input.id);
    ctx.note({ target: request.e164, requestId: request.id });
    assertMayDecide(deps.policy, actor, request, false);
    const decided = await deps.store.decideRequest(
      request.id,
      actor.id,
      false,
      input.reason ?? null,
      deps.clock.now(),
    );
    if (decided.status === 'not-found') throw new CoreError('NOT_FOUND', `No request ${input.id}.`);
    if (decided.status !== 'decided') throw notPending(decided.request);
    await releaseHoldOf(deps, decided.request);
    return { request: decided.request, number: null };
  },
});

/** Expires overdue requests and lets go of their carrier holds. Cheap; run before reading requests. */
export async function expireOverdue(ctx: Pick<CommandContext, 'deps'>): Promise<PurchaseRequest[]> {
  const expired = await ctx.deps.store.expireRequests(ctx.deps.clock.now());
  await Promise.all(expired.map((request) => releaseHoldOf(ctx.deps, request)));
  return expired;
}

export const requests = defineCommand({
  name: 'requests',
  summary: 'List purchase requests: pending ones, yours, or all',
  effect: 'read',
  usage: 'requests [pending|mine|all] [--limit N]',
  examples: ['requests', 'requests all'],
  args: [{ name: 'scope' }],
  input: z.object({
    scope: z
      .enum(['pending', 'mine', 'all'])
      .optional()
      .describe('pending (default for approvers), mine (default for members) or all'),
    limit: z.number().int().min(1).max(200).default(50).describe('How many to return (default 50)'),
  }),
  async run(ctx, input): Promise<{ scope: string; requests: PurchaseRequest[] }> {
    const { deps, actor } = ctx;
    await expireOverdue(ctx);
    const privileged = seesEveryone(deps.policy, actor);
    const scope = input.scope ?? (privileged ? 'pending' : 'mine');
    const filter = {
      limit: input.limit,
      ...(scope === 'pending' ? { statuses: ['pending' as const] } : {}),
      // Members see their own requests (made by them or on their behalf, through their MCP
      // tokens; a token sees its owner's); approvers and admins see everyone's.
      ...(scope === 'mine' || !privileged ? { member: memberOf(actor) } : {}),
    };
    return { scope, requests: await deps.store.listRequests(filter) };
  },
});

export const getRequest = defineCommand({
  name: 'request',
  summary: 'Show one purchase request and where it stands',
  effect: 'read',
  usage: 'request <request id>',
  examples: ['request R-7K3Q9X2M'],
  args: [{ name: 'id', required: true, says: 'the request id' }],
  input: z.object({ id: RequestIdArg }),
  async run(ctx, input): Promise<{ request: PurchaseRequest }> {
    await expireOverdue(ctx);
    const request = await loadRequest(ctx, input.id);
    ctx.note({ target: request.e164, requestId: request.id });
    if (!seesEveryone(ctx.deps.policy, ctx.actor) && !isOwnRequest(ctx.actor, request)) {
      throw new CoreError(
        'FORBIDDEN',
        `Request ${request.id} is ${request.requester}'s; you can see your own requests.`,
      );
    }
    return { request };
  },
});
