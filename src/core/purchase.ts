/**
 * Executing an approved purchase, exactly once. The order of steps is the safety argument:
 *
 *   1. approved -> executing (a compare-and-set: only one caller gets past it), which also writes
 *      the intent: our request id is the order's reference at the carrier;
 *   2. re-check the price and availability; a higher price fails the request (a new approval
 *      is needed), nothing is ordered;
 *   3. order; a definite yes is recorded at once, a definite no fails the request;
 *   4. an unknown outcome (timeout, crash) is never retried blind: the request waits in
 *      `needs_attention` and `reconcile` asks the carrier what became of the order.
 */
import type { CommandContext } from './command.js';
import { CoreError, isCoreError } from './errors.js';
import { formatMoney } from './money.js';
import type { Carrier, Deps, OrderLookup } from './ports.js';
import { joinSentences } from './sentences.js';
import type { NumberRecord, PurchaseRequest } from './types.js';
import { makeQuotes, searchCarriers } from './commands/search.js';
import { nanpAreaCode } from './phone.js';
import { finishPendingLinks, finishProvisionLink } from './provisioning.js';

export interface PurchaseOutcome {
  request: PurchaseRequest;
  number: NumberRecord | null;
}

const MAX_ALTERNATIVES = 5;

export async function executePurchase(
  ctx: Pick<CommandContext, 'deps'>,
  requestId: string,
): Promise<PurchaseOutcome> {
  const { deps } = ctx;
  const begun = await deps.store.beginExecution(requestId, deps.clock.now());
  if (begun.status === 'not-found') throw new CoreError('NOT_FOUND', `No request ${requestId}.`);
  if (begun.status === 'not-approved') return { request: begun.request, number: null };
  let request = begun.request;

  const carrier = deps.carriers[request.carrier];
  if (!carrier) {
    return fail(
      deps,
      request,
      'failed',
      'UNAVAILABLE',
      `The ${request.carrier} carrier is not configured here, so nothing was ordered. Configure it and request again.`,
    );
  }
  await releaseHold(carrier, request);

  for (let attempt = 0; attempt <= MAX_ALTERNATIVES; attempt++) {
    let offer;
    try {
      offer = await carrier.check(request.e164);
    } catch (error) {
      return fail(
        deps,
        request,
        'failed',
        'UPSTREAM',
        `Could not re-check ${request.e164} before ordering (${messageOf(error)}); nothing was ordered. Request it again.`,
      );
    }
    if (
      offer &&
      (offer.monthlyCost > request.monthlyCost || offer.upfrontCost > request.upfrontCost)
    ) {
      return fail(
        deps,
        request,
        'failed',
        'PRICE_CHANGED',
        `The price of ${request.e164} rose from ${formatMoney(request.monthlyCost, request.currency)} to ${formatMoney(offer.monthlyCost, offer.currency)} a month since it was approved; nothing was ordered. Request it again to approve the new price.`,
      );
    }
    if (offer) {
      let outcome;
      try {
        outcome = await carrier.order(request.e164, {
          reference: request.id,
          account: request.carrierAccount,
        });
      } catch (error) {
        if (isCoreError(error) && error.code === 'UPSTREAM') {
          // The carrier answered with a definite refusal: nothing was bought.
          return fail(
            deps,
            request,
            'failed',
            error.vendorCode ? `UPSTREAM:${error.vendorCode}` : 'UPSTREAM',
            `${carrier.name} refused the order: ${error.message}`,
          );
        }
        // No definite answer: the order may or may not exist. Ask the carrier before anything else.
        return resolveUnknown(deps, carrier, request, messageOf(error));
      }
      if (outcome.status === 'bought') return complete(deps, request, outcome);
      if (outcome.status === 'pending') {
        await deps.store.setOrderRef(request.id, outcome.orderRef, deps.clock.now());
        return fail(
          deps,
          request,
          'needs_attention',
          'ORDER_PENDING',
          `${carrier.name} accepted order ${outcome.orderRef} but has not finished it. Switchboard checks it again on the next sync; nothing more will be ordered.`,
        );
      }
    }
    // Taken between search and order.
    const next = request.areaCode ? await nextQuote(ctx, carrier, request) : null;
    if (!next) {
      return fail(
        deps,
        request,
        'failed',
        'TAKEN',
        `${request.e164} was taken by someone else before we could buy it; nothing was bought.${request.areaCode ? ` No other number in ${request.areaCode} at or under the approved price was free.` : ' Search again and pick another.'}`,
      );
    }
    request = next;
  }
  return fail(
    deps,
    request,
    'failed',
    'TAKEN',
    `${MAX_ALTERNATIVES + 1} numbers in a row were taken before we could buy them; nothing was bought. Try again later.`,
  );
}

async function nextQuote(
  ctx: Pick<CommandContext, 'deps'>,
  carrier: Carrier,
  request: PurchaseRequest,
): Promise<PurchaseRequest | null> {
  const areaCode = request.areaCode ?? nanpAreaCode(request.e164);
  const quote = await ctx.deps.store.getQuote(request.quoteId);
  if (!areaCode || !quote) return null;
  const fullCtx = ctx as CommandContext;
  let offers;
  try {
    ({ offers } = await searchCarriers(fullCtx, [carrier], {
      country: quote.country === 'CA' ? 'CA' : 'US',
      numberType: quote.numberType,
      areaCode,
      features: quote.features,
      limit: 20,
    }));
  } catch {
    return null;
  }
  const candidates = offers.filter(
    (offer) =>
      offer.e164 !== request.e164 &&
      offer.monthlyCost <= request.monthlyCost &&
      offer.upfrontCost <= request.upfrontCost,
  );
  for (const quote of await makeQuotes(fullCtx, candidates)) {
    const moved = await ctx.deps.store.retargetRequest(request.id, quote.id, ctx.deps.clock.now());
    if (moved.status === 'ok') return moved.request;
  }
  return null;
}

