/**
 * The MCP tools, derived from the core command descriptors: one row per tool DESIGN.md names,
 * and unclaim_number (EXTRA_TOOL_NAMES).
 * A row adds what only MCP needs: the snake_case name, a description that says when to use the
 * tool and what it costs, annotations that tell the truth, an output schema and the mapping from
 * the command's result to that output (compact, JSON-safe, and the same in `structuredContent`
 * and the text form). Input schemas are the commands' own zod schemas. approve and deny are never
 * tools: AI assistants may request spending, a human decides.
 */
import { z } from 'zod';
import type { ListResult, UnclaimResult } from '../core/commands/numbers.js';
import { emptySearchHint, poolSentence, type SearchResult } from '../core/commands/search.js';
import type { SyncResult } from '../core/commands/sync.js';
import { approversOf, type BuyResult } from '../core/commands/buy.js';
import type { ProvisionResult } from '../core/commands/provision.js';
import type { Agent, SearchCriteria } from '../core/ports.js';
import type { Effect } from '../core/command.js';
import { formatMoney } from '../core/money.js';
import { memberOfRequest } from '../core/policy.js';
import type { NumberRecord, Platform, PurchaseRequest } from '../core/types.js';
import { REQUEST_STATUSES } from '../core/types.js';

export interface ToolAnnotations {
  readOnlyHint: boolean;
  destructiveHint: boolean;
  idempotentHint: boolean;
  openWorldHint: boolean;
}

export interface ToolSpec {
  /** The tool's name, as DESIGN.md spells it. */
  name: string;
  /** The core command it runs (`commands` in src/core/commands/index.ts). */
  command: string;
  title: string;
  /** When to use it and what it costs; the command's summary comes first. */
  guidance: string;
  annotations: ToolAnnotations;
  output: z.ZodObject;
  /** The command's result as the tool's output (validated against `output` in the tests). */
  view(result: unknown): Record<string, unknown>;
  text(view: Record<string, unknown>): string;
}

/** Readers may call tools whose command only reads; requesters may call every tool. */
export type ToolRole = 'reader' | 'requester';

export function roleFor(effect: Effect): ToolRole {
  return effect === 'read' ? 'reader' : 'requester';
}

// ------------------------------------------------------------------------------------------------
// Shared output pieces

/** Money in outputs: a decimal amount in the currency's main unit, never cents. */
const MONEY = "In the currency's main unit (1.15 is $1.15 for USD), not cents";
const CURRENCY = 'ISO 4217 code of every amount beside it, e.g. USD';

const iso = (date: Date | null | undefined): string | null => (date ? date.toISOString() : null);

const NumberOut = z.object({
  number: z.string().describe('E.164'),
  status: z.enum(['available', 'assigned', 'missing', 'released']),
  owner: z.string().nullable().describe("Member id, or null for the team pool's numbers"),
  place: z.string().nullable(),
  carrier: z.string(),
  type: z.string(),
  features: z.array(z.string()),
  monthlyCost: z.number().nullable().describe(MONEY),
  currency: z.string().describe(CURRENCY),
  agent: z.string().nullable().describe('Linked voice agent as <platform>:<id>, or null'),
});
type NumberOut = z.output<typeof NumberOut>;

function place(n: { locality: string | null; region: string | null }): string | null {
  return [n.locality, n.region].filter(Boolean).join(', ') || null;
}

function numberView(n: NumberRecord): NumberOut {
  return {
    number: n.e164,
    status: n.status,
    owner: n.owner,
    place: place(n),
    carrier: n.carrier,
    type: n.numberType,
    features: n.features,
    monthlyCost: n.monthlyCost,
    currency: n.currency,
    agent: n.agent ? `${n.agent.platform}:${n.agent.agentId}` : null,
  };
}

function numberLine(n: NumberOut): string {
  return [
    n.number,
    n.place ?? '',
    n.carrier,
    n.owner ?? '(pool)',
    n.status,
    n.agent ?? '',
    n.monthlyCost === null ? '' : `${formatMoney(n.monthlyCost, n.currency)}/mo`,
  ]
    .filter((part) => part !== '')
    .join('  ');
}

