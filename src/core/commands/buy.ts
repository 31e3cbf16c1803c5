import { z } from 'zod';
import { defineCommand } from '../command.js';
import type { CommandContext } from '../command.js';
import { CoreError } from '../errors.js';
import { formatMoney } from '../money.js';
import { autoApproves, memberCapRefusal } from '../policy.js';
import { executePurchase } from '../purchase.js';
import type { CreateRequestOutcome, Deps, NewPurchaseRequest } from '../ports.js';
import type { NumberRecord, PurchaseRequest, Quote } from '../types.js';
import { parseE164 } from '../phone.js';
import { CarrierArg, CountryArg, FeaturesArg, NumberTypeArg, ReasonArg } from '../schemas.js';
import { makeQuotes, pickCarriers, poolForQuote, searchCarriers, toCriteria } from './search.js';
import type { PoolMatch } from './search.js';

export const buyInput = z.object({
  target: z
    .string()
    .min(1)
    .describe(
      'What to buy: an area code (the server picks the best quote), a number in E.164 form from a search, or a quote id (Q-…)',
    ),
  reason: ReasonArg.optional(),
  type: NumberTypeArg,
  features: FeaturesArg,
  country: CountryArg.optional(),
  carrier: CarrierArg.optional(),
  account: z
    .string()
    .regex(
      /^AC[0-9a-fA-F]{32}$/,
      'give a Twilio subaccount SID: AC followed by 32 hex digits (an admin can list them)',
    )
    .optional()
    .describe(
      'Twilio subaccount SID (AC followed by 32 hex digits) to buy the number into; the main account by default',
    ),
});

export interface BuyResult {
  request: PurchaseRequest;
  quote: Quote;
  /** Who was asked to approve; empty when policy approved it. */
  approvers: string[];
  autoApproved: boolean;
  /** Set when policy approved the request and it was executed at once. */
  number: NumberRecord | null;
  /**
   * For a request left pending: the pool's numbers of the same type in the same area code, which
   * the requester could claim for nothing and withdraw the request (deny) instead.
   */
  pool: PoolMatch | null;
}

function refusal(
  outcome: Exclude<CreateRequestOutcome, { status: 'created' }>,
  quote: Quote,
): CoreError {
  switch (outcome.status) {
    case 'quote-not-found':
      return new CoreError('NOT_FOUND', `Quote ${quote.id} does not exist. Search again.`);
    case 'quote-expired':
      return new CoreError(
        'CONFLICT',
        `Quote ${quote.id} has expired. Search again for a fresh price.`,
      );
    case 'already-owned':
      return new CoreError(
        'CONFLICT',
        `${quote.e164} is already in our account. Claim it instead: claim ${quote.e164}`,
      );
    case 'duplicate':
      return new CoreError(
        'CONFLICT',
        `${quote.e164} already has a ${outcome.request.status} request, ${outcome.request.id}, by ${outcome.request.requester}.`,
        { details: { requestId: outcome.request.id } },
      );
    case 'member-cap':
      return memberCapRefusal(outcome.count, outcome.cap);
    case 'over-budget': {
      const over = outcome.committed + outcome.cost - outcome.budget;
      return new CoreError(
        'FORBIDDEN',
        `This number costs ${formatMoney(outcome.cost, quote.currency)} a month, which would take the team to ${formatMoney(outcome.committed + outcome.cost, quote.currency)}, ${formatMoney(over, quote.currency)} over the monthly budget of ${formatMoney(outcome.budget, quote.currency)}. Release a number or ask an admin to raise SWITCHBOARD_MONTHLY_BUDGET.`,
        { details: { ...outcome, over } },
      );
    }
  }
}

async function quotesFor(
  ctx: CommandContext,
  input: z.output<typeof buyInput>,
): Promise<{ quotes: Quote[]; areaCode: string | null }> {
  const target = input.target.trim();
  const { store, clock } = ctx.deps;
  if (/^Q-/i.test(target)) {
    const quote = await store.getQuote(target.toUpperCase());
    if (!quote)
      throw new CoreError(
        'NOT_FOUND',
        `No quote ${target}. Search again and buy by number or quote id.`,
      );
    return { quotes: [quote], areaCode: null };
  }
  if (/^\d{1,3}$/.test(target)) {
    const { criteria } = toCriteria({
      query: target,
      type: input.type,
      features: input.features,
      limit: 10,
      ...(input.country ? { country: input.country } : {}),
    });
    const { offers } = await searchCarriers(ctx, pickCarriers(ctx, input.carrier), criteria);
    if (offers.length === 0) {
      throw new CoreError(
        'NOT_FOUND',
        `No ${criteria.numberType} numbers are available in ${target} right now. Try a nearby area code.`,
      );
    }
    return { quotes: await makeQuotes(ctx, offers), areaCode: target };
  }
  const e164 = parseE164(target);
  if (!e164) {
    throw new CoreError(
      'INVALID_INPUT',
      `"${target}" is neither an area code, a phone number nor a quote id. Usage: buy <area code | +E.164> [--reason "…"], e.g. buy 415`,
    );
  }
  const saved = await store.findQuote(e164, clock.now());
  if (saved && (!input.carrier || saved.carrier === input.carrier))
    return { quotes: [saved], areaCode: null };
  // No recent quote: ask the carriers for the number's current price.
  for (const carrier of pickCarriers(ctx, input.carrier)) {
    const offer = await carrier.check(e164);
    if (offer) return { quotes: await makeQuotes(ctx, [offer]), areaCode: null };
  }
  throw new CoreError(
    'NOT_FOUND',
    `${e164} is not available from ${input.carrier ?? 'any configured carrier'}. Search for another: search ${e164.slice(2, 5)}`,
  );
}

