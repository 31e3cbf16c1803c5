import { z } from 'zod';
import { defineCommand } from '../command.js';
import type { CommandContext } from '../command.js';
import { formatCount } from '../counts.js';
import { CoreError } from '../errors.js';
import { formatMoney, roundMoney } from '../money.js';
import { assertMayManage, isAdmin, memberCapRefusal, memberOf, seesEveryone } from '../policy.js';
import { findOrImport } from '../importing.js';
import { linkToAgent, unlinkAtPlatform } from '../linking.js';
import { toE164 } from '../phone.js';
import type { AuditEvent, NumberRecord, PurchaseRequest } from '../types.js';
import { AgentArg, PhoneNumberArg, ReasonArg } from '../schemas.js';
import { minuteUtc } from '../time.js';

/**
 * Our record of the number. A number the carrier account owns but no sync has recorded yet is
 * verified at the carrier and imported into the pool first.
 */
export async function loadNumber(ctx: CommandContext, text: string): Promise<NumberRecord> {
  const e164 = toE164(text);
  const found = await findOrImport(ctx.deps, e164);
  if (!found) {
    throw new CoreError(
      'NOT_FOUND',
      `${e164} is neither one of our numbers nor in the carrier account. See ours with: list all`,
    );
  }
  if (found.imported) ctx.note({ detail: { imported: true } });
  return found.number;
}

export const claim = defineCommand({
  name: 'claim',
  summary: 'Claim a number from the team pool (no purchase, no approval)',
  effect: 'write',
  usage: 'claim <+E.164>',
  examples: ['claim +14155550142'],
  args: [{ name: 'number', required: true, says: 'the number to claim' }],
  input: z.object({ number: PhoneNumberArg }),
  async run(ctx, input): Promise<{ number: NumberRecord; alreadyYours: boolean }> {
    const { deps, actor } = ctx;
    const e164 = toE164(input.number);
    ctx.note({ target: e164 });
    // Through an MCP token the number is its owner's, within the owner's cap.
    const member = memberOf(actor);
    let outcome = await deps.store.claimNumber(e164, member, deps.policy.memberNumberCap);
    if (outcome.status === 'not-found' && (await findOrImport(deps, e164))?.imported) {
      // Owned at the carrier but never synced: now imported into the pool, so claim it.
      ctx.note({ detail: { imported: true } });
      outcome = await deps.store.claimNumber(e164, member, deps.policy.memberNumberCap);
    }
    switch (outcome.status) {
      case 'claimed':
        ctx.note({ monthlyCost: outcome.number.monthlyCost, currency: outcome.number.currency });
        return { number: outcome.number, alreadyYours: false };
      case 'already-yours':
        return { number: outcome.number, alreadyYours: true };
      case 'held':
        throw new CoreError(
          'CONFLICT',
          `${e164} already belongs to ${outcome.owner}. Pick another from: list pool`,
        );
      case 'missing':
        throw new CoreError(
          'CONFLICT',
          `${e164} is missing from the carrier account since the last sync, so it cannot be claimed. An admin can check it.`,
        );
      case 'member-cap':
        throw memberCapRefusal(outcome.count, outcome.cap);
      case 'not-found': {
        // A number we released is history, not a typo: say when, and how to have it again.
        const known = await deps.store.getNumber(e164);
        if (known?.status === 'released')
          throw new CoreError(
            'NOT_FOUND',
            `${e164} was released${known.releasedAt ? ` at ${minuteUtc(known.releasedAt)}` : ''} and is no longer in the carrier account, so it cannot be claimed. If the carrier still offers it, ask to buy it again: buy ${e164}`,
          );
        throw new CoreError(
          'NOT_FOUND',
          `${e164} is neither in the pool nor in the carrier account. See what is: list pool`,
        );
      }
    }
  },
});

/** What `unclaim` gives back: the number, now in the pool, and whose it was. */
export interface UnclaimResult {
  number: NumberRecord;
  /** The member who held it until now. */
  previousOwner: string;
  /** False when an admin took back another member's number. */
  wasYours: boolean;
}