const RequestOut = z.object({
  requestId: z.string(),
  status: z.enum(REQUEST_STATUSES),
  number: z.string(),
  carrier: z.string(),
  monthlyCost: z
    .number()
    .describe(`The server's quoted price a month; approval binds to it. ${MONEY}`),
  upfrontCost: z.number().describe(`Charged once, when bought. ${MONEY}`),
  currency: z.string().describe(CURRENCY),
  requester: z.string(),
  onBehalfOf: z
    .string()
    .nullable()
    .describe(
      'The member a request made through an MCP token is for (the token owner): it counts as their own request, so they cannot approve it themselves',
    ),
  reason: z.string().nullable(),
  expiresAt: z.string().describe('When a pending request expires unless decided (ISO 8601)'),
  decidedBy: z.string().nullable(),
  decisionNote: z.string().nullable(),
  error: z.string().nullable().describe('Why a failed request failed'),
  linkTo: z
    .string()
    .nullable()
    .describe(
      'Requests made by provision_number: the voice agent the number is linked to once bought, without another call',
    ),
  linkStatus: z
    .enum(['pending', 'linked', 'failed'])
    .nullable()
    .describe('Whether that link is made yet; failed says why in next'),
  next: z.string().describe('What happens next, in words'),
});
type RequestOut = z.output<typeof RequestOut>;

function requestNext(r: PurchaseRequest, approvers: readonly string[]): string {
  const agent = r.provision?.agent ?? null;
  const thenLinked = agent ? ` Once bought, it is linked to ${agent} without another call.` : '';
  switch (r.status) {
    case 'pending':
      return `Waiting for a human approver${approvers.length ? ` (${approvers.join(', ')})` : ''} to approve or deny it in Slack or the CLI; nothing is bought before that.${thenLinked} Check again later with get_request.`;
    case 'approved':
    case 'executing':
      return `Approved; the number is being bought.${thenLinked} Check again shortly with get_request.`;
    case 'done':
      return `Bought: ${r.e164} now belongs to ${memberOfRequest(r)}. ${agent ? linkNext(r, agent) : 'Link it to a voice agent with link_number.'}`;
    case 'denied':
      return `Denied by ${r.decidedBy ?? 'an approver'}${r.decisionNote ? `: ${r.decisionNote}` : ''}. Nothing was bought.`;
    case 'expired':
      return 'Expired before anyone decided. Nothing was bought; request again if it is still needed.';
    case 'failed':
      return `The purchase failed and nothing was charged${r.errorMessage ? `: ${r.errorMessage}` : ''}. Request another number.`;
    case 'needs_attention':
      return 'The carrier has not confirmed the order; an admin must check it. Do not request it again.';
  }
}

/** A provision request's last step, once its number is bought. */
function linkNext(r: PurchaseRequest, agent: string): string {
  switch (r.provision?.linkStatus) {
    case 'linked':
      return `It is linked to ${agent}: nothing more to do.`;
    case 'failed':
      return `Linking it to ${agent} failed${r.provision.linkError ? ` (${r.provision.linkError})` : ''}. Finish with link_number (number ${r.e164}, agent ${agent}).`;
    default:
      return `It is being linked to ${agent}. Check again shortly with get_request.`;
  }
}

function requestView(r: PurchaseRequest, approvers: readonly string[]): RequestOut {
  return {
    requestId: r.id,
    status: r.status,
    number: r.e164,
    carrier: r.carrier,
    monthlyCost: r.monthlyCost,
    upfrontCost: r.upfrontCost,
    currency: r.currency,
    requester: r.requester,
    onBehalfOf: r.onBehalfOf,
    reason: r.reason,
    expiresAt: iso(r.expiresAt) as string,
    decidedBy: r.decidedBy,
    decisionNote: r.decisionNote,
    error: r.errorMessage,
    linkTo: r.provision?.agent ?? null,
    linkStatus: r.provision?.agent ? (r.provision.linkStatus ?? 'pending') : null,
    next: requestNext(r, approvers),
  };
}

function requestText(v: RequestOut): string {
  return [
    `Request ${v.requestId}: ${v.status}. ${v.number} (${v.carrier}) at ${formatMoney(v.monthlyCost, v.currency)}/mo + ${formatMoney(v.upfrontCost, v.currency)} upfront, requested by ${v.requester}${v.onBehalfOf ? ` on behalf of ${v.onBehalfOf}` : ''}.`,
    v.next,
  ].join('\n');
}

