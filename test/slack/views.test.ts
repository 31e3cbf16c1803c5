/** Every Slack view rendered with long inputs stays within Block Kit's limits. */
import { describe, expect, it } from 'vitest';
import { commands } from '../../src/core/commands/index.js';
import type { SearchResult } from '../../src/core/commands/search.js';
import type { NumberRecord, PurchaseRequest, Quote, RequestStatus } from '../../src/core/types.js';
import { REQUEST_STATUSES } from '../../src/core/types.js';
import { slackCommands } from '../../src/slack/listeners.js';
import { helpMessage } from '../../src/slack/views/help.js';
import { homeView } from '../../src/slack/views/home.js';
import type { HomeData } from '../../src/slack/views/home.js';
import {
  listMessage,
  releaseConfirmMessage,
  requestsMessage,
  textMessage,
} from '../../src/slack/views/lists.js';
import { LIMITS, checkBlocks, checkView } from '../../src/slack/views/limits.js';
import {
  approvalMessage,
  denyModal,
  outcomeNotice,
  requestedMessage,
} from '../../src/slack/views/request.js';
import { searchMessage } from '../../src/slack/views/search.js';
import { textOf } from './fake-slack.js';

const long = (n: number) => 'Ω<&>'.repeat(Math.ceil(n / 4)).slice(0, n);
const now = new Date('2026-11-21T11:17:00Z');

const quote = (i: number): Quote => ({
  id: `Q-${String(i).padStart(10, '0')}`,
  e164: `+1415555${String(1000 + i).slice(-4)}`,
  carrier: 'sandbox',
  country: 'US',
  region: long(200),
  locality: long(500),
  numberType: 'local',
  features: ['voice', 'sms', 'mms'],
  monthlyCost: 1,
  upfrontCost: 1,
  currency: 'USD',
  sandbox: true,
  createdAt: now,
  expiresAt: now,
});

const request = (i: number, status: RequestStatus = 'pending'): PurchaseRequest =>
  ({
    id: `R-${String(i).padStart(8, '0')}`,
    kind: 'purchase',
    status,
    requester: 'U01ALICE',
    surface: 'slack',
    quoteId: quote(i).id,
    e164: quote(i).e164,
    areaCode: '415',
    carrier: 'sandbox',
    carrierAccount: null,
    monthlyCost: 1,
    upfrontCost: 1,
    currency: 'USD',
    reason: long(500),
    holdRef: null,
    decidedBy: status === 'pending' ? null : 'U01BOB',
    decidedAt: status === 'pending' ? null : now,
    decisionNote: long(500),
    expiresAt: now,
    attempts: 0,
    carrierOrderRef: null,
    errorCode: null,
    errorMessage: long(5000),
    numberId: null,
    createdAt: now,
    updatedAt: now,
  }) as PurchaseRequest;

const number = (i: number): NumberRecord => ({
  id: i,
  e164: quote(i).e164,
  carrier: 'sandbox',
  carrierRef: null,
  carrierAccount: null,
  status: 'assigned',
  owner: `U${String(i).padStart(8, '0')}`,
  country: 'US',
  region: long(100),
  locality: long(300),
  numberType: 'local',
  features: ['voice'],
  monthlyCost: 1.15,
  upfrontCost: 1,
  currency: 'USD',
  agent: { platform: 'retell', agentId: long(128), ref: null, linkedAt: now },
  source: 'sync',
  requestId: null,
  createdAt: now,
  updatedAt: now,
  releasedAt: null,
});

const message = (m: { blocks: unknown[]; text: string }) => {
  expect(m.text.length).toBeGreaterThan(0);
  expect(m.text.length).toBeLessThanOrEqual(LIMITS.messageText);
  return checkBlocks(m.blocks, 'message');
};

