/** Human output for each command: what a person at a terminal reads. `--json` bypasses this. */
import { formatMoney } from '../core/money.js';
import { formatNumber } from '../core/phone.js';
import { memberOfRequest } from '../core/policy.js';
import type {
  AuditEvent,
  NumberRecord,
  ProvisionFallback,
  PurchaseRequest,
} from '../core/types.js';
import { emptySearchHint, poolSentence, type SearchResult } from '../core/commands/search.js';
import type { BuyResult } from '../core/commands/buy.js';
import type { ProvisionResult } from '../core/commands/provision.js';
import type { DecisionResult } from '../core/commands/decide.js';
import {
  LIST_PAGE,
  backInPool,
  noNumbersInArea,
  nothingAfter,
  unpricedNote,
  type ListResult,
  type UnclaimResult,
} from '../core/commands/numbers.js';
import { formatCount as count } from '../core/counts.js';
import type { SyncResult } from '../core/commands/sync.js';
import type { AccountsResult } from '../core/commands/accounts.js';
import type { Agent } from '../core/ports.js';
import { table } from './table.js';

const when = (date: Date | null) =>
  date ? date.toISOString().replace('T', ' ').slice(0, 16) + 'Z' : '';
const place = (n: { locality: string | null; region: string | null }) =>
  [n.locality, n.region].filter(Boolean).join(', ');
const carrierLabel = (carrier: string) => (carrier === 'sandbox' ? 'sandbox' : carrier);

function sandboxNote(sandbox: boolean): string {
  return sandbox
    ? '\n(sandbox carrier: pretend numbers for trying Switchboard; nothing is really bought. Set TELNYX_API_KEY or TWILIO_ACCOUNT_SID for real numbers.)'
    : '';
}

function requestLine(request: PurchaseRequest): string {
  return `${request.id}  ${request.status}  ${request.e164}  ${formatMoney(request.monthlyCost, request.currency)}/mo`;
}

function describeRequestState(request: PurchaseRequest): string {
  switch (request.status) {
    case 'pending':
      return `waiting for approval until ${when(request.expiresAt)}`;
    case 'done':
      return `bought and assigned to ${memberOfRequest(request)}${linkState(request)}`;
    case 'expired':
      return `expired ${when(request.expiresAt)} before anyone decided; ask again with: buy ${request.e164}`;
    case 'denied':
      return `denied by ${request.decidedBy}${request.decisionNote ? `: ${request.decisionNote}` : ''}`;
    case 'failed':
    case 'needs_attention':
      return `${request.status === 'failed' ? 'failed' : 'needs attention'}: ${request.errorMessage ?? request.errorCode ?? 'no details'}`;
    default:
      return request.status;
  }
}

/** The provisioning link of a request, for people: "; linked to retell:agent_1". */
function linkState(request: PurchaseRequest): string {
  const plan = request.provision;
  if (!plan?.agent) return '';
  switch (plan.linkStatus) {
    case 'linked':
      return `; linked to ${plan.agent}`;
    case 'failed':
      return `; linking to ${plan.agent} failed: ${plan.linkError ?? 'no details'}`;
    default:
      return request.status === 'done'
        ? `; link to ${plan.agent} not made yet (the next sync or serve start finishes it)`
        : `; will be linked to ${plan.agent} once bought`;
  }
}

const FALLBACK_WORDS: Record<ProvisionFallback, string> = {
  'area-code': 'in the area code',
  region: 'in the same region (none left in the area code)',
  country: 'elsewhere in the country (none left in the area code or region)',
};

function numbersTable(numbers: NumberRecord[]): string {
  return table(
    ['NUMBER', 'PLACE', 'CARRIER', 'OWNER', 'STATUS', 'AGENT', 'MONTHLY'],
    numbers.map((n) => [
      n.e164,
      place(n),
      carrierLabel(n.carrier),
      n.owner ?? '(pool)',
      n.status,
      n.agent ? `${n.agent.platform}:${n.agent.agentId}` : '',
      n.monthlyCost === null ? '' : formatMoney(n.monthlyCost, n.currency),
    ]),
    ['left', 'left', 'left', 'left', 'left', 'left', 'right'],
  );
}

function auditTable(events: AuditEvent[]): string {
  return table(
    ['WHEN', 'ACTOR', 'VIA', 'COMMAND', 'TARGET', 'OUTCOME', 'COST', 'REQUEST'],
    events.map((e) => [
      when(e.at),
      e.actor,
      e.surface,
      e.command,
      e.target ?? '',
      e.outcome === 'ok' ? 'ok' : `${e.outcome} (${e.errorCode ?? '?'})`,
      e.monthlyCost === null ? '' : `${formatMoney(e.monthlyCost, e.currency ?? 'USD')}/mo`,
      e.requestId ?? '',
    ]),
  );
}