export const buy = defineCommand({
  name: 'buy',
  summary:
    'Request a purchase: an approver must approve before any money is spent, unless policy auto-approves it',
  effect: 'spend',
  usage:
    'buy <area code | +E.164 | quote id> [--reason "…"] [--type local|toll-free|mobile] [--carrier telnyx|twilio] [--account AC…]',
  examples: ['buy 415 --reason "Support line for the Acme agent"', 'buy +14155550123'],
  args: [{ name: 'target', required: true, says: 'an area code, a number or a quote id' }],
  input: buyInput,
  async run(ctx, input): Promise<BuyResult> {
    ctx.note({ target: input.target });
    const chosen = await quotesFor(ctx, input);
    const { areaCode } = chosen;
    let { quotes } = chosen;
    if (input.account) {
      if (quotes.some((q) => q.carrier !== 'twilio')) {
        throw new CoreError(
          'INVALID_INPUT',
          '--account names a Twilio subaccount: add --carrier twilio.',
        );
      }
      // The subaccount is part of what is approved, so it lives in the quote the request binds to.
      quotes = await makeQuotes(
        ctx,
        quotes.map((q) => ({ ...q, carrierAccount: input.account ?? null })),
      );
    }
    return requestPurchase(ctx, quotes, {
      areaCodeOf: () => areaCode,
      tryOthers: areaCode !== null,
      reason: input.reason ?? null,
    });
  },
});

export interface RequestOptions {
  /** The area code a request may retarget within when its number is taken (see purchase.ts). */
  areaCodeOf: (quote: Quote) => string | null;
  /** Try the next quote when one cannot be requested (already owned, already requested). */
  tryOthers: boolean;
  reason: string | null;
  /** Set by `provision`. */
  provision?: NewPurchaseRequest['provision'];
}

/**
 * Makes a purchase request from the first of `quotes` that can be requested, holds the number
 * where the carrier can, and executes it at once only when policy auto-approves its price.
 */
export async function requestPurchase(
  ctx: CommandContext,
  quotes: Quote[],
  options: RequestOptions,
): Promise<BuyResult> {
  const { deps, actor } = ctx;
  const now = deps.clock.now();
  let created: { request: PurchaseRequest; quote: Quote } | null = null;
  let lastRefusal: CoreError | null = null;
  for (const quote of quotes) {
    const outcome = await deps.store.createPurchaseRequest({
      id: deps.ids.request(),
      requester: actor.id,
      ...(actor.onBehalfOf ? { onBehalfOf: actor.onBehalfOf } : {}),
      surface: actor.surface,
      quoteId: quote.id,
      areaCode: options.areaCodeOf(quote),
      reason: options.reason,
      ...(options.provision ? { provision: options.provision } : {}),
      expiresAt: new Date(now.getTime() + deps.policy.requestTtlMinutes * 60_000),
      memberCap: deps.policy.memberNumberCap,
      monthlyBudget: deps.policy.monthlyBudget,
      now,
    });
    if (outcome.status === 'created') {
      created = { request: outcome.request, quote };
      break;
    }
    lastRefusal = refusal(outcome, quote);
    // For an area code another quote may do; caps and budget refuse whatever the quote.
    if (!options.tryOthers || outcome.status === 'member-cap' || outcome.status === 'over-budget')
      break;
  }
  if (!created) throw lastRefusal ?? new CoreError('NOT_FOUND', 'Nothing to buy.');
  let { request } = created;
  const { quote } = created;
  ctx.note({
    target: quote.e164,
    requestId: request.id,
    monthlyCost: quote.monthlyCost,
    upfrontCost: quote.upfrontCost,
    currency: quote.currency,
  });

  const carrier = deps.carriers[quote.carrier];
  if (carrier?.hold) {
    // Hold the number while approval is pending (Telnyx reservations). A failed hold is not fatal:
    // availability is re-checked before ordering anyway.
    const holdRef = await carrier.hold(quote.e164, request.id).catch(() => null);
    if (holdRef) await deps.store.setRequestHold(request.id, holdRef);
  }

  if (autoApproves(deps.policy, quote.monthlyCost)) {
    const decided = await deps.store.decideRequest(
      request.id,
      'policy:auto-approve',
      true,
      `under ${formatMoney(deps.policy.autoApproveUnderMonthly ?? 0)}/month`,
      deps.clock.now(),
    );
    if (decided.status === 'decided') {
      const outcome = await executePurchase(ctx, request.id);
      return {
        request: outcome.request,
        quote,
        approvers: [],
        autoApproved: true,
        number: outcome.number,
        pool: null,
      };
    }
    request = 'request' in decided ? decided.request : request;
  }
  const pool = request.status === 'pending' ? await poolForQuote(deps.store, quote) : null;
  return {
    request,
    quote,
    approvers: approversOf(deps.policy, request),
    autoApproved: false,
    number: null,
    pool,
  };
}

/**
 * Who can approve a request: the approvers, less whoever it is for unless policy lets them approve
 * their own (so the only approver's own request names nobody, rather than themself).
 */
export function approversOf(
  policy: Pick<Deps['policy'], 'approvers' | 'allowSelfApproval'>,
  request: Pick<PurchaseRequest, 'requester' | 'onBehalfOf'>,
): string[] {
  if (policy.allowSelfApproval) return [...policy.approvers];
  return policy.approvers.filter((id) => id !== request.requester && id !== request.onBehalfOf);
}
