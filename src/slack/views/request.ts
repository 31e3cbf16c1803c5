/**
 * A purchase request in Slack: the approval message (Approve / Deny while pending; who decided,
 * when and how it ended afterwards, buttons gone), the requester's notices, and the deny modal.
 */
import type { BuyResult } from '../../core/commands/buy.js';
import { poolSentence, type PoolMatch } from '../../core/commands/search.js';
import { formatMoney } from '../../core/money.js';
import { formatNumber } from '../../core/phone.js';
import { memberOfRequest } from '../../core/policy.js';
import type { PurchaseRequest, Quote } from '../../core/types.js';
import { ACTIONS, SLASH_COMMAND, VIEWS } from '../registry.js';
import type { Block, Message } from './blocks.js';
import {
  actions,
  button,
  clip,
  context,
  esc,
  fields,
  mention,
  plain,
  section,
  slackDate,
} from './blocks.js';
import { LIMITS } from './limits.js';
import { SANDBOX_NOTE, carrierLabel, phone, place, price } from './common.js';

/** What the message says about where the request stands. */
export function statusLine(request: PurchaseRequest): string {
  const by = request.decidedBy ? ` by ${mention(request.decidedBy)}` : '';
  const at = request.decidedAt ? ` ${slackDate(request.decidedAt)}` : '';
  switch (request.status) {
    case 'pending':
      return `:hourglass_flowing_sand: Waiting for an approver until ${slackDate(request.expiresAt)}`;
    case 'approved':
    case 'executing':
      return `:arrows_counterclockwise: Approved${by}${at}; buying now…`;
    case 'done':
      return `:white_check_mark: Approved${by}${at}. Bought and assigned to ${mention(memberOfRequest(request))}.`;
    case 'denied':
      return `:no_entry: Denied${by}${at}.${request.decisionNote ? ` Reason: ${esc(request.decisionNote)}` : ''}`;
    case 'expired':
      return `:clock3: Expired ${slackDate(request.expiresAt)} before anyone decided. Nothing was bought.`;
    case 'failed':
      return `:x: Approved${by}${at}, but nothing was bought: ${esc(request.errorMessage ?? 'the purchase failed')}`;
    case 'needs_attention':
      return `:warning: Approved${by}${at}; the carrier's answer is not in yet: ${esc(request.errorMessage ?? 'an admin should check it')}`;
  }
}

export function approvalMessage(
  request: PurchaseRequest,
  quote: Quote | null,
  /** Pool numbers that would do instead, when the message is first posted (see poolForQuote). */
  pool: PoolMatch | null = null,
): Message {
  const where = quote ? place(quote) : '';
  const blocks: Block[] = [
    section(
      `*Purchase request ${request.id}* from ${mention(request.requester)}${request.surface !== 'slack' ? ` (via ${request.surface})` : ''}${request.onBehalfOf ? ` on behalf of ${mention(request.onBehalfOf)}` : ''}`,
    ),
    fields([
      `*Number*\n${phone(request.e164)}`,
      `*Place*\n${esc(where || '—')}`,
      `*Carrier*\n${esc(carrierLabel(request.carrier))}${request.carrierAccount ? ` (${esc(request.carrierAccount)})` : ''}`,
      `*Price*\n${esc(price(request))}`,
      `*Reason*\n${esc(clip(request.reason ?? '(none given)', 1500))}`,
      `*Requested*\n${slackDate(request.createdAt)}`,
    ]),
    ...(request.carrier === 'sandbox' ? [context(SANDBOX_NOTE)] : []),
    section(statusLine(request)),
    // Before anyone approves spending: a number the team already pays for may do instead.
    ...(pool && request.status === 'pending'
      ? [
          section(
            `:bulb: ${esc(poolSentence(pool))} If ${pool.numbers.length === 1 && !pool.more ? 'it' : 'one of them'} will do, deny this with that as the reason; ${mention(memberOfRequest(request))} can take it with \`${SLASH_COMMAND} claim ${pool.numbers[0]!.e164}\`.`,
          ),
        ]
      : []),
  ];
  if (request.status === 'pending') {
    blocks.push(
      actions(
        [
          button('Approve', ACTIONS.approve, request.id, {
            style: 'primary',
            confirm: {
              title: 'Approve this purchase?',
              text: `Buy ${formatNumber(request.e164)} for ${formatMoney(request.monthlyCost, request.currency)}/month + ${formatMoney(request.upfrontCost, request.currency)} upfront, for ${esc(memberOfRequest(request))}?`,
              confirm: 'Approve and buy',
            },
          }),
          button('Deny', ACTIONS.deny, request.id, { style: 'danger' }),
        ],
        `decide:${request.id}`,
      ),
    );
  }
  return {
    text: `Purchase request ${request.id}: ${formatNumber(request.e164)} at ${price(request)} for ${esc(memberOfRequest(request))} (${request.status})`,
    blocks,
  };
}

