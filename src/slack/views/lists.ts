/** `/number list`, `/number requests`, and the plain answers of the other commands. */
import {
  LIST_PAGE,
  backInPool,
  noNumbersInArea,
  nothingAfter,
  unpricedNote,
  type ListResult,
  type UnclaimResult,
} from '../../core/commands/numbers.js';
import { formatCount } from '../../core/counts.js';
import { formatMoney } from '../../core/money.js';
import type { NumberRecord, PurchaseRequest } from '../../core/types.js';
import { isOwnRequest, memberOfRequest } from '../../core/policy.js';
import { ACTIONS, SLASH_COMMAND } from '../registry.js';
import type { Block, Element, Message } from './blocks.js';
import { actions, button, context, esc, fit, mention, section, slackDate } from './blocks.js';
import { SANDBOX_NOTE, carrierLabel, phone, place } from './common.js';
import { LIMITS } from './limits.js';
import { requestLine } from './request.js';

export function numberLine(n: NumberRecord): string {
  const cost = n.monthlyCost === null ? '' : ` · ${formatMoney(n.monthlyCost, n.currency)}/mo`;
  const owner = n.owner ? mention(n.owner) : '_pool_';
  const agent = n.agent ? ` · :robot_face: ${esc(`${n.agent.platform}:${n.agent.agentId}`)}` : '';
  return `${phone(n.e164)}  ${esc(place(n))} · ${esc(carrierLabel(n.carrier))} · ${owner}${n.status === 'assigned' || n.status === 'available' ? '' : ` · ${n.status}`}${agent}${cost}`;
}

/** Numbers, several to a section (one block each would hit 50 blocks at 45 numbers). */
export function numberBlocks(numbers: NumberRecord[], perBlock = 10): Block[] {
  const blocks: Block[] = [];
  for (let i = 0; i < numbers.length; i += perBlock) {
    blocks.push(
      section(
        numbers
          .slice(i, i + perBlock)
          .map(numberLine)
          .join('\n'),
      ),
    );
  }
  return blocks;
}

/** The most numbers one list message shows (40 sections of ten). */
const SLACK_LIST_MAX = 400;

export function listMessage(result: ListResult): Message {
  const slash = (words: string) => `\`${SLASH_COMMAND} ${words}\``;
  if (result.numbers.length === 0 && (result.after || result.area)) {
    const text = `${nothingAfter(result, slash) ?? noNumbersInArea(result, slash)}.`;
    return { text, blocks: [section(text)] };
  }
  if (result.numbers.length === 0) {
    const text =
      result.scope === 'mine'
        ? `You have no numbers. Claim one from the pool (\`${SLASH_COMMAND} list pool\`) or request one (\`${SLASH_COMMAND} search 415\`).`
        : result.scope === 'pool'
          ? `The pool is empty. An admin can import the carrier account with \`${SLASH_COMMAND} sync\`.`
          : `No numbers yet. An admin imports the carrier account with \`${SLASH_COMMAND} sync\`.`;
    return { text, blocks: [section(text)] };
  }
  const totals = result.totals.byOwner
    .slice(0, 20)
    .map(
      (t) =>
        `${t.owner === 'pool' ? '_pool_' : mention(t.owner)}: ${formatCount(t.count)} · ${formatMoney(t.monthly, result.totals.currency)}/mo`,
    );
  // A page (100 by default) of which Slack shows up to 400; the next page starts after the last
  // number shown.
  const shown = result.numbers.slice(0, SLACK_LIST_MAX);
  const total = result.totals.team.count;
  const next = shown.length < result.numbers.length ? shown[shown.length - 1]!.e164 : result.next;
  const nextPage = next
    ? [
        context(
          `Next page: \`${SLASH_COMMAND} list ${result.scope}${result.area ? ` ${result.area}` : ''} --after ${next}${shown.length === LIST_PAGE ? '' : ` --limit ${shown.length}`}\``,
        ),
      ]
    : [];
  const blocks = [
    section(
      `*${result.scope === 'mine' ? 'Your numbers' : result.scope === 'pool' ? 'The pool' : 'All numbers'}${result.area ? ` in area code ${result.area}` : ''}* (${total > shown.length ? `${formatCount(shown.length)} of ${formatCount(total)}` : shown.length})`,
    ),
    ...numberBlocks(shown),
    ...nextPage,
    section(
      `*Monthly cost*\n${totals.join('\n')}\n${result.scope === 'all' && !result.area ? 'team' : 'total'}: ${formatCount(total)} · ${formatMoney(result.totals.team.monthly, result.totals.currency)}/mo`,
    ),
    ...[unpricedNote(result)].flatMap((note) => (note ? [context(`${note}.`)] : [])),
    ...(result.numbers.some((n) => n.carrier === 'sandbox')
      ? [context('Sandbox numbers are pretend: nothing is billed.')]
      : []),
  ];
  return { text: `${result.numbers.length} numbers`, blocks: fit(blocks) };
}