function askedText(v: {
  autoApproved: boolean;
  approvers: string[];
  pool: string[];
  requestId: string | null;
}): string {
  const asked = v.autoApproved
    ? 'Approved by policy (under the auto-approve threshold).'
    : v.approvers.length
      ? `Asked to approve: ${v.approvers.join(', ')}.`
      : 'No one can approve it yet: an admin must add an approver to SWITCHBOARD_APPROVERS.';
  if (v.pool.length === 0) return asked;
  return `${asked}\nThe pool already has ${v.pool.join(', ')} in the same area code: claim_number takes one for nothing, and the user can then withdraw ${v.requestId ?? 'this request'} (deny it in Slack or the CLI).`;
}

/** Tool rows that need the deps' approver list get it through this closure-free parameter. */
export interface ViewContext {
  approvers: readonly string[];
  /** Policy: whether a requester may approve their own request. */
  allowSelfApproval?: boolean;
  /** Policy: requests under this monthly cost are approved and bought at once (null: never). */
  autoApproveUnderMonthly?: number | null;
}

/** What the descriptions of the tools that spend add when policy approves small purchases itself. */
function autoApproveNote(ctx: ViewContext): string {
  const limit = ctx.autoApproveUnderMonthly;
  return limit === null || limit === undefined
    ? ''
    : ` Exception: this server's policy approves a number under ${formatMoney(limit)}/month by itself, and it is bought at once, with no human.`;
}

// ------------------------------------------------------------------------------------------------
// The tools

const SearchOut = z.object({
  where: z.string().describe('Where the search looked, in words'),
  sandbox: z.boolean().describe('True when the numbers are pretend (sandbox carrier)'),
  quotes: z.array(
    z.object({
      quoteId: z.string().describe('Pass to request_purchase as target to buy at this price'),
      number: z.string(),
      place: z.string().nullable(),
      carrier: z.string(),
      type: z.string(),
      features: z.array(z.string()),
      monthlyCost: z.number().describe(MONEY),
      upfrontCost: z.number().describe(MONEY),
      currency: z.string().describe(CURRENCY),
      expiresAt: z.string().describe('When the quote lapses (ISO 8601); search again after it'),
    }),
  ),
  skipped: z.array(z.object({ carrier: z.string(), reason: z.string() })),
  pool: z
    .array(z.string())
    .describe(
      'Numbers the team already pays for in the searched area code, free to claim with claim_number (no purchase, no approval); empty when none',
    ),
  next: z.string().describe('What to do next, in words: how to buy, or how to search wider'),
});

/**
 * An empty search's advice, in this tool's argument names: loosen only what narrowed the search
 * (the core's emptySearchHint, in the CLI's flags by default).
 */
function searchWider(c: SearchCriteria): string {
  const hint = emptySearchHint(c, {
    where: ' as query',
    contains: 'contains',
    region: 'region',
    features: 'features',
    local: 'type "local"',
  });
  return `Nothing found: ${hint.charAt(0).toLowerCase()}${hint.slice(1)}`;
}

/** A request as request_purchase reports it: the request, who was asked, and what policy did. */
const BuyFields = {
  approvers: z
    .array(z.string())
    .describe('Who was asked to approve; empty when policy approved it'),
  autoApproved: z.boolean(),
  pool: z
    .array(z.string())
    .describe(
      'Numbers of the same type in the same area code already in the team pool, free to claim with claim_number instead (the user can then withdraw this request); empty when none',
    ),
};

/** request_purchase: a request (any status), or `declined` when the user said no when asked. */
const BuyOut = RequestOut.extend({
  requestId: z.string().nullable().describe('Null only when the user declined: nothing was made'),
  status: z.enum([...REQUEST_STATUSES, 'declined']),
  expiresAt: z.string().nullable(),
  ...BuyFields,
  bought: NumberOut.nullable().describe('The number, when policy approved and it was bought'),
});
export type BuyOut = z.output<typeof BuyOut>;

const NumberResultOut = (flag: string, describe: string) =>
  z.object({ number: NumberOut, [flag]: z.boolean().describe(describe) });

/** The view that goes with NumberResultOut: the number as NumberOut, the flags as they are. */
const numberResultView =
  (...flags: string[]) =>
  (raw: unknown): Record<string, unknown> => {
    const r = raw as { number: NumberRecord } & Record<string, unknown>;
    return { number: numberView(r.number), ...Object.fromEntries(flags.map((f) => [f, r[f]])) };
  };