export const unclaim = defineCommand({
  name: 'unclaim',
  summary:
    'Give a number back to the team pool: it stays in the carrier account and keeps its cost; anyone may claim it',
  effect: 'write',
  usage: 'unclaim <+E.164>',
  examples: ['unclaim +14155550142'],
  args: [{ name: 'number', required: true, says: 'the number to give back to the pool' }],
  input: z.object({ number: PhoneNumberArg }),
  async run(ctx, input): Promise<UnclaimResult> {
    const { deps, actor } = ctx;
    const e164 = toE164(input.number);
    ctx.note({ target: e164 });
    // Our records only: a number the carrier account owns that we never recorded is nobody's.
    const number = await deps.store.getNumber(e164);
    if (!number) {
      throw new CoreError(
        'NOT_FOUND',
        `${e164} is not one of our numbers, so there is nothing to give back. See yours with: list mine`,
      );
    }
    if (number.status === 'released') throw releasedRefusal(number);
    if (number.owner === null) throw inPoolRefusal(e164);
    // Members give back their own (through a token: its owner's); admins anyone's.
    assertMayManage(deps.policy, actor, number, 'unclaim');
    const outcome = await deps.store.unclaimNumber(number.id, number.owner, deps.clock.now());
    switch (outcome.status) {
      case 'unclaimed':
        ctx.note({
          monthlyCost: outcome.number.monthlyCost,
          currency: outcome.number.currency,
          detail: { previousOwner: number.owner },
        });
        return {
          number: outcome.number,
          previousOwner: number.owner,
          wasYours: number.owner === memberOf(actor),
        };
      case 'released':
        throw releasedRefusal(outcome.number);
      case 'in-pool':
        throw inPoolRefusal(e164);
      case 'held':
        throw new CoreError(
          'CONFLICT',
          `${e164} changed hands meanwhile: it is now ${outcome.owner}'s, so it was not given back. Check it with: show ${e164}`,
        );
      case 'missing':
        throw new CoreError(
          'CONFLICT',
          `${e164} is missing from the carrier account since the last sync, so it cannot go back to the pool. An admin can check it; if it is gone for good, release it: release ${e164}`,
        );
      case 'linked': {
        const agent = outcome.number.agent;
        throw new CoreError(
          'CONFLICT',
          `${e164} is linked to ${agent ? `${agent.platform}:${agent.agentId}` : 'a voice agent'}, so its calls would still reach that agent. Unlink it first (unlink ${e164}), then unclaim it.`,
        );
      }
      case 'not-found':
        throw new CoreError('NOT_FOUND', `${e164} disappeared while giving it back.`);
    }
  },
});

function releasedRefusal(number: NumberRecord): CoreError {
  return new CoreError(
    'NOT_FOUND',
    `${number.e164} was released${number.releasedAt ? ` at ${minuteUtc(number.releasedAt)}` : ''} and is no longer in the carrier account, so it cannot go back to the pool. If the carrier still offers it, ask to buy it again: buy ${number.e164}`,
  );
}

function inPoolRefusal(e164: string): CoreError {
  return new CoreError(
    'CONFLICT',
    `${e164} is already in the team pool: nobody holds it, so there is nothing to give back. To take it: claim ${e164}`,
  );
}

/**
 * What `unclaim` answers: the number is in the pool, who may take it, and that it still costs
 * money until an admin releases it. `command` writes a command the way the front shows one
 * ("claim +1…" in the CLI, "`/number claim +1…`" in Slack), `member` a member id.
 */
export function backInPool(
  result: UnclaimResult,
  command: (words: string) => string,
  member: (id: string) => string = (id) => id,
): string {
  const n = result.number;
  const from = result.wasYours ? '' : ` (taken back from ${member(result.previousOwner)})`;
  const cost =
    n.monthlyCost === null
      ? 'It stays in the carrier account, so it still costs what the carrier charges for it'
      : `It still costs ${formatMoney(n.monthlyCost, n.currency)}/mo`;
  return `${n.e164} is back in the team pool${from}: anyone can claim it (${command(`claim ${n.e164}`)}). ${cost}; an admin can release it to stop that (${command(`release ${n.e164}`)}).`;
}

