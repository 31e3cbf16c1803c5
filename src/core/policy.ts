import { CoreError } from './errors.js';
import type { Actor, NumberRecord, PurchaseRequest, Role } from './types.js';
import type { Policy } from './ports.js';

export function rolesOf(policy: Policy, actor: Actor): Set<Role> {
  const roles = new Set<Role>(actor.extraRoles ?? []);
  if (policy.approvers.includes(actor.id)) roles.add('approver');
  if (policy.admins.includes(actor.id)) roles.add('admin');
  return roles;
}

export function isAdmin(policy: Policy, actor: Actor): boolean {
  return rolesOf(policy, actor).has('admin');
}

export function isApprover(policy: Policy, actor: Actor): boolean {
  return rolesOf(policy, actor).has('approver');
}

const capitalise = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);

function approverList(policy: Policy): string {
  return policy.approvers.length > 0
    ? `ask one of the approvers (${policy.approvers.join(', ')})`
    : 'no approvers are configured: an admin sets SWITCHBOARD_APPROVERS';
}

/**
 * The member an actor acts for: an MCP token's owner, else the actor themself. Whatever means "the
 * member" goes by it: who owns a number claimed or bought, whose per-member cap counts, what
 * `mine` shows, whose number may be released or linked. The audit trail keeps the actor itself.
 * Roles never pass through it: a token is not an approver or admin because its owner is.
 */
export function memberOf(actor: Pick<Actor, 'id' | 'onBehalfOf'>): string {
  return actor.onBehalfOf ?? actor.id;
}

/** The member a request is for: whoever it was made on behalf of, else whoever made it. */
export function memberOfRequest(
  request: Pick<PurchaseRequest, 'requester' | 'onBehalfOf'>,
): string {
  return request.onBehalfOf ?? request.requester;
}

/**
 * Whether a request is the actor's own: they made it, or it is for the member they are (made
 * through an MCP token they own, or, for a token, by its owner or a sibling token). Either way
 * they may withdraw it and, unless policy allows, not approve it.
 */
export function isOwnRequest(
  actor: Pick<Actor, 'id' | 'onBehalfOf'>,
  request: PurchaseRequest,
): boolean {
  return request.requester === actor.id || memberOfRequest(request) === memberOf(actor);
}

/** Who else may approve a request: the approvers but the actor and whoever it is for. */
function otherApprovers(policy: Policy, actor: Actor, request: PurchaseRequest): string {
  const others = policy.approvers.filter(
    (id) => id !== actor.id && id !== request.requester && id !== request.onBehalfOf,
  );
  return others.length > 0
    ? `ask another approver (${others.join(', ')})`
    : 'there is no other approver: an admin adds one to SWITCHBOARD_APPROVERS';
}

/**
 * Who may approve or deny a purchase. AI assistants (MCP) may request spending, never approve it;
 * a requester may not approve their own request unless policy allows it, and a request made
 * through an MCP token is its owner's own; a requester may always withdraw (deny) their own
 * pending request.
 */
export function assertMayDecide(
  policy: Policy,
  actor: Actor,
  request: PurchaseRequest,
  approve: boolean,
): void {
  if (actor.surface === 'mcp' && approve) {
    throw new CoreError(
      'FORBIDDEN',
      `AI assistants may request purchases but never approve them: ${approverList(policy)} to approve ${request.id} in Slack or the CLI.`,
    );
  }
  const own = isOwnRequest(actor, request);
  if (!approve && own) return;
  if (actor.surface === 'mcp') {
    throw new CoreError(
      'FORBIDDEN',
      `AI assistants cannot decide on requests: ${approverList(policy)}.`,
    );
  }
  if (!isApprover(policy, actor)) {
    throw new CoreError(
      'FORBIDDEN',
      `Only approvers can ${approve ? 'approve' : 'deny'} purchases: ${approverList(policy)}.`,
    );
  }
  if (own && approve && !policy.allowSelfApproval) {
    if (request.requester !== actor.id) {
      const token = request.requester.replace(/^mcp:/, '');
      throw new CoreError(
        'FORBIDDEN',
        `You cannot approve ${request.id}: it was requested through your MCP token ${token} (${request.requester}), on your behalf, so it is your own request. ${capitalise(otherApprovers(policy, actor, request))}; you may still deny (withdraw) it.`,
        { details: { requester: request.requester, onBehalfOf: request.onBehalfOf } },
      );
    }
    throw new CoreError(
      'FORBIDDEN',
      `You cannot approve your own request ${request.id}: ${otherApprovers(policy, actor, request)}.`,
    );
  }
}

/**
 * Members act on their own numbers; admins on any. Pool numbers are claimed before they are used.
 * An MCP token acts on its owner's numbers (memberOf), never on more than its owner could.
 */
export function assertMayManage(
  policy: Policy,
  actor: Actor,
  number: NumberRecord,
  verb: string,
): void {
  if (isAdmin(policy, actor)) return;
  if (number.owner === memberOf(actor)) return;
  if (number.owner === null) {
    throw new CoreError(
      'FORBIDDEN',
      `${number.e164} is in the pool: claim it first (claim ${number.e164}), or ask an admin to ${verb} it.`,
    );
  }
  throw new CoreError(
    'FORBIDDEN',
    `${number.e164} belongs to ${number.owner}: only they or an admin can ${verb} it.`,
  );
}

export function assertAdmin(policy: Policy, actor: Actor, what: string): void {
  if (!isAdmin(policy, actor)) {
    const admins =
      policy.admins.length > 0
        ? policy.admins.join(', ')
        : 'none configured: set SWITCHBOARD_ADMINS';
    throw new CoreError('FORBIDDEN', `Only admins can ${what} (admins: ${admins}).`);
  }
}

export function autoApproves(policy: Policy, monthlyCost: number): boolean {
  return policy.autoApproveUnderMonthly !== null && monthlyCost < policy.autoApproveUnderMonthly;
}

/** Approvers and admins see everyone's requests and audit events; members see their own. */
export function seesEveryone(policy: Policy, actor: Actor): boolean {
  return rolesOf(policy, actor).size > 0;
}

/** The per-member cap refusal, the same for a purchase request and a claim. */
export function memberCapRefusal(count: number, cap: number): CoreError {
  return new CoreError(
    'FORBIDDEN',
    `You hold or have asked for ${count} number${count === 1 ? '' : 's'} and the cap is ${cap} a member: give one back to the pool (unclaim <number>) or release one first, or ask an admin to raise SWITCHBOARD_MEMBER_NUMBER_CAP.`,
    { details: { count, cap } },
  );
}