const ListOut = z.object({
  scope: z.enum(['mine', 'pool', 'all']),
  count: z.number(),
  numbers: z.array(NumberOut),
  area: z.string().nullable().describe('The area code the list is narrowed to, if any'),
  after: z.string().nullable().describe('The number this page started after, if any'),
  next: z
    .string()
    .nullable()
    .describe('Pass as `after` for the next page; null when this page is the last'),
  poolInArea: z
    .number()
    .nullable()
    .describe(
      'When the caller has no numbers in `area`: how many the pool has there, free to claim (list them with scope "pool"); null otherwise',
    ),
  totals: z
    .object({
      byOwner: z.array(
        z.object({
          owner: z.string().describe('Member id, or "pool" for nobody\'s numbers'),
          count: z.number(),
          monthly: z.number().describe(MONEY),
        }),
      ),
      team: z.object({ count: z.number(), monthly: z.number().describe(MONEY) }),
      currency: z.string().describe(CURRENCY),
    })
    .describe('Every number in scope, not only those listed; monthly costs summed'),
});

const AgentsOut = z.object({
  agents: z.array(
    z.object({
      agent: z.string().describe('Pass to link_number as agent'),
      platform: z.string(),
      name: z.string(),
      sandbox: z.boolean(),
    }),
  ),
  skipped: z.array(z.object({ platform: z.string(), reason: z.string() })),
});

const SyncOut = z.object({
  results: z.array(
    z.object({
      carrier: z.string(),
      sandbox: z.boolean(),
      status: z.string(),
      seen: z.number(),
      new: z.number(),
      updated: z.number(),
      unchanged: z.number(),
      missing: z.number(),
    }),
  ),
  reconciled: z.number().describe('Purchases left without an outcome by a crash, now settled'),
});

/**
 * provision_number: `purchase` (a request, found near the business phone, waiting for a human
 * like request_purchase's) or `existing` (a number the account already owns, claimed and linked).
 */
const ProvisionOut = z.object({
  mode: z
    .enum(['purchase', 'existing'])
    .describe('purchase: a purchase request was made; existing: nothing was bought'),
  agent: z
    .string()
    .nullable()
    .describe('The voice agent the number is linked to (for a purchase: once it is bought)'),
  request: RequestOut.extend(BuyFields)
    .nullable()
    .describe('mode purchase: the purchase request; follow it with get_request'),
  foundIn: z
    .string()
    .nullable()
    .describe('mode purchase: where the number was found, e.g. area code 415 (San Francisco, CA)'),
  fallback: z
    .enum(['area-code', 'region', 'country'])
    .nullable()
    .describe(
      "mode purchase: area-code when found in the business phone's area code, else how far the search widened",
    ),
  number: NumberOut.nullable().describe(
    'mode existing: the number; mode purchase: the number once policy approved and bought it',
  ),
  imported: z
    .boolean()
    .nullable()
    .describe('mode existing: true when it was verified at the carrier and recorded now'),
  claimed: z.boolean().nullable().describe('mode existing: true when it was claimed just now'),
  linked: z.boolean().nullable().describe('mode existing: true when it was linked to agent'),
});
type ProvisionOut = z.output<typeof ProvisionOut>;

export const UNIVERSAL_GUIDANCE =
  'Every call is recorded in the audit trail with the caller and the outcome.';