/** The requester's private answer right after `/number buy` or a Request button. */
export function requestedMessage(result: BuyResult): Message {
  const { request, quote } = result;
  const what = `${phone(quote.e164)} (${esc(place(quote) || quote.country)}, ${esc(carrierLabel(quote.carrier))}) at ${esc(price(quote))}`;
  if (result.autoApproved) {
    const text = result.number
      ? `:white_check_mark: Bought ${what}: approved by policy (under the auto-approve threshold) and assigned to you. Request ${request.id}.`
      : `Request ${request.id} for ${what} was approved by policy. ${statusLine(request)}`;
    return { text: `Request ${request.id}`, blocks: [section(text)] };
  }
  const approvers =
    result.approvers.length > 0
      ? result.approvers.map(mention).join(', ')
      : 'nobody yet: an admin adds one to SWITCHBOARD_APPROVERS';
  return {
    text: `Requested ${formatNumber(quote.e164)}: request ${request.id} is pending`,
    blocks: [
      section(
        `:inbox_tray: Requested ${what}.\nRequest *${request.id}* waits for an approver until ${slackDate(request.expiresAt)}. Approvers: ${approvers}. I'll tell you here how it ends.`,
      ),
      ...(result.pool
        ? [
            section(
              `:bulb: ${esc(poolSentence(result.pool))} To take ${result.pool.numbers.length === 1 && !result.pool.more ? 'it' : 'one'} instead: \`${SLASH_COMMAND} claim ${result.pool.numbers[0]!.e164}\`, then \`${SLASH_COMMAND} deny ${request.id}\` withdraws this request.`,
            ),
          ]
        : []),
      ...(quote.sandbox ? [context(SANDBOX_NOTE)] : []),
    ],
  };
}

/** The DM a requester gets when their request is decided, bought, failed or expired. */
export function outcomeNotice(request: PurchaseRequest): Message {
  const number = phone(request.e164);
  // A request an MCP token made on the member's behalf says which token made it.
  const yours = request.onBehalfOf
    ? `Your request ${request.id} (made by ${esc(request.requester)} on your behalf)`
    : `Your request ${request.id}`;
  let text: string;
  switch (request.status) {
    case 'done':
      text = `:white_check_mark: ${yours} was approved by ${mention(request.decidedBy ?? 'an approver')}: ${number} is yours. Link it to an agent with \`${SLASH_COMMAND} link ${request.e164} retell:<agent id>\`.`;
      break;
    case 'denied':
      text = `:no_entry: ${yours} for ${number} was denied by ${mention(request.decidedBy ?? 'an approver')}.${request.decisionNote ? ` Reason: ${esc(request.decisionNote)}` : ''}`;
      break;
    case 'expired':
      text = `:clock3: ${yours} for ${number} expired before anyone decided; nothing was bought. Ask again with \`${SLASH_COMMAND} buy ${request.e164}\`.`;
      break;
    case 'failed':
      text = `:x: ${yours} was approved, but ${number} was not bought: ${esc(request.errorMessage ?? 'the purchase failed')}`;
      break;
    case 'needs_attention':
      text = `:warning: ${yours} was approved; the carrier has not confirmed ${number} yet. ${esc(request.errorMessage ?? '')} An admin can follow it with \`${SLASH_COMMAND} requests\`.`;
      break;
    default:
      text = `${yours} for ${number} is ${request.status}.`;
  }
  return { text: clip(text.replace(/[*`]/g, ''), 300), blocks: [section(text)] };
}

/**
 * Where a Deny button was clicked, so the modal's decision can be answered there: on App Home (the
 * Home is drawn again) or in a private message such as `/number requests` (its response_url gets
 * the answer). An approval message needs neither: it is redrawn in place.
 */
export interface DenyOrigin {
  home?: boolean;
  responseUrl?: string;
}

/** The request id and origin a deny modal carries; a bare id is a modal opened from a message. */
export function denyModalMetadata(metadata: string): { id: string } & DenyOrigin {
  if (!metadata.startsWith('{')) return { id: metadata };
  try {
    const parsed = JSON.parse(metadata) as { id?: unknown; home?: unknown; responseUrl?: unknown };
    return {
      id: typeof parsed.id === 'string' ? parsed.id : '',
      ...(parsed.home === true ? { home: true } : {}),
      ...(typeof parsed.responseUrl === 'string' ? { responseUrl: parsed.responseUrl } : {}),
    };
  } catch {
    return { id: metadata };
  }
}

/** The modal an approver fills in to deny: the reason goes to the requester and the audit trail. */
export function denyModal(
  request: PurchaseRequest,
  origin: DenyOrigin = {},
): Record<string, unknown> {
  const metadata = JSON.stringify({ id: request.id, ...origin });
  return {
    type: 'modal',
    callback_id: VIEWS.denyModal,
    private_metadata:
      (origin.home || origin.responseUrl) && metadata.length <= LIMITS.privateMetadata
        ? metadata
        : request.id,
    title: plain('Deny request', LIMITS.viewTitle),
    submit: plain('Deny', LIMITS.viewSubmit),
    close: plain('Cancel', LIMITS.viewSubmit),
    blocks: [
      section(
        `Deny *${request.id}*: ${phone(request.e164)} at ${esc(price(request))} for ${mention(memberOfRequest(request))}?`,
      ),
      {
        type: 'input',
        block_id: 'reason',
        label: plain('Reason (the requester sees it)', 2000),
        element: {
          type: 'plain_text_input',
          action_id: 'reason',
          multiline: true,
          min_length: 1,
          max_length: 500,
          placeholder: plain('e.g. Use a number from the pool instead', 150),
        },
      },
    ],
  };
}

export function requestLine(request: PurchaseRequest): string {
  return `*${request.id}* ${phone(request.e164)} · ${esc(price(request))} · ${mention(request.requester)}${request.onBehalfOf ? ` for ${mention(request.onBehalfOf)}` : ''} · ${request.status}`;
}