export const release = defineCommand({
  name: 'release',
  summary: 'Release a number back to the carrier (it stops costing money and is gone for good)',
  effect: 'write',
  usage: 'release <+E.164> [--reason "…"] [--unlink]',
  examples: ['release +14155550142 --reason "Campaign over"', 'release +14155550142 --unlink'],
  args: [{ name: 'number', required: true, says: 'the number to release' }],
  input: z.object({
    number: PhoneNumberArg,
    reason: ReasonArg.optional(),
    unlink: z
      .boolean()
      .default(false)
      .describe('Unlink the number from its voice agent first, if it is linked'),
  }),
  async run(
    ctx,
    input,
  ): Promise<{ number: NumberRecord; unlinked: boolean; goneAlready: boolean }> {
    const { deps, actor } = ctx;
    const number = await loadNumber(ctx, input.number);
    ctx.note({
      target: number.e164,
      monthlyCost: number.monthlyCost,
      currency: number.currency,
      detail: input.reason ? { reason: input.reason } : {},
    });
    if (number.status === 'released')
      throw new CoreError('NOT_FOUND', `${number.e164} was already released.`);
    assertMayManage(deps.policy, actor, number, 'release');
    let unlinked = false;
    if (number.agent) {
      if (!input.unlink) {
        throw new CoreError(
          'CONFLICT',
          `${number.e164} is linked to ${number.agent.platform}:${number.agent.agentId}. Unlink it first, or release with --unlink to do both.`,
        );
      }
      await unlinkAtPlatform(deps, number);
      unlinked = true;
    }
    const carrier = deps.carriers[number.carrier];
    if (!carrier) {
      throw new CoreError(
        'UNAVAILABLE',
        `${number.e164} is a ${number.carrier} number and ${number.carrier} is not configured here. Configure it, then release again.`,
      );
    }
    let goneAlready = false;
    try {
      await carrier.release(number);
    } catch (error) {
      // Not in the carrier account any more (released in its portal, or by a release whose
      // answer or record was lost): nothing left to release there, so record it as released.
      if (!(error instanceof CoreError && error.code === 'NOT_FOUND')) throw error;
      goneAlready = true;
      ctx.note({
        detail: { ...(input.reason ? { reason: input.reason } : {}), goneAtCarrier: true },
      });
    }
    const outcome = await deps.store.releaseNumber(number.id, deps.clock.now());
    if (outcome.status === 'not-found')
      throw new CoreError('NOT_FOUND', `${number.e164} disappeared while releasing it.`);
    if (outcome.status === 'linked')
      throw new CoreError(
        'CONFLICT',
        `${number.e164} was linked again while releasing it; it was released at the carrier. Run unlink, then release again to record it.`,
      );
    return { number: outcome.number, unlinked, goneAlready };
  },
});

export const link = defineCommand({
  name: 'link',
  summary: 'Link a number to a voice agent (Retell agent or VAPI assistant), so calls reach it',
  effect: 'write',
  usage: 'link <+E.164> <retell|vapi>:<agent id>',
  examples: ['link +14155550142 retell:agent_sandbox_support'],
  args: [
    { name: 'number', required: true, says: 'the number to link' },
    { name: 'agent', required: true, says: 'the agent to link it to' },
  ],
  input: z.object({ number: PhoneNumberArg, agent: AgentArg }),
  async run(
    ctx,
    input,
  ): Promise<{ number: NumberRecord; changed: boolean; movedFrom: string | null }> {
    const { deps, actor } = ctx;
    const number = await loadNumber(ctx, input.number);
    ctx.note({ target: number.e164, detail: { agent: input.agent } });
    assertMayManage(deps.policy, actor, number, 'link');
    return linkToAgent(deps, number, input.agent);
  },
});

export const unlink = defineCommand({
  name: 'unlink',
  summary: 'Unlink a number from its voice agent',
  effect: 'write',
  usage: 'unlink <+E.164>',
  examples: ['unlink +14155550142'],
  args: [{ name: 'number', required: true, says: 'the number to unlink' }],
  input: z.object({ number: PhoneNumberArg }),
  async run(ctx, input): Promise<{ number: NumberRecord; changed: boolean }> {
    const number = await loadNumber(ctx, input.number);
    ctx.note({ target: number.e164 });
    assertMayManage(ctx.deps.policy, ctx.actor, number, 'unlink');
    if (!number.agent) return { number, changed: false };
    return { number: await unlinkAtPlatform(ctx.deps, number), changed: true };
  },
});

/** Numbers `list` shows by default; a team's totals still count every number. */
export const LIST_PAGE = 100;

export interface ListResult {
  scope: 'mine' | 'pool' | 'all';
  /** One page: the first `limit` numbers in scope (after `after`, when given). */
  numbers: NumberRecord[];
  /** The number to pass as `after` for the next page; null on the last page. */
  next: string | null;
  /** The area code the list is narrowed to (`list pool 415`), or null for the whole scope. */
  area: string | null;
  /** The number this page starts after (`--after`), or null for the first page. */
  after: string | null;
  /**
   * When the caller has no numbers in the area code asked for (`list mine 415`, first page): how
   * many the pool has there, free to claim; null otherwise.
   */
  poolInArea: number | null;
  /** Monthly cost per owner ('pool' for nobody's), and for the team, over every number in scope. */
  totals: {
    byOwner: Array<{ owner: string; count: number; monthly: number }>;
    team: { count: number; monthly: number };
    currency: string;
  };
}

