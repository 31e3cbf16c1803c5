/**
 * The last step of `provision`: once its purchase is done, the number is linked to the agent the
 * request named. The purchase stands whatever happens here; a failed link is recorded on the
 * request (link_status failed, with the platform's message) and in the audit trail, and the user
 * is told how to finish it with `link`.
 */
import { CoreError } from './errors.js';
import { linkToAgent } from './linking.js';
import type { Deps } from './ports.js';
import { joinSentences } from './sentences.js';
import type { AuditEvent, NumberRecord, PurchaseRequest } from './types.js';

export interface LinkStepOutcome {
  request: PurchaseRequest;
  number: NumberRecord;
}

export async function finishProvisionLink(
  deps: Deps,
  request: PurchaseRequest,
  number: NumberRecord,
): Promise<LinkStepOutcome> {
  const agent = request.provision?.agent;
  if (!agent || request.provision?.linkStatus === 'linked') return { request, number };
  const started = performance.now();
  let linked = number;
  let error: CoreError | null = null;
  let message: string | null = null;
  const owner = request.onBehalfOf ?? request.requester;
  if (number.owner !== owner) {
    // Given back to the pool (unclaim) or taken back by an admin before a late link (reconcile):
    // linking now would route a number that is no longer theirs to their agent.
    error = new CoreError('CONFLICT', `${number.e164} is no longer ${owner}'s`);
    message = `Bought ${number.e164}, but it was ${number.owner === null ? 'given back to the pool' : `${number.owner}'s`} before it could be linked to ${agent}, so it was not linked. Whoever holds it can link it: link ${number.e164} <agent>`;
  } else {
    try {
      ({ number: linked } = await linkToAgent(deps, number, agent));
    } catch (thrown) {
      error =
        thrown instanceof CoreError
          ? thrown
          : new CoreError('UPSTREAM', thrown instanceof Error ? thrown.message : String(thrown));
    }
    message = error
      ? joinSentences(
          `Bought ${number.e164}, but linking it to ${agent} failed: ${error.message}`,
          `Finish with: link ${number.e164} ${agent}`,
        )
      : null;
  }
  const set = await deps.store.setRequestLink(
    request.id,
    error ? 'failed' : 'linked',
    message,
    deps.clock.now(),
  );
  const event: AuditEvent = {
    at: deps.clock.now(),
    actor: request.requester,
    surface: request.surface,
    command: 'provision.link',
    target: number.e164,
    outcome: error ? 'failed' : 'ok',
    errorCode: error?.code ?? null,
    message: message?.slice(0, 500) ?? null,
    monthlyCost: null,
    upfrontCost: null,
    currency: null,
    requestId: request.id,
    durationMs: Math.round(performance.now() - started),
    detail: {
      agent,
      step: 'link after purchase',
      ...(request.onBehalfOf ? { onBehalfOf: request.onBehalfOf } : {}),
    },
  };
  await deps.store.recordAudit(event);
  return { request: set.status === 'not-found' ? request : set.request, number: linked };
}

/**
 * Links that a crash or an outage left undone: done purchases whose link is still pending and has
 * not moved for `staleAfterMs` (so that a link in progress elsewhere is left alone).
 */
export async function finishPendingLinks(
  deps: Deps,
  staleAfterMs = 60_000,
): Promise<PurchaseRequest[]> {
  const now = deps.clock.now().getTime();
  const pending = await deps.store.listRequests({
    statuses: ['done'],
    linkPending: true,
    limit: 200,
  });
  const finished: PurchaseRequest[] = [];
  for (const request of pending) {
    if (now - request.updatedAt.getTime() < staleAfterMs || request.numberId === null) continue;
    const number = await deps.store.getNumber(request.e164);
    if (!number || number.id !== request.numberId) continue;
    finished.push((await finishProvisionLink(deps, request, number)).request);
  }
  return finished;
}