async function complete(
  deps: Deps,
  request: PurchaseRequest,
  outcome: Extract<OrderLookup, { status: 'bought' }>,
): Promise<PurchaseOutcome> {
  const done = await deps.store.completePurchase(
    request.id,
    outcome.number,
    outcome.orderRef,
    deps.clock.now(),
  );
  switch (done.status) {
    case 'done':
      // `provision` asked for a link once bought: the purchase stands whatever the link does.
      // Only the caller that recorded the purchase links it; a link left pending by a crash is
      // finished by reconcile.
      if (done.request.provision?.linkStatus === 'pending')
        return finishProvisionLink(deps, done.request, done.number);
      return { request: done.request, number: done.number };
    case 'already-done':
      return { request: done.request, number: done.number };
    case 'conflict':
    case 'not-executing':
      return { request: done.request, number: null };
    case 'not-found':
      throw new CoreError('NOT_FOUND', `No request ${request.id}.`);
  }
}

async function fail(
  deps: Deps,
  request: PurchaseRequest,
  status: 'failed' | 'needs_attention',
  code: string,
  message: string,
): Promise<PurchaseOutcome> {
  const failed = await deps.store.failRequest(request.id, status, code, message, deps.clock.now());
  if (failed.status === 'not-found') throw new CoreError('NOT_FOUND', `No request ${request.id}.`);
  return { request: failed.request, number: null };
}

async function resolveUnknown(
  deps: Deps,
  carrier: Carrier,
  request: PurchaseRequest,
  why: string,
): Promise<PurchaseOutcome> {
  let lookup: OrderLookup;
  try {
    lookup = await carrier.lookupOrder(request.id, request.e164, request.carrierOrderRef);
  } catch (error) {
    return fail(
      deps,
      request,
      'needs_attention',
      'UNKNOWN_OUTCOME',
      `The order's outcome is unknown (${why}; lookup: ${messageOf(error)}). Switchboard will look it up again on the next sync; nothing more will be ordered.`,
    );
  }
  return applyLookup(deps, request, lookup, why);
}

async function applyLookup(
  deps: Deps,
  request: PurchaseRequest,
  lookup: OrderLookup,
  why: string,
): Promise<PurchaseOutcome> {
  switch (lookup.status) {
    case 'bought':
      return complete(deps, request, lookup);
    case 'pending':
      await deps.store.setOrderRef(request.id, lookup.orderRef, deps.clock.now());
      return fail(
        deps,
        request,
        'needs_attention',
        'ORDER_PENDING',
        `The carrier is still processing order ${lookup.orderRef}. Switchboard checks it again on the next sync; nothing more will be ordered.`,
      );
    case 'failed':
      return fail(
        deps,
        request,
        'failed',
        'UPSTREAM',
        joinSentences(`The carrier's order failed: ${lookup.message}`, 'Nothing was bought.'),
      );
    case 'not-found':
      return fail(
        deps,
        request,
        'failed',
        'NOT_ORDERED',
        `The carrier has no order for this request (${why}); nothing was bought. Request it again.`,
      );
  }
}

async function releaseHold(carrier: Carrier, request: PurchaseRequest): Promise<void> {
  if (!request.holdRef || !carrier.releaseHold) return;
  await carrier.releaseHold(request.holdRef).catch(() => undefined); // a hold also lapses by itself
}

export async function releaseHoldOf(deps: Deps, request: PurchaseRequest): Promise<void> {
  const carrier = deps.carriers[request.carrier];
  if (carrier) await releaseHold(carrier, request);
}

/**
 * Resolves purchases a crash or a timeout left without an outcome: requests `executing` for
 * longer than `staleAfterMs` (their process died) and `needs_attention` ones that wait on the
 * carrier. Each is looked up at the carrier: recorded if bought, failed if not, never bought again.
 */
export async function reconcile(deps: Deps, staleAfterMs = 60_000): Promise<PurchaseRequest[]> {
  const resolved = await reconcileOrders(deps, staleAfterMs);
  // Provisioned numbers bought before a crash but not yet linked get their link now.
  return [...resolved, ...(await finishPendingLinks(deps, staleAfterMs))];
}

async function reconcileOrders(deps: Deps, staleAfterMs: number): Promise<PurchaseRequest[]> {
  const now = deps.clock.now().getTime();
  const open = await deps.store.listRequests({
    statuses: ['executing', 'needs_attention'],
    limit: 500,
  });
  const resolved: PurchaseRequest[] = [];
  for (const request of open) {
    if (request.status === 'executing' && now - request.updatedAt.getTime() < staleAfterMs)
      continue;
    if (
      request.status === 'needs_attention' &&
      !['ORDER_PENDING', 'UNKNOWN_OUTCOME'].includes(request.errorCode ?? '')
    )
      continue;
    const carrier = deps.carriers[request.carrier];
    if (!carrier) continue;
    let lookup: OrderLookup;
    try {
      lookup = await carrier.lookupOrder(request.id, request.e164, request.carrierOrderRef);
    } catch {
      continue; // still unknown; the next reconcile tries again
    }
    if (request.status === 'executing') {
      // Move it out of `executing` first so that no one else resolves it at the same time.
      const parked = await deps.store.failRequest(
        request.id,
        'needs_attention',
        'UNKNOWN_OUTCOME',
        'Reconciling with the carrier after an interruption.',
        deps.clock.now(),
      );
      if (parked.status !== 'ok') continue;
    }
    const outcome = await applyLookup(
      deps,
      request,
      lookup,
      'interrupted before its outcome was recorded',
    );
    resolved.push(outcome.request);
  }
  return resolved;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