describe('Slack views stay within Block Kit limits', () => {
  it('the checker itself catches breaches (so the tests below can fail)', () => {
    const bad = [
      { type: 'section', text: { type: 'mrkdwn', text: 'x'.repeat(3001) } },
      {
        type: 'actions',
        elements: [
          { type: 'button', text: { type: 'plain_text', text: 'x'.repeat(76) }, action_id: 'a' },
          { type: 'button', text: { type: 'plain_text', text: 'ok' }, action_id: 'a' },
        ],
      },
      ...Array.from({ length: 50 }, () => ({ type: 'divider' })),
    ];
    const problems = checkBlocks(bad, 'message');
    expect(problems.join('\n')).toMatch(/52 blocks/);
    expect(problems.join('\n')).toMatch(/3001 chars/);
    expect(problems.join('\n')).toMatch(/76 chars/);
    expect(problems.join('\n')).toMatch(/duplicate action_id a/);
  });

  it('help, with and without a long problem', () => {
    expect(message(helpMessage(commands))).toEqual([]);
    expect(message(helpMessage(slackCommands(), long(10_000)))).toEqual([]);
  });

  it('help marks what spends money and what only admins may do', () => {
    const text = textOf(helpMessage(slackCommands()).blocks);
    expect(text).toMatch(/`\/number sync[^`]*`\n[^\n]*_\(admins only\)_/);
    expect(text).toMatch(/`\/number buy [^`]*`\n[^\n]*_\(needs an approver\)_/);
    expect(text).not.toMatch(/`\/number list [^`]*`\n[^\n]*_\(admins only\)_/);
  });

  it('search results with 50 quotes, long places and skipped carriers', () => {
    const result: SearchResult = {
      criteria: { country: 'US', numberType: 'local', features: [], limit: 50 },
      described: long(1000),
      quotes: Array.from({ length: 50 }, (_, i) => quote(i)),
      carriers: ['sandbox'],
      skipped: Array.from({ length: 10 }, () => ({
        carrier: 'telnyx' as const,
        reason: long(4000),
      })),
      sandbox: true,
      pool: { where: 'area code 415', area: '415', numbers: [1, 2, 3].map(number), more: true },
    };
    const m = searchMessage(result);
    expect(message(m)).toEqual([]);
    expect(m.blocks.length).toBeLessThanOrEqual(50);
    // The pool's numbers come before the prices, with the command that claims one.
    expect(textOf(m.blocks.slice(0, 2))).toContain(
      `The pool already has numbers in area code 415: ${number(1).e164}, ${number(2).e164}, ${number(3).e164} and more. Claiming one is free and needs no approval. \`/number claim ${number(1).e164}\` (all of them: \`/number list pool 415\`)`,
    );
  });

  it('a search for 50 (--limit 50) shows as many as fit, and says how many are shown', () => {
    const result: SearchResult = {
      criteria: { country: 'US', numberType: 'local', features: [], limit: 50 },
      described: 'area code 415 (San Francisco, CA)',
      quotes: Array.from({ length: 50 }, (_, i) => quote(i)),
      carriers: ['sandbox', 'telnyx'],
      skipped: [{ carrier: 'telnyx', reason: 'no answer within 8 s' }],
      sandbox: true,
      pool: null,
    };
    const m = searchMessage(result);
    expect(message(m)).toEqual([]);
    const buttons = m.blocks.filter((b) => b.accessory).length;
    // head, sandbox note, one skipped carrier, the prices' expiry: 46 rows left of 50 blocks.
    expect(buttons).toBe(46);
    expect(textOf(m.blocks[0])).toContain('50 numbers in area code 415');
    expect(textOf(m.blocks[0])).toContain('the 46 cheapest are shown');
    // Ten found: all shown, nothing said about it.
    const ten = searchMessage({ ...result, quotes: result.quotes.slice(0, 10) });
    expect(ten.blocks.filter((b) => b.accessory)).toHaveLength(10);
    expect(textOf(ten.blocks[0])).not.toContain('shown');
  });

  it('the approval message in every status, requester notices, the requested reply', () => {
    for (const status of REQUEST_STATUSES) {
      expect(message(approvalMessage(request(1, status), quote(1)))).toEqual([]);
      expect(message(outcomeNotice(request(1, status)))).toEqual([]);
    }
    for (const autoApproved of [false, true])
      expect(
        message(
          requestedMessage({
            request: request(1),
            quote: quote(1),
            approvers: Array.from({ length: 300 }, (_, i) => `U${i}AAAAAA`),
            autoApproved,
            number: null,
            pool: autoApproved
              ? null
              : { where: 'area code 415', area: '415', numbers: [1, 2, 3].map(number), more: true },
          }),
        ),
      ).toEqual([]);
  });

  it('the deny modal', () => {
    expect(checkView(denyModal(request(1)))).toEqual([]);
  });

  it('list with 2000 numbers, requests with 300 (buttons unique), release confirm, plain text', () => {
    const numbers = Array.from({ length: 2000 }, (_, i) => number(i));
    const list = listMessage({
      scope: 'all',
      numbers,
      next: null,
      area: null,
      after: null,
      poolInArea: null,
      totals: {
        byOwner: numbers.map((n) => ({ owner: n.owner as string, count: 1, monthly: 1.15 })),
        team: { count: 2000, monthly: 2300 },
        currency: 'USD',
      },
    });
    expect(message(list)).toEqual([]);
    const requests = Array.from({ length: 300 }, (_, i) =>
      request(i, i % 2 ? 'pending' : 'failed'),
    );
    expect(
      message(
        requestsMessage(
          { scope: 'all', requests },
          { id: 'U01BOB', approver: true, allowSelfApproval: false },
        ),
      ),
    ).toEqual([]);
    expect(
      message(releaseConfirmMessage('+14155550100', { unlink: true, reason: long(500) })),
    ).toEqual([]);
    expect(message(textMessage(long(100_000), true))).toEqual([]);
  });

  it('list: a page says how many there are in all, and how to get the next page', () => {
    const page = (count: number, total: number, next: string | null) =>
      listMessage({
        scope: 'all',
        numbers: Array.from({ length: count }, (_, i) => number(i)),
        next,
        area: null,
        after: null,
        poolInArea: null,
        totals: { byOwner: [], team: { count: total, monthly: total }, currency: 'USD' },
      });
    const first = page(100, 150_000, number(99).e164);
    expect(message(first)).toEqual([]);
    expect(textOf(first.blocks)).toContain('*All numbers* (100 of 150,000)');
    expect(textOf(first.blocks)).toContain(
      `Next page: \`/number list all --after ${number(99).e164}\``,
    );
    expect(textOf(first.blocks)).toContain('team: 150,000 ·');
    // Asked for 2,000: Slack shows 400 of them, and the next page starts after the 400th.
    const huge = page(2000, 2000, null);
    expect(message(huge)).toEqual([]);
    expect(textOf(huge.blocks)).toContain(
      `Next page: \`/number list all --after ${number(399).e164} --limit 400\``,
    );
    // The last page offers no next one.
    const last = page(50, 150, null);
    expect(textOf(last.blocks)).not.toContain('Next page');
  });

  it('list narrowed to an area code: the heading, the next page and the total say so', () => {
    const list = (count: number) =>
      listMessage({
        scope: 'pool',
        numbers: Array.from({ length: count }, (_, i) => ({ ...number(i), owner: null })),
        next: count === 100 ? number(99).e164 : null,
        area: '415',
        after: null,
        poolInArea: null,
        totals: { byOwner: [], team: { count: 250, monthly: 250 }, currency: 'USD' },
      });
    const text = textOf(list(100).blocks);
    expect(text).toContain('*The pool in area code 415* (100 of 250)');
    expect(text).toContain(`Next page: \`/number list pool 415 --after ${number(99).e164}\``);
    expect(text).toContain('total: 250 ·');
    expect(textOf(list(0).blocks)).toContain(
      'The pool has no numbers in area code 415. Search for one to buy: `/number search 415`.',
    );
    // A member with none of their own there is pointed at the pool's, free to claim.
    const mine = listMessage({
      scope: 'mine',
      numbers: [],
      next: null,
      area: '415',
      after: null,
      poolInArea: 2,
      totals: { byOwner: [], team: { count: 0, monthly: 0 }, currency: 'USD' },
    });
    expect(textOf(mine.blocks)).toContain(
      'You have no numbers in area code 415. The pool has 2 there, free to claim: `/number list pool 415`.',
    );
    // A page after the last number is the end of the list, not an empty pool.
    const past = listMessage({
      scope: 'pool',
      numbers: [],
      next: null,
      area: '415',
      after: '+14155550199',
      poolInArea: null,
      totals: { byOwner: [], team: { count: 250, monthly: 250 }, currency: 'USD' },
    });
    expect(textOf(past.blocks)).toContain(
      'No more numbers after +14155550199: that was the end of the list. Start again with: `/number list pool 415`.',
    );
  });

  /** Approve buttons in a message or view. */
  const approveButtons = (m: { blocks?: unknown }) =>
    (JSON.stringify(m.blocks).match(/"sb_approve:\d+"/g) ?? []).length;

  it('requests: all shown when they fit; otherwise the ones left out are counted', () => {
    const bob = { id: 'U01BOB', approver: true, allowSelfApproval: false };
    const fits = requestsMessage(
      { scope: 'pending', requests: Array.from({ length: 23 }, (_, i) => request(i)) },
      bob,
    );
    expect(message(fits)).toEqual([]);
    expect(approveButtons(fits)).toBe(23);
    expect(textOf(fits.blocks)).not.toMatch(/more/i);

    const many = requestsMessage(
      { scope: 'pending', requests: Array.from({ length: 50 }, (_, i) => request(i)) },
      bob,
    );
    expect(message(many)).toEqual([]);
    const shown = approveButtons(many);
    expect(textOf(many.blocks)).toContain(`…and ${50 - shown} more`);
  });

  /** App Home for Bob, an approver, with 200 numbers and nothing else unless `data` says. */
  const bobsHome = (data: Partial<HomeData>) =>
    homeView({
      userId: 'U01BOB',
      approver: true,
      allowSelfApproval: false,
      numbers: Array.from({ length: 200 }, (_, i) => number(i)),
      numbersTotal: 200,
      myRequests: [],
      myRequestsBeyond: false,
      waiting: [],
      waitingBeyond: false,
      ...data,
    });

  it('App Home counts the requests waiting for an approver that did not fit', () => {
    const waiting = Array.from({ length: 40 }, (_, i) => request(1000 + i));
    const view = bobsHome({ waiting });
    expect(checkView(view)).toEqual([]);
    const shown = approveButtons(view);
    expect(shown).toBeLessThan(40);
    expect(textOf(view.blocks)).toContain(`…and ${40 - shown} more: \`/number requests\``);
    expect(textOf(view.blocks)).not.toContain('list mine --limit');

    // The store held more than the 40 read: the count left out is a lower bound.
    const more = bobsHome({ waiting, waitingBeyond: true });
    expect(textOf(more.blocks)).toContain(`…and at least ${40 - shown} more: \`/number requests\``);
  });

  it('App Home says so when the store holds more than it read, even when what it read fits', () => {
    const view = bobsHome({
      numbersTotal: 1234,
      myRequests: Array.from({ length: 2 }, (_, i) => request(i)),
      myRequestsBeyond: true,
      waiting: Array.from({ length: 5 }, (_, i) => request(1000 + i)),
      waitingBeyond: true,
    });
    expect(checkView(view)).toEqual([]);
    const text = textOf(view.blocks);
    expect(text).toContain(`…and 1,034 more: \`/number list mine --after ${number(199).e164}\``);
    expect(text).toContain('…and more: `/number requests mine`');
    expect(text).toContain('…and more: `/number requests`');
    expect(approveButtons(view)).toBe(5);
  });

  it('App Home for an approver with many numbers and requests', () => {
    const view = bobsHome({
      numbers: Array.from({ length: 500 }, (_, i) => number(i)),
      numbersTotal: 500,
      myRequests: Array.from({ length: 100 }, (_, i) => request(i)),
      myRequestsBeyond: true,
      waiting: Array.from({ length: 200 }, (_, i) => request(1000 + i)),
      waitingBeyond: true,
    });
    expect(checkView(view)).toEqual([]);
    expect((view.blocks as unknown[]).length).toBeLessThanOrEqual(100);
  });
});