function renderBuy(r: BuyResult): string {
  const price = `${formatMoney(r.quote.monthlyCost, r.quote.currency)}/mo + ${formatMoney(r.quote.upfrontCost, r.quote.currency)} upfront`;
  const what = `${formatNumber(r.quote.e164)} (${place(r.quote) || r.quote.country}, ${carrierLabel(r.quote.carrier)}) at ${price}`;
  if (r.autoApproved) {
    return r.number
      ? `Bought ${what}: approved by policy (under the auto-approve threshold) and assigned to ${memberOfRequest(r.request)}. Request ${r.request.id}.`
      : `Request ${r.request.id} for ${what} was approved by policy but ${describeRequestState(r.request)}`;
  }
  const approve = `switchboard approve ${r.request.id}`;
  const next =
    r.approvers.length > 0
      ? `approvers: ${r.approvers.join(', ')}.\nAn approver runs: ${approve}`
      : `nobody can approve it yet.\nAn admin adds an approver to SWITCHBOARD_APPROVERS; then the approver runs: ${approve}`;
  const pool = r.pool
    ? `\n${poolSentence(r.pool)} To take ${r.pool.numbers.length === 1 && !r.pool.more ? 'it' : 'one'} instead: switchboard claim ${r.pool.numbers[0]!.e164}, then withdraw this request: switchboard deny ${r.request.id}`
    : '';
  return `Requested ${what}.\nRequest ${r.request.id} is pending until ${when(r.request.expiresAt)}; ${next}${pool}${r.quote.sandbox ? '\n(sandbox carrier)' : ''}`;
}