/** Approve / Deny buttons for one pending request, suffixed so they stay unique in a message. */
export function decisionButtons(request: PurchaseRequest, index: number): Element[] {
  return [
    button('Approve', `${ACTIONS.approve}:${index}`, request.id, {
      style: 'primary',
      confirm: {
        title: 'Approve this purchase?',
        text: `Buy ${request.e164} for ${formatMoney(request.monthlyCost, request.currency)}/month + ${formatMoney(request.upfrontCost, request.currency)} upfront, for ${esc(memberOfRequest(request))}?`,
        confirm: 'Approve and buy',
      },
    }),
    button('Deny', `${ACTIONS.deny}:${index}`, request.id, { style: 'danger' }),
  ];
}

/**
 * Requests, with Approve / Deny on pending ones the viewer may decide, in at most `max` blocks;
 * when they do not all fit, the last block says how many more there are and where to see them.
 * `beyond`: the store holds more than `requests` (a list read with a limit), so the count of
 * those left out is a lower bound, and a "more" line is due even when every one given fits.
 */
export function requestBlocks(
  requests: PurchaseRequest[],
  viewer: { id: string; approver: boolean; allowSelfApproval: boolean },
  max: number,
  more: string,
  beyond = false,
): Block[] {
  const blocks: Block[] = [];
  let index = 0;
  for (const [shown, request] of requests.entries()) {
    // Room for this request (and its buttons), and for the "more" line if others follow it.
    const last = shown === requests.length - 1;
    if (blocks.length + 2 + (last && !beyond ? 0 : 1) > max) {
      blocks.push(
        context(`…and ${beyond ? 'at least ' : ''}${requests.length - shown} more: ${more}`),
      );
      return blocks;
    }
    const note =
      request.status === 'pending'
        ? `expires ${slackDate(request.expiresAt)}`
        : esc((request.errorMessage ?? request.decisionNote ?? '').slice(0, 200));
    blocks.push(section(`${requestLine(request)}${note ? `\n${note}` : ''}`));
    const own = isOwnRequest(viewer, request);
    if (request.status === 'pending' && viewer.approver && (!own || viewer.allowSelfApproval)) {
      blocks.push(actions(decisionButtons(request, index++), `decide:${request.id}`));
    }
  }
  if (beyond) blocks.push(context(`…and more: ${more}`));
  return blocks;
}

export function requestsMessage(
  result: { scope: string; requests: PurchaseRequest[] },
  viewer: { id: string; approver: boolean; allowSelfApproval: boolean },
): Message {
  if (result.requests.length === 0) {
    const text = `No ${result.scope === 'all' ? '' : `${result.scope} `}requests.`;
    return { text, blocks: [section(text)] };
  }
  const blocks = [
    section(`*Requests (${result.scope})*`),
    ...requestBlocks(
      result.requests,
      viewer,
      LIMITS.messageBlocks - 1,
      `see them all in the CLI (\`switchboard requests ${result.scope}\`).`,
    ),
  ];
  return { text: `${result.requests.length} requests`, blocks: fit(blocks) };
}

/** A one-line answer (claim, link, unlink, release, …) as a message. */
export function textMessage(text: string, sandbox = false): Message {
  return {
    text: text.replace(/[*`]/g, '').slice(0, 3000),
    blocks: [section(text), ...(sandbox ? [context(SANDBOX_NOTE)] : [])],
  };
}

/** `/number unclaim +1…`: back in the pool, with the commands that claim or release it. */
export function unclaimedMessage(result: UnclaimResult): Message {
  const slash = (words: string) => `\`${SLASH_COMMAND} ${words}\``;
  return textMessage(
    `:leftwards_arrow_with_hook: ${backInPool(result, slash, mention)}`,
    result.number.carrier === 'sandbox',
  );
}

/** `/number release +1…`: a button whose confirm dialog names the number. */
export function releaseConfirmMessage(
  e164: string,
  options: { unlink: boolean; reason?: string },
): Message {
  const value = JSON.stringify({ number: e164, unlink: options.unlink, reason: options.reason });
  return {
    text: `Release ${e164}?`,
    blocks: [
      section(
        `Release ${phone(e164)}? It goes back to the carrier, stops costing money and cannot be undone.${options.unlink ? ' It is unlinked from its agent first.' : ''}`,
        button(`Release ${e164}`, ACTIONS.release, value, {
          style: 'danger',
          confirm: {
            title: 'Release this number?',
            text: `Release ${e164} for good? Calls to it stop reaching any agent.`,
            confirm: 'Release',
            danger: true,
          },
        }),
      ),
    ],
  };
}