const LIST_SCOPES = ['mine', 'pool', 'all'] as const;
const isListScope = (word: string) => (LIST_SCOPES as readonly string[]).includes(word);
const AREA_CODE = /^\d{3}$/;
const LIST_USAGE = 'list [mine|pool|all] [area code] [--limit N] [--after <+E.164>]';

/** A word the user typed, quoted as they would recognise it in an error (long ones clipped). */
const typed = (word: string) => JSON.stringify(word.length > 40 ? `${word.slice(0, 40)}…` : word);

export const list = defineCommand({
  name: 'list',
  summary: 'List numbers with their monthly cost: yours, the pool, or all',
  effect: 'read',
  usage: LIST_USAGE,
  examples: [
    'list',
    'list 415',
    'list pool',
    'list pool 415',
    'list all --limit 500',
    'list all --after +14155550142',
  ],
  args: [{ name: 'scope' }, { name: 'area' }],
  /**
   * `list 415` is `list <default scope> 415`: a first word that is an area code rather than a scope
   * fills `area` and leaves `scope` to its default (mine; all for an admin). The scope still comes
   * first when both are given (`list pool 415`); anything else after an area code is refused, as is
   * a first word that is neither, each with what to type. Words only: `--scope 415` is not an area.
   */
  placeWords(words) {
    const [first, second] = words;
    if (first === undefined || isListScope(first)) return words;
    if (!AREA_CODE.test(first)) {
      throw new CoreError(
        'INVALID_INPUT',
        `${typed(first)} is neither a scope (mine, pool or all) nor a three-digit area code. Type list 415, or list pool 415. Usage: ${LIST_USAGE}`,
      );
    }
    if (second === undefined) return [undefined, first];
    if (isListScope(second)) {
      throw new CoreError(
        'INVALID_INPUT',
        `The scope comes before the area code: list ${second} ${first}. Usage: ${LIST_USAGE}`,
      );
    }
    throw new CoreError(
      'INVALID_INPUT',
      `list takes one area code, after the scope if you give one, not ${typed(words.join(' '))}. Type list ${first}, or list pool ${first}. Usage: ${LIST_USAGE}`,
    );
  },
  input: z.object({
    scope: z
      .enum(LIST_SCOPES)
      .optional()
      .describe("mine (the default; all for admins), pool (nobody's, free to claim) or all"),
    area: z
      .string()
      .regex(/^\d{3}$/, 'give a three-digit North American area code, e.g. 415')
      .optional()
      .describe(
        'Only numbers in this North American area code (or toll-free prefix), e.g. 415; the totals then cover those numbers',
      ),
    limit: z
      .number()
      .int()
      .min(1)
      .max(10_000)
      .default(LIST_PAGE)
      .describe(
        `How many numbers to show at most (default ${LIST_PAGE}); the totals always cover every number in scope`,
      ),
    after: PhoneNumberArg.optional().describe(
      'The next page: the numbers listed after this one (the last number of the page before)',
    ),
  }),
  async run(ctx, input): Promise<ListResult> {
    const { deps, actor } = ctx;
    const scope = input.scope ?? (isAdmin(deps.policy, actor) ? 'all' : 'mine');
    const filter =
      scope === 'mine'
        ? { owner: memberOf(actor) }
        : scope === 'pool'
          ? { scope: 'pool' as const }
          : { scope: 'all' as const };
    const after = input.after ? await pageCursor(ctx, scope, input.after) : undefined;
    // An area code narrows by E.164 prefix: +1 and the code.
    const narrowed = input.area ? { ...filter, prefix: `+1${input.area}` } : filter;
    // One more than shown tells whether there is a next page.
    const [page, totals] = await Promise.all([
      deps.store.listNumbers({ ...narrowed, limit: input.limit + 1, ...(after ? { after } : {}) }),
      deps.store.numberTotals(narrowed),
    ]);
    const numbers = page.slice(0, input.limit);
    const next = page.length > input.limit ? numbers[numbers.length - 1]!.e164 : null;
    const byOwner = totals
      .map((t) => ({ owner: t.owner ?? 'pool', count: t.count, monthly: roundMoney(t.monthly) }))
      .sort((a, b) => b.monthly - a.monthly || a.owner.localeCompare(b.owner));
    const team = byOwner.reduce(
      (sum, e) => ({ count: sum.count + e.count, monthly: roundMoney(sum.monthly + e.monthly) }),
      { count: 0, monthly: 0 },
    );
    // None of the caller's own there: a pool number in that area code is free to claim, so the
    // answer points there before it points at buying one.
    const poolInArea =
      scope === 'mine' && input.area && !input.after && numbers.length === 0
        ? (await deps.store.numberTotals({ scope: 'pool', prefix: `+1${input.area}` })).reduce(
            (sum, t) => sum + t.count,
            0,
          )
        : null;
    return {
      scope,
      numbers,
      next,
      area: input.area ?? null,
      after: input.after ?? null,
      poolInArea,
      totals: { byOwner, team, currency: totals[0]?.currency ?? numbers[0]?.currency ?? 'USD' },
    };
  },
});