export const renderers: Record<string, (result: never) => string> = {
  search: (r: SearchResult) => {
    const head = `${r.quotes.length} number${r.quotes.length === 1 ? '' : 's'} in ${r.described}, cheapest first:`;
    const skipped = r.skipped.map((s) => `\n(${s.carrier} left out: ${s.reason})`).join('');
    const pool = r.pool
      ? `\n\n${poolSentence(r.pool)} Claim with: switchboard claim ${r.pool.numbers[0]!.e164}${r.pool.more && r.pool.area ? ` (all of them: list pool ${r.pool.area})` : ''}`
      : '';
    if (r.quotes.length === 0)
      return `No numbers available in ${r.described}. ${emptySearchHint(r.criteria)}${pool}${skipped}${sandboxNote(r.sandbox)}`;
    const rows = r.quotes.map((q) => [
      q.e164,
      place(q),
      carrierLabel(q.carrier),
      q.features.join(','),
      formatMoney(q.monthlyCost, q.currency),
      formatMoney(q.upfrontCost, q.currency),
      q.id,
    ]);
    return `${head}\n\n${table(['NUMBER', 'PLACE', 'CARRIER', 'FEATURES', 'MONTHLY', 'UPFRONT', 'QUOTE'], rows, ['left', 'left', 'left', 'left', 'right', 'right', 'left'])}${pool}\n\nBuy one with: switchboard buy <number> --reason "…"  (quotes hold their price until ${when(r.quotes[0]?.expiresAt ?? null)})${skipped}${sandboxNote(r.sandbox)}`;
  },
  buy: (r: BuyResult) => renderBuy(r),
  provision: (r: ProvisionResult) => {
    if (r.mode === 'existing') {
      const steps = [
        r.imported ? 'verified at the carrier and imported' : null,
        r.claimed ? `claimed for ${r.number.owner}` : null,
        r.linked && r.number.agent
          ? `linked to ${r.number.agent.platform}:${r.number.agent.agentId}`
          : null,
      ].filter(Boolean);
      return `${formatNumber(r.number.e164)} (${place(r.number) || r.number.country || ''}, ${carrierLabel(r.number.carrier)}): ${steps.length > 0 ? steps.join(', ') : 'already provisioned, nothing to do'}. Nothing was bought.`;
    }
    const tried = r.steps
      .map((s) =>
        s.skipped
          ? `${s.where}: skipped (${s.skipped})`
          : `${s.where}: ${s.found === 0 ? 'none' : `${s.found} found`}`,
      )
      .join('; ');
    const head = `Searched ${tried}.\nFound ${formatNumber(r.quote.e164)} ${FALLBACK_WORDS[r.fallback]}.`;
    const link = !r.agent
      ? ''
      : r.number
        ? `\nAgent: ${linkState(r.request).replace(/^; /, '')}.`
        : `\nOnce bought, it is linked to ${r.agent}.`;
    return `${head}\n${renderBuy(r)}${link}`;
  },
  approve: (r: DecisionResult) =>
    r.number
      ? `Approved ${r.request.id}: bought ${r.number.e164} (${place(r.number)}, ${carrierLabel(r.number.carrier)}) for ${formatMoney(r.request.monthlyCost, r.request.currency)}/mo and assigned it to ${memberOfRequest(r.request)}${linkState(r.request)}.`
      : `Approved ${r.request.id}, but the purchase ${describeRequestState(r.request)}`,
  deny: (r: DecisionResult) =>
    `Denied ${r.request.id} (${r.request.e164}) for ${memberOfRequest(r.request)}.${r.request.decisionNote ? ` Reason: ${r.request.decisionNote}` : ''}`,
  requests: (r: { scope: string; requests: PurchaseRequest[] }) =>
    r.requests.length === 0
      ? r.scope === 'mine'
        ? 'You have no requests.'
        : `No ${r.scope === 'all' ? '' : `${r.scope} `}requests.`
      : table(
          ['REQUEST', 'STATUS', 'NUMBER', 'REQUESTER', 'MONTHLY', 'CREATED', 'NOTE'],
          r.requests.map((q) => [
            q.id,
            q.status,
            q.e164,
            q.onBehalfOf ? `${q.requester} for ${q.onBehalfOf}` : q.requester,
            formatMoney(q.monthlyCost, q.currency),
            when(q.createdAt),
            q.status === 'pending'
              ? `expires ${when(q.expiresAt)}`
              : q.status === 'expired'
                ? `expired ${when(q.expiresAt)}`
                : q.status === 'done'
                  ? linkState(q).replace(/^; /, '').slice(0, 60)
                  : (q.errorMessage ?? q.decisionNote ?? '').slice(0, 60),
          ]),
          ['left', 'left', 'left', 'left', 'right', 'left', 'left'],
        ),
  request: (r: { request: PurchaseRequest }) =>
    `${requestLine(r.request)}\nrequested by ${r.request.requester}${r.request.onBehalfOf ? ` on behalf of ${r.request.onBehalfOf}` : ''} via ${r.request.surface} at ${when(r.request.createdAt)}${r.request.reason ? `: "${r.request.reason}"` : ''}\n${describeRequestState(r.request)}`,
  claim: (r: { number: NumberRecord; alreadyYours: boolean }) =>
    r.alreadyYours
      ? `${r.number.e164} is already yours.`
      : `Claimed ${r.number.e164} (${place(r.number)}); it is now ${r.number.owner}'s.`,
  unclaim: (r: UnclaimResult) =>
    `${backInPool(r, (words) => words)}${r.number.carrier === 'sandbox' ? '\n(sandbox numbers are pretend: nothing is billed)' : ''}`,
  release: (r: { number: NumberRecord; unlinked: boolean; goneAlready?: boolean }) =>
    r.goneAlready
      ? `${r.number.e164} was no longer in the ${carrierLabel(r.number.carrier)} account, so nothing was left to release there${r.unlinked ? ' (it was unlinked from its agent first)' : ''}. It is recorded as released and kept in the history.`
      : `Released ${r.number.e164} at ${carrierLabel(r.number.carrier)}${r.unlinked ? ' (unlinked from its agent first)' : ''}. It is kept in the history as released.`,
  link: (r: { number: NumberRecord; changed: boolean; movedFrom?: string | null }) =>
    r.changed
      ? `Linked ${r.number.e164} to ${r.number.agent?.platform}:${r.number.agent?.agentId}${r.movedFrom ? `; ${r.movedFrom} no longer gets its calls` : ''}.`
      : `${r.number.e164} was already linked to ${r.number.agent?.platform}:${r.number.agent?.agentId}.`,
  unlink: (r: { number: NumberRecord; changed: boolean }) =>
    r.changed ? `Unlinked ${r.number.e164}.` : `${r.number.e164} was not linked.`,
  list: (r: ListResult) => {
    if (r.numbers.length === 0 && r.after) return nothingAfter(r, (words) => words)!;
    if (r.numbers.length === 0 && r.area) return noNumbersInArea(r, (words) => words);
    if (r.numbers.length === 0) {
      return r.scope === 'mine'
        ? 'You have no numbers. Claim one from the pool (list pool) or buy one (search 415).'
        : r.scope === 'pool'
          ? 'The pool is empty. An admin can import the carrier account with: sync'
          : 'No numbers yet. Import the carrier account with: sync';
    }
    const totals = r.totals.byOwner.map((t) => [
      t.owner === 'pool' ? '(pool)' : t.owner,
      count(t.count),
      formatMoney(t.monthly, r.totals.currency),
    ]);
    // The last row sums the numbers in scope: the whole team's only for `list all`.
    totals.push([
      r.scope === 'all' && !r.area ? 'team' : 'total',
      count(r.totals.team.count),
      formatMoney(r.totals.team.monthly, r.totals.currency),
    ]);
    const sandbox = r.numbers.some((n) => n.carrier === 'sandbox');
    const unpriced = unpricedNote(r);
    // A full page with more after it: the next one starts after its last number.
    const more = r.next
      ? `\nShowing ${count(r.numbers.length)} of ${count(r.totals.team.count)}. Next page: list ${r.scope}${r.area ? ` ${r.area}` : ''} --after ${r.next}${r.numbers.length === LIST_PAGE ? '' : ` --limit ${r.numbers.length}`}`
      : '';
    return `${numbersTable(r.numbers)}${more}\n\nMonthly cost${r.area ? ` in area code ${r.area}` : ''}\n${table(['OWNER', 'NUMBERS', 'MONTHLY'], totals, ['left', 'right', 'right'])}${unpriced ? `\n(${unpriced})` : ''}${sandbox ? '\n(sandbox numbers are pretend: nothing is billed)' : ''}`;
  },
  show: (r: { number: NumberRecord; history: AuditEvent[]; request: PurchaseRequest | null }) => {
    const n = r.number;
    const released = n.status === 'released';
    const lines = [
      `${n.e164}  ${formatNumber(n.e164)}`,
      `status     ${n.status}${n.releasedAt ? ` (released ${when(n.releasedAt)})` : ''}`,
      // A released number is history: who had it and what it cost, not who has it now.
      `owner      ${n.owner ?? '(pool)'}${released ? ' (until released)' : ''}`,
      `place      ${place(n) || '-'} ${n.country ?? ''}`.trimEnd(),
      `carrier    ${carrierLabel(n.carrier)}${n.carrierAccount ? ` (account ${n.carrierAccount})` : ''}${n.carrierRef ? `, id ${n.carrierRef}` : ''}`,
      `type       ${n.numberType}, ${n.features.join(', ') || 'no features listed'}`,
      `cost       ${n.monthlyCost === null ? 'unknown' : `${formatMoney(n.monthlyCost, n.currency)}/mo`}${released ? ' (no longer billed)' : ''}`,
      `agent      ${n.agent ? `${n.agent.platform}:${n.agent.agentId} since ${when(n.agent.linkedAt)}` : 'not linked'}`,
      `source     ${n.source}${r.request ? ` (request ${r.request.id} by ${r.request.requester})` : ''}`,
    ];
    return r.history.length > 0
      ? `${lines.join('\n')}\n\nHistory\n${auditTable(r.history)}`
      : lines.join('\n');
  },
  agents: (r: { agents: Agent[]; skipped: Array<{ platform: string; reason: string }> }) =>
    r.agents.length === 0
      ? [
          'No voice agents yet: create one in Retell or VAPI, then link a number to it with: switchboard link <number> <platform>:<agent id>',
          ...r.skipped.map((s) => `(${s.platform} left out: ${s.reason})`),
        ].join('\n')
      : `${table(
          ['AGENT', 'NAME', 'PLATFORM'],
          r.agents.map((a) => [
            `${a.platform}:${a.id}`,
            a.name,
            a.sandbox ? `${a.platform} (sandbox)` : a.platform,
          ]),
        )}${r.skipped.map((s) => `\n(${s.platform} left out: ${s.reason})`).join('')}\n\nLink a number with: switchboard link <number> <platform>:<agent id>`,
  sync: (r: SyncResult) => {
    const rows = r.results.map((x) => [
      x.carrier,
      count(x.run.seen),
      count(x.run.new),
      count(x.run.updated),
      count(x.unchanged),
      count(x.run.missing),
    ]);
    const reconciled =
      r.reconciled.length > 0
        ? `\nSettled ${r.reconciled.length} interrupted purchase(s): ${r.reconciled.map((q) => `${q.id} ${q.status}`).join(', ')}`
        : '';
    const added = r.results.some((x) => x.run.new > 0);
    return `Sync finished.\n${table(['CARRIER', 'SEEN', 'NEW', 'UPDATED', 'UNCHANGED', 'MISSING'], rows, ['left', 'right', 'right', 'right', 'right', 'right'])}${reconciled}${added ? '\nNew numbers are in the pool: list pool' : ''}`;
  },
  accounts: (r: AccountsResult) =>
    r.created
      ? `Created ${r.carrier} subaccount ${r.created.name} (${r.created.sid}). Buy into it with: switchboard buy <number> (account support is per request in the API).`
      : table(
          ['ACCOUNT', 'NAME', 'STATUS'],
          r.accounts.map((a) => [a.sid, a.name, a.status]),
        ),
  audit: (r: { events: AuditEvent[] }) =>
    r.events.length === 0 ? 'No audit events match.' : auditTable(r.events),
};