function makeTools(ctx: ViewContext): ToolSpec[] {
  return [
    {
      name: 'search_numbers',
      command: 'search',
      title: 'Search numbers to buy',
      guidance:
        'Use it first when the user needs a new number: it asks the carriers and returns server-made quotes (number, monthly and upfront price, expiry). Costs nothing; it saves the quotes so a purchase can bind to their price, so it is not read-only. Searching twice makes new quotes.',
      annotations: {
        readOnlyHint: false,
        destructiveHint: false,
        idempotentHint: false,
        openWorldHint: true,
      },
      output: SearchOut,
      view(raw) {
        const r = raw as SearchResult;
        return {
          where: r.described,
          sandbox: r.sandbox,
          quotes: r.quotes.map((q) => ({
            quoteId: q.id,
            number: q.e164,
            place: place(q),
            carrier: q.carrier,
            type: q.numberType,
            features: q.features,
            monthlyCost: q.monthlyCost,
            upfrontCost: q.upfrontCost,
            currency: q.currency,
            expiresAt: q.expiresAt.toISOString(),
          })),
          skipped: r.skipped,
          pool: r.pool?.numbers.map((n) => n.e164) ?? [],
          next: [
            ...(r.pool
              ? [
                  `${poolSentence(r.pool)} Prefer claim_number with one of them as number${r.pool.more && r.pool.area ? ` (list_numbers with scope pool and area ${r.pool.area} shows them all)` : ''}.`,
                ]
              : []),
            r.quotes.length
              ? `To buy one, call request_purchase with the quote id as target; a human approver must approve it${ctx.autoApproveUnderMonthly == null ? '' : ` unless it is under ${formatMoney(ctx.autoApproveUnderMonthly)}/month, which policy approves at once`}.`
              : searchWider(r.criteria),
          ].join(' '),
        };
      },
      text(raw) {
        const v = raw as z.output<typeof SearchOut>;
        const lines = [
          v.quotes.length
            ? `${v.quotes.length} number${v.quotes.length === 1 ? '' : 's'} in ${v.where}, cheapest first:`
            : `No numbers available in ${v.where}.`,
          ...v.quotes.map(
            (q) =>
              `${q.number}  ${q.place ?? ''}  ${q.carrier}  ${formatMoney(q.monthlyCost, q.currency)}/mo + ${formatMoney(q.upfrontCost, q.currency)} upfront  quote ${q.quoteId}`,
          ),
          ...v.skipped.map((s) => `(${s.carrier} left out: ${s.reason})`),
          v.next,
        ];
        if (v.sandbox) lines.push('(sandbox carrier: pretend numbers; nothing is really bought)');
        return lines.join('\n');
      },
    },
    {
      name: 'request_purchase',
      command: 'buy',
      title: 'Request a number purchase (a human approves)',
      guidance:
        "Use it when the user wants a new number: give a quote id from search_numbers (best: the price is the one shown), an E.164 number, or an area code (the server picks the cheapest). It creates a purchase request at the server's price and returns its id, status, price and who was asked to approve. It SPENDS MONEY once a human approves it in Slack or the CLI (you cannot approve); follow it with get_request. If the client supports it, the user is asked to confirm first." +
        autoApproveNote(ctx),
      annotations: {
        readOnlyHint: false,
        destructiveHint: true,
        idempotentHint: false,
        openWorldHint: true,
      },
      output: BuyOut,
      view(raw) {
        const r = raw as BuyResult;
        return {
          ...requestView(r.request, r.approvers),
          approvers: r.approvers,
          autoApproved: r.autoApproved,
          pool: r.pool?.numbers.map((n) => n.e164) ?? [],
          bought: r.number ? numberView(r.number) : null,
        };
      },
      text(raw) {
        const v = raw as BuyOut;
        if (v.status === 'declined') return v.next;
        return `${requestText(v as RequestOut)}\n${askedText(v)}`;
      },
    },
    {
      name: 'get_request',
      command: 'request',
      title: 'Follow a purchase request',
      guidance:
        'Use it to see where a request made with request_purchase stands (pending, done, denied, expired…) and what happens next. Costs nothing. Not read-only: reading requests first marks overdue ones expired and lets go of their carrier holds.',
      annotations: {
        readOnlyHint: false,
        destructiveHint: false,
        idempotentHint: true,
        openWorldHint: true,
      },
      output: RequestOut,
      view: (raw) => {
        const request = (raw as { request: PurchaseRequest }).request;
        const policy = {
          approvers: [...ctx.approvers],
          allowSelfApproval: !!ctx.allowSelfApproval,
        };
        return requestView(request, approversOf(policy, request));
      },
      text: (raw) => requestText(raw as RequestOut),
    },
    {
      name: 'claim_number',
      command: 'claim',
      title: 'Claim a pool number',
      guidance:
        "Use it when the team pool (list_numbers with scope pool) has a suitable number: it becomes the caller's at once (through a token: the token owner's, within their cap), with no purchase and no approval. The team already pays for pool numbers, so it costs nothing extra. Claiming a number you already hold changes nothing.",
      annotations: {
        readOnlyHint: false,
        destructiveHint: false,
        idempotentHint: true,
        openWorldHint: false,
      },
      output: NumberResultOut('alreadyYours', 'True when the number was already yours'),
      view: numberResultView('alreadyYours'),
      text(raw) {
        const v = raw as { number: NumberOut; alreadyYours: boolean };
        return `${v.alreadyYours ? 'Already yours' : 'Claimed'}: ${numberLine(v.number)}`;
      },
    },
    {
      name: 'unclaim_number',
      command: 'unclaim',
      title: 'Give a number back to the team pool',
      guidance:
        "Use it when the user no longer needs a number they hold (claimed by mistake, say) but the team should keep it: it goes back to the pool at once, stays in the carrier account and keeps its monthly cost, and anyone may claim it with claim_number. Nothing is bought or released, and no approval is needed. Members give back their own numbers (through a token: its owner's); admins anyone's. Refused while the number is linked to a voice agent: unlink_number first. To stop paying for a number, an admin releases it instead (release_number). Calling it again changes nothing: the number is already in the pool.",
      annotations: {
        readOnlyHint: false,
        destructiveHint: false,
        idempotentHint: true,
        openWorldHint: false,
      },
      output: z.object({
        number: NumberOut.describe('The number, now in the pool: status available, owner null'),
        previousOwner: z.string().describe('The member who held it until now'),
        wasYours: z
          .boolean()
          .describe(
            "False when an admin took back another member's number; through a token, yours means the token owner's",
          ),
      }),
      view(raw) {
        const r = raw as UnclaimResult;
        return {
          number: numberView(r.number),
          previousOwner: r.previousOwner,
          wasYours: r.wasYours,
        };
      },
      text(raw) {
        const v = raw as { number: NumberOut; previousOwner: string; wasYours: boolean };
        const from = v.wasYours ? '' : ` (taken back from ${v.previousOwner})`;
        const cost =
          v.number.monthlyCost === null
            ? 'It stays in the carrier account and still costs what the carrier charges for it'
            : `It stays in the carrier account and still costs ${formatMoney(v.number.monthlyCost, v.number.currency)}/mo`;
        return `${v.number.number} is back in the team pool${from}: anyone can claim it with claim_number. ${cost}; to stop that, an admin releases it (release_number).`;
      },
    },
    {
      name: 'release_number',
      command: 'release',
      title: 'Release a number for good',
      guidance:
        "Use it only when the user clearly wants to give a number up: it is released at the carrier and is gone for good (it stops costing money; it cannot be got back). Refused while the number is linked to a voice agent unless unlink is true. Members release their own numbers; a token, its owner's.",
      annotations: {
        readOnlyHint: false,
        destructiveHint: true,
        idempotentHint: true,
        openWorldHint: true,
      },
      output: NumberResultOut('unlinked', 'True when it was unlinked from its agent first').extend({
        goneAlready: z
          .boolean()
          .describe('True when the carrier no longer had the number, so it was only recorded'),
      }),
      view: numberResultView('unlinked', 'goneAlready'),
      text(raw) {
        const v = raw as { number: NumberOut; unlinked: boolean; goneAlready: boolean };
        const unlinked = v.unlinked ? ' (unlinked from its agent first)' : '';
        return v.goneAlready
          ? `${v.number.number} was no longer in the carrier account${unlinked}; it is recorded as released.`
          : `Released ${v.number.number}${unlinked}. It is kept in the history as released.`;
      },
    },
    {
      name: 'link_number',
      command: 'link',
      title: 'Link a number to a voice agent',
      guidance:
        "Use it to make a number's calls reach a voice agent (see list_agents for agent ids). Costs nothing. Destructive: a number already linked elsewhere is moved, and its old agent stops getting its calls. Linking to the agent it already has changes nothing.",
      annotations: {
        readOnlyHint: false,
        destructiveHint: true,
        idempotentHint: true,
        openWorldHint: true,
      },
      output: NumberResultOut('changed', 'False when it was already linked to that agent').extend({
        movedFrom: z
          .string()
          .nullable()
          .describe('The agent the number was linked to before, which no longer gets its calls'),
      }),
      view: numberResultView('changed', 'movedFrom'),
      text(raw) {
        const v = raw as { number: NumberOut; changed: boolean; movedFrom: string | null };
        const moved = v.movedFrom ? `; ${v.movedFrom} no longer gets its calls` : '';
        return `${v.changed ? 'Linked' : 'Already linked'}: ${v.number.number} to ${v.number.agent}${moved}.`;
      },
    },
    {
      name: 'unlink_number',
      command: 'unlink',
      title: 'Unlink a number from its voice agent',
      guidance:
        'Use it to stop a number sending calls to its voice agent. Costs nothing. Destructive: calls stop reaching the agent until it is linked again.',
      annotations: {
        readOnlyHint: false,
        destructiveHint: true,
        idempotentHint: true,
        openWorldHint: true,
      },
      output: NumberResultOut('changed', 'False when it was not linked'),
      view: numberResultView('changed'),
      text(raw) {
        const v = raw as { number: NumberOut; changed: boolean };
        return v.changed ? `Unlinked ${v.number.number}.` : `${v.number.number} was not linked.`;
      },
    },
    {
      name: 'list_numbers',
      command: 'list',
      title: 'List numbers and their monthly cost',
      guidance:
        "Use it to see the caller's numbers (mine; through a token, its owner's), the team pool free to claim (pool) or all, with monthly costs and totals. Read-only and free.",
      annotations: {
        readOnlyHint: true,
        destructiveHint: false,
        idempotentHint: true,
        openWorldHint: false,
      },
      output: ListOut,
      view(raw) {
        const r = raw as ListResult;
        return {
          scope: r.scope,
          count: r.numbers.length,
          numbers: r.numbers.map(numberView),
          area: r.area,
          after: r.after,
          next: r.next,
          poolInArea: r.poolInArea,
          totals: r.totals,
        };
      },
      text(raw) {
        const v = raw as z.output<typeof ListOut>;
        if (v.count === 0 && v.after)
          return `No more numbers after ${v.after}: that was the end of the list. Call again without after to start over.`;
        if (v.count === 0 && v.scope === 'mine' && v.area)
          return v.poolInArea
            ? `You have no numbers in area code ${v.area}; the pool has ${v.poolInArea} there, free to claim: call again with scope "pool" and area "${v.area}", then claim_number.`
            : `You have no numbers in area code ${v.area}, and the pool has none there: search_numbers to buy one.`;
        if (v.count === 0)
          return v.scope === 'mine'
            ? 'You have no numbers. See the pool with scope "pool", or search_numbers to buy one.'
            : `No numbers (${v.scope}${v.area ? `, area code ${v.area}` : ''}).`;
        return [
          `${v.count} number${v.count === 1 ? '' : 's'} (${v.scope}${v.area ? `, area code ${v.area}` : ''})${v.totals.team.count > v.count ? ` of ${v.totals.team.count}` : ''}, ${formatMoney(v.totals.team.monthly, v.totals.currency)}/mo in all:`,
          ...v.numbers.map(numberLine),
          ...(v.next ? [`More after these: call again with after "${v.next}".`] : []),
        ].join('\n');
      },
    },
    {
      name: 'list_agents',
      command: 'agents',
      title: 'List voice agents',
      guidance:
        'Use it to find the agent id to pass to link_number (Retell agents and VAPI assistants). Read-only and free; it asks the platforms.',
      annotations: {
        readOnlyHint: true,
        destructiveHint: false,
        idempotentHint: true,
        openWorldHint: true,
      },
      output: AgentsOut,
      view(raw) {
        const r = raw as {
          agents: Agent[];
          skipped: Array<{ platform: Platform; reason: string }>;
        };
        return {
          agents: r.agents.map((a) => ({
            agent: `${a.platform}:${a.id}`,
            platform: a.platform,
            name: a.name,
            sandbox: a.sandbox,
          })),
          skipped: r.skipped,
        };
      },
      text(raw) {
        const v = raw as z.output<typeof AgentsOut>;
        return [
          ...(v.agents.length
            ? []
            : [
                `No voice agents found${v.skipped.length ? '' : ': create one in Retell or VAPI first; nothing can be linked until then'}.`,
              ]),
          ...v.agents.map((a) => `${a.agent}  ${a.name}${a.sandbox ? '  (sandbox)' : ''}`),
          ...v.skipped.map((s) => `(${s.platform} left out: ${s.reason})`),
        ].join('\n');
      },
    },
    {
      name: 'sync_numbers',
      command: 'sync',
      title: 'Import the carrier account',
      guidance:
        'Admins only. Use it when numbers bought outside Switchboard should appear, or after a crash: new numbers land in the pool, numbers the carrier no longer lists are marked missing (never deleted). Costs nothing; an unchanged account changes nothing. Long on big accounts: it reports progress and can be cancelled.',
      annotations: {
        readOnlyHint: false,
        destructiveHint: false,
        idempotentHint: true,
        openWorldHint: true,
      },
      output: SyncOut,
      view(raw) {
        const r = raw as SyncResult;
        return {
          results: r.results.map((x) => ({
            carrier: x.carrier,
            sandbox: x.sandbox,
            status: x.run.status,
            seen: x.run.seen,
            new: x.run.new,
            updated: x.run.updated,
            unchanged: x.unchanged,
            missing: x.run.missing,
          })),
          reconciled: r.reconciled.length,
        };
      },
      text(raw) {
        const v = raw as z.output<typeof SyncOut>;
        return [
          'Sync finished.',
          ...v.results.map(
            (x) =>
              `${x.carrier}: ${x.seen} seen, ${x.new} new, ${x.updated} updated, ${x.unchanged} unchanged, ${x.missing} missing`,
          ),
          ...(v.reconciled ? [`${v.reconciled} interrupted purchase(s) settled.`] : []),
        ].join('\n');
      },
    },
    {
      name: 'provision_number',
      command: 'provision',
      title: 'Provision a number for a voice agent',
      guidance:
        "Use it to get a number near a business phone and link it to a voice agent in one step: it searches the phone's area code, then its state or province, then its country, and creates a purchase request like request_purchase's. It SPENDS MONEY once a human approves it in Slack or the CLI (you cannot approve); follow it with get_request, and the number is linked to the agent once bought. With existing=true nothing is bought: a number the carrier account already owns is claimed and linked." +
        autoApproveNote(ctx),
      annotations: {
        readOnlyHint: false,
        destructiveHint: true,
        idempotentHint: false,
        openWorldHint: true,
      },
      output: ProvisionOut,
      view(raw): ProvisionOut {
        const r = raw as ProvisionResult;
        if (r.mode === 'existing')
          return {
            mode: 'existing',
            agent: r.agent,
            request: null,
            foundIn: null,
            fallback: null,
            number: numberView(r.number),
            imported: r.imported,
            claimed: r.claimed,
            linked: r.linked,
          };
        return {
          mode: 'purchase',
          agent: r.agent,
          request: {
            ...requestView(r.request, r.approvers),
            approvers: r.approvers,
            autoApproved: r.autoApproved,
            pool: r.pool?.numbers.map((n) => n.e164) ?? [],
          },
          foundIn: r.steps.at(-1)?.where ?? null,
          fallback: r.fallback,
          number: r.number ? numberView(r.number) : null,
          imported: null,
          claimed: null,
          linked: null,
        };
      },
      text(raw) {
        const v = raw as ProvisionOut;
        if (v.mode === 'existing' || !v.request) {
          const n = v.number as NumberOut;
          const done = [
            v.imported ? 'verified at the carrier and imported' : null,
            v.claimed ? `claimed for ${n.owner}` : null,
            v.linked ? `linked to ${n.agent}` : null,
          ].filter(Boolean);
          return `${n.number}: ${done.length ? done.join(', ') : 'already provisioned, nothing to do'}. Nothing was bought.\n${numberLine(n)}`;
        }
        const near =
          v.fallback === 'area-code'
            ? `Found in ${v.foundIn}.`
            : `Nothing in the business phone's area code; found in ${v.foundIn}.`;
        return `${near}\n${requestText(v.request)}\n${askedText(v.request)}`;
      },
    },
  ];
}

/** The tool table for a given approver list (the list shows up in request texts). */
export function toolSpecs(ctx: ViewContext): ToolSpec[] {
  return makeTools(ctx);
}

/** Tool names in the order DESIGN.md lists them; tests check every one is served. */
export const DESIGN_TOOL_NAMES = [
  'search_numbers',
  'request_purchase',
  'get_request',
  'claim_number',
  'release_number',
  'link_number',
  'unlink_number',
  'list_numbers',
  'list_agents',
  'sync_numbers',
  'provision_number',
] as const;

/**
 * Tools served beyond DESIGN.md's list (which stays as DESIGN.md has it): `unclaim_number` gives a
 * number back to the team pool. Tests check the table is exactly both lists.
 */
export const EXTRA_TOOL_NAMES = ['unclaim_number'] as const;