/**
 * An empty page that began after a number: the list ended there (numbers may have gone since the
 * page before), which is not the same as an empty pool. Null for a first page.
 */
export function nothingAfter(
  result: ListResult,
  command: (words: string) => string,
): string | null {
  if (!result.after) return null;
  return `No more numbers after ${result.after}: that was the end of the list. Start again with: ${command(`list ${result.scope}${result.area ? ` ${result.area}` : ''}`)}`;
}

/**
 * An empty list narrowed to an area code, and what to do next; `command` writes a command the way
 * the front shows one ("search 604" in the CLI, "`/number search 604`" in Slack).
 */
export function noNumbersInArea(result: ListResult, command: (words: string) => string): string {
  const whose =
    result.scope === 'mine'
      ? 'You have no numbers'
      : result.scope === 'pool'
        ? 'The pool has no numbers'
        : 'There are no numbers';
  if (result.poolInArea) {
    return `${whose} in area code ${result.area}. The pool has ${formatCount(result.poolInArea)} there, free to claim: ${command(`list pool ${result.area}`)}`;
  }
  return `${whose} in area code ${result.area}. ${
    result.scope === 'all'
      ? `See them all with: ${command('list all')}`
      : `Search for one to buy: ${command(`search ${result.area}`)}`
  }`;
}

/**
 * What the totals cannot know: a number with no price on record (a sync imports what the
 * carrier's list says, and Telnyx's list of owned numbers carries no prices) adds nothing to them.
 */
export function unpricedNote(result: ListResult): string | null {
  const unpriced = result.numbers.filter((n) => n.monthlyCost === null).length;
  if (unpriced === 0) return null;
  const which =
    unpriced === result.numbers.length
      ? 'The numbers above have'
      : `${unpriced} of the numbers above ${unpriced === 1 ? 'has' : 'have'}`;
  return `${which} no price on record; the totals count such numbers as ${formatMoney(0, result.totals.currency)}`;
}

/**
 * Where a page given `after` begins: just past that number in the list's order (owner, pool
 * first, then E.164). In `mine` and `pool` the owner is the scope's own, so the page goes on even
 * if that number has since been claimed or released; in `all` it is the number's owner as recorded
 * (a released number keeps its last owner, so the page goes on where it was listed).
 */
async function pageCursor(
  ctx: CommandContext,
  scope: ListResult['scope'],
  after: string,
): Promise<{ owner: string | null; e164: string }> {
  if (scope === 'mine') return { owner: memberOf(ctx.actor), e164: after };
  if (scope === 'pool') return { owner: null, e164: after };
  const number = await ctx.deps.store.getNumber(after);
  if (!number) {
    throw new CoreError(
      'NOT_FOUND',
      `${after} is not one of our numbers, so no page starts after it. Give the last number the page before showed, or start again with: list all`,
    );
  }
  return { owner: number.owner, e164: after };
}

export const show = defineCommand({
  name: 'show',
  summary: 'Show one number: owner, cost, link, and its recent history',
  effect: 'read',
  usage: 'show <+E.164>',
  examples: ['show +14155550142'],
  args: [{ name: 'number', required: true, says: 'the number to show' }],
  input: z.object({ number: PhoneNumberArg }),
  async run(
    ctx,
    input,
  ): Promise<{ number: NumberRecord; history: AuditEvent[]; request: PurchaseRequest | null }> {
    const number = await loadNumber(ctx, input.number);
    ctx.note({ target: number.e164 });
    const [history, request] = await Promise.all([
      seesEveryone(ctx.deps.policy, ctx.actor) || number.owner === memberOf(ctx.actor)
        ? ctx.deps.store.listAudit({ target: number.e164, limit: 20 })
        : Promise.resolve([]),
      number.requestId ? ctx.deps.store.getRequest(number.requestId) : Promise.resolve(null),
    ]);
    return { number, history, request };
  },
});
