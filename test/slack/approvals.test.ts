/* eslint-disable @typescript-eslint/no-explicit-any -- Slack payloads are loosely typed JSON in assertions */
/**
 * The approval flow end to end through signed requests: request, refusals for the requester and a
 * non-approver (private, message unchanged), approve, deny with a reason in a modal, expiry, and
 * twenty simultaneous Approve clicks making one purchase.
 */
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { runCommand } from '../../src/core/command.js';
import { approve as approveCommand, buy } from '../../src/core/commands/index.js';
import type { Actor } from '../../src/core/types.js';
import type { JobOptions } from '../../src/server/jobs.js';
import { startJobs } from '../../src/server/jobs.js';
import { checkBlocks, checkView } from '../../src/slack/views/limits.js';
import type { FakeSlack } from './fake-slack.js';
import {
  actionBody,
  eventually,
  postSigned,
  slashBody,
  textOf,
  viewSubmissionBody,
} from './fake-slack.js';
import { startHarness } from './harness.js';
import { syncRow } from '../helpers/fixtures.js';
import type { Harness } from './harness.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const responseFor = (fake: FakeSlack, id: string) => () => fake.responses.find((r) => r.id === id);

/** `/number buy 415` by Alice; returns the request id and its approval message. */
async function requestNumber(h: Harness, id = 'buy') {
  const res = await postSigned(
    h.server.url,
    slashBody(h.fake, 'U01ALICE', 'buy 415 --reason "Support line for the Acme agent"', id),
  );
  expect(res.status).toBe(200);
  const reply = await eventually(responseFor(h.fake, id), 'the requester reply');
  const requestId = /R-[0-9A-Z]+/.exec(textOf(reply.body.blocks))?.[0] as string;
  expect(requestId).toBeDefined();
  const post = await eventually(
    () => h.fake.callsTo('chat.postMessage').find((c) => textOf(c.args.blocks).includes(requestId)),
    'the approval message',
  );
  await messageSaved(h, requestId);
  return { requestId, post, reply };
}

/** Waits for the approval message ref, saved right after Slack answers the post. */
async function messageSaved(h: Harness, requestId: string): Promise<void> {
  for (let i = 0; i < 200 && (await h.deps.store.listSlackMessages(requestId)).length === 0; i++)
    await new Promise((resolve) => setTimeout(resolve, 20));
}

/** `buy 415` run straight through the core by `requester` (the CLI, MCP, or Slack's command). */
const buyDirectly = (h: Harness, requester: Actor, reason: string) =>
  runCommand(h.deps, buy, requester, { target: '415', reason });

/** `approver` approves `requestId` outside Slack: the core's approve, run as the CLI does. */
const approveInCli = (h: Harness, approver: string, requestId: string) =>
  runCommand(h.deps, approveCommand, { id: approver, surface: 'cli' }, { id: requestId });

/** The server's jobs, their timers an hour off: the test runs them itself. */
const jobsRunByHand = (h: Harness, options: Partial<JobOptions> = {}) =>
  startJobs(h.app, {
    logger: pino({ level: 'silent' }),
    expiryIntervalMs: 3_600_000,
    reconcileIntervalMs: 3_600_000,
    refreshMessages: () => h.server.slack!.messages.refreshStale(),
    ...options,
  });

const approve = (h: Harness, user: string, requestId: string, id: string) =>
  postSigned(
    h.server.url,
    actionBody(h.fake, user, { action_id: 'sb_approve', value: requestId }, { id }),
  );

describe('Slack approvals', () => {
  it('posts a request to the approval channel with requester, number, place, carrier, price, reason and buttons', async () => {
    h = await startHarness();
    const { requestId, post, reply } = await requestNumber(h);
    expect(textOf(reply.body.blocks)).toContain('waits for an approver');
    expect(post.args.channel).toBe('C0APPROVALS');
    const blocks = post.args.blocks as Array<Record<string, any>>;
    expect(checkBlocks(blocks, 'message')).toEqual([]);
    const text = textOf(blocks);
    for (const part of [
      '<@U01ALICE>',
      '+1 415 555',
      'San Francisco, CA',
      'sandbox',
      '$1.00/mo + $1.00 upfront',
      'Support line for the Acme agent',
    ])
      expect(text).toContain(part);
    const buttons = blocks.find((b) => b.type === 'actions')!.elements as Array<
      Record<string, any>
    >;
    expect(buttons.map((b) => b.action_id)).toEqual(['sb_approve', 'sb_deny']);
    // The button carries only the request id: the price comes from the server's quote.
    expect(buttons.map((b) => b.value)).toEqual([requestId, requestId]);
    expect(await h.deps.store.listSlackMessages(requestId)).toEqual([
      {
        requestId,
        channel: 'C0APPROVALS',
        ts: post.args.ts ?? expect.any(String),
        renderedStatus: 'pending',
      },
    ]);
  });

  it('tells approvers (and the requester) when the pool has a number in that area code already', async () => {
    h = await startHarness();
    // Nothing in the pool: the approval message says nothing of it.
    const first = await requestNumber(h, 'buy-empty-pool');
    expect(textOf(first.post.args.blocks)).not.toContain('The pool already has');
    await h.deps.store.syncBegin('S-POOL', 'sandbox', 'U01ADMIN', new Date());
    await h.deps.store.syncBatch('S-POOL', 'sandbox', [syncRow('+14155550199')]);
    const { post, reply } = await requestNumber(h, 'buy-with-pool');
    expect(checkBlocks(post.args.blocks as Array<Record<string, any>>, 'message')).toEqual([]);
    expect(textOf(post.args.blocks)).toContain(
      'The pool already has +14155550199 in area code 415: claiming it is free and needs no approval. If it will do, deny this with that as the reason; <@U01ALICE> can take it with `/number claim +14155550199`.',
    );
    expect(textOf(reply.body.blocks)).toContain('`/number claim +14155550199`');
  });

  it('refuses the requester and a non-approver privately, leaves the message as it is, then lets an approver buy', async () => {
    h = await startHarness();
    const { requestId } = await requestNumber(h);
    const fake = h.fake;

    await approve(h, 'U01ALICE', requestId, 'self');
    const self = await eventually(responseFor(fake, 'self'), 'refusal for the requester');
    expect(self.body.response_type).toBe('ephemeral');
    expect(self.body.replace_original).toBe(false);
    expect(textOf(self.body.blocks)).toContain('Only approvers can approve');

    await approve(h, 'U01CAROL', requestId, 'carol');
    const carol = await eventually(responseFor(fake, 'carol'), 'refusal for a non-approver');
    expect(carol.body.response_type).toBe('ephemeral');
    expect(textOf(carol.body.blocks)).toContain('Only approvers can approve');
    expect(fake.callsTo('chat.update')).toHaveLength(0);
    expect((await h.deps.store.getRequest(requestId))?.status).toBe('pending');

    await approve(h, 'U01BOB', requestId, 'bob');
    const update = await eventually(
      () =>
        fake
          .callsTo('chat.update')
          .find((c) => textOf(c.args.blocks).includes('Bought and assigned')),
      'the message updated in place',
    );
    expect(update.args.channel).toBe('C0APPROVALS');
    const blocks = update.args.blocks as Array<Record<string, any>>;
    expect(blocks.some((b) => b.type === 'actions')).toBe(false);
    expect(textOf(blocks)).toContain('Approved by <@U01BOB>');
    const request = await h.deps.store.getRequest(requestId);
    expect(request?.status).toBe('done');
    expect(Object.keys(h.deps.sandbox.state().orders)).toHaveLength(1);

    // The outcome reaches the requester by DM.
    const dm = await eventually(
      () => fake.callsTo('chat.postMessage').find((c) => c.args.channel === 'DU01ALICE'),
      'the DM to the requester',
    );
    expect(textOf(dm.args.blocks)).toContain('is yours');
    expect(fake.callsTo('conversations.open').some((c) => c.args.users === 'U01ALICE')).toBe(true);

    // A second click after the decision: a private "already", no second purchase.
    await approve(h, 'U01BOB', requestId, 'bob-again');
    const again = await eventually(responseFor(fake, 'bob-again'), 'second click answer');
    expect(textOf(again.body.blocks)).toContain('already done');
    expect(Object.keys(h.deps.sandbox.state().orders)).toHaveLength(1);

    const audit = await h.deps.store.listAudit({ requestId, limit: 20 });
    expect(
      audit.filter((e) => e.command === 'approve').map((e) => [e.actor, e.outcome, e.surface]),
    ).toEqual(
      expect.arrayContaining([
        ['U01ALICE', 'refused', 'slack'],
        ['U01CAROL', 'refused', 'slack'],
        ['U01BOB', 'ok', 'slack'],
      ]),
    );
  });

  it('denies with a reason given in a modal; a non-approver gets no modal', async () => {
    h = await startHarness();
    const { requestId } = await requestNumber(h);
    const fake = h.fake;

    await postSigned(
      h.server.url,
      actionBody(
        fake,
        'U01CAROL',
        { action_id: 'sb_deny', value: requestId },
        { id: 'carol-deny' },
      ),
    );
    const refusal = await eventually(responseFor(fake, 'carol-deny'), 'refusal');
    expect(textOf(refusal.body.blocks)).toContain('Only approvers can deny');
    expect(fake.callsTo('views.open')).toHaveLength(0);

    await postSigned(
      h.server.url,
      actionBody(fake, 'U01BOB', { action_id: 'sb_deny', value: requestId }, { id: 'bob-deny' }),
    );
    const open = await eventually(() => fake.callsTo('views.open')[0], 'the deny modal');
    const view = open.args.view as Record<string, any>;
    expect(open.args.trigger_id).toBe('trigger-bob-deny');
    expect(view.callback_id).toBe('sb_deny_modal');
    expect(view.private_metadata).toBe(requestId);
    expect(checkView(view)).toEqual([]);

    const res = await postSigned(
      h.server.url,
      viewSubmissionBody('U01BOB', 'sb_deny_modal', requestId, 'Use a pool number instead'),
    );
    expect(res.status).toBe(200);
    const update = await eventually(
      () => fake.callsTo('chat.update').find((c) => textOf(c.args.blocks).includes('Denied by')),
      'the message updated',
    );
    expect(textOf(update.args.blocks)).toContain('Use a pool number instead');
    expect(
      (update.args.blocks as Array<Record<string, any>>).some((b) => b.type === 'actions'),
    ).toBe(false);
    const request = await h.deps.store.getRequest(requestId);
    expect(request).toMatchObject({
      status: 'denied',
      decidedBy: 'U01BOB',
      decisionNote: 'Use a pool number instead',
    });
    const dm = await eventually(
      () => fake.callsTo('chat.postMessage').find((c) => c.args.channel === 'DU01ALICE'),
      'the DM to the requester',
    );
    expect(textOf(dm.args.blocks)).toContain('Use a pool number instead');
    expect(Object.keys(h.deps.sandbox.state().orders)).toHaveLength(0);
  });

  it('a modal submitted without a reason is sent back with an error', async () => {
    h = await startHarness();
    const { requestId } = await requestNumber(h);
    const res = await postSigned(
      h.server.url,
      viewSubmissionBody('U01BOB', 'sb_deny_modal', requestId, '   '),
    );
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      response_action: 'errors',
      errors: { reason: expect.any(String) },
    });
    expect((await h.deps.store.getRequest(requestId))?.status).toBe('pending');
  });

  it('expiry updates the message in place and tells the requester', async () => {
    h = await startHarness();
    const { requestId } = await requestNumber(h);
    const request = await h.deps.store.getRequest(requestId);
    h.deps.setNow(new Date((request?.expiresAt.getTime() ?? 0) + 1000));
    // The job the server runs every ~30 s, run once now.
    const jobs = jobsRunByHand(h);
    expect(await jobs.expireNow()).toBe(1);
    await jobs.stop();
    const update = h.fake
      .callsTo('chat.update')
      .find((c) => textOf(c.args.blocks).includes('Expired'));
    expect(update).toBeDefined();
    expect(
      (update!.args.blocks as Array<Record<string, any>>).some((b) => b.type === 'actions'),
    ).toBe(false);
    const dm = h.fake.callsTo('chat.postMessage').find((c) => c.args.channel === 'DU01ALICE');
    expect(textOf(dm?.args.blocks)).toContain('expired');
    // Nothing left to redraw: a second run updates nothing more.
    const updates = h.fake.callsTo('chat.update').length;
    expect(await h.server.slack!.messages.refreshStale()).toBe(0);
    expect(h.fake.callsTo('chat.update')).toHaveLength(updates);
  });

  it('a request made in the CLI or over MCP is posted to the approvers once, and updated when decided there', async () => {
    h = await startHarness();
    const made = await buyDirectly(
      h,
      { id: 'mcp:assistant', surface: 'mcp' },
      'Requested by an assistant',
    );
    const requestId = made.request.id;
    const jobs = jobsRunByHand(h, {
      announceIntervalMs: 3_600_000,
      announceRequests: () => h!.server.slack!.messages.announcePending(),
    });
    try {
      await jobs.announceNow();
      const posts = () =>
        h!.fake
          .callsTo('chat.postMessage')
          .filter((c) => textOf(c.args.blocks).includes(requestId));
      await eventually(() => (posts().length > 0 ? posts() : undefined), 'the approval message');
      await messageSaved(h, requestId);
      expect(posts()[0]?.args.channel).toBe('C0APPROVALS');
      expect(textOf(posts()[0]?.args.blocks)).toContain('mcp:assistant');
      // Announced once: neither the job nor the listener's path posts it again.
      expect(await h.server.slack!.messages.announcePending()).toBe(0);
      expect(await h.server.slack!.messages.post(made.request)).toBe(0);
      expect(posts()).toHaveLength(1);
      // Approved in the CLI: the Slack message is redrawn, the buttons go.
      await approveInCli(h, 'U01BOB', requestId);
      await jobs.expireNow();
      const update = await eventually(
        () => h!.fake.callsTo('chat.update').find((c) => textOf(c.args.blocks).includes(requestId)),
        'the redrawn approval message',
      );
      expect(
        (update!.args.blocks as Array<Record<string, any>>).some((b) => b.type === 'actions'),
      ).toBe(false);
    } finally {
      await jobs.stop();
    }
  });

  it('an approval message Slack refused is tried again, not lost', async () => {
    h = await startHarness();
    const made = await buyDirectly(h, { id: 'U01ALICE', surface: 'cli' }, 'Support line');
    const messages = h.server.slack!.messages;
    h.fake.failing.add('chat.postMessage'); // e.g. the bot is not in the approval channel yet
    expect(await messages.announcePending()).toBe(0);
    expect(await h.deps.store.listSlackMessages(made.request.id)).toEqual([]);
    h.fake.failing.clear();
    expect(await messages.announcePending()).toBe(1);
    expect(await h.deps.store.listSlackMessages(made.request.id)).toHaveLength(1);
    expect(await messages.announcePending()).toBe(0);
  });

  it('twenty simultaneous Approve clicks make exactly one purchase, one update and one DM', async () => {
    h = await startHarness({ latencyMs: 50 });
    const { requestId } = await requestNumber(h);
    const fake = h.fake;
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => approve(h!, 'U01BOB', requestId, `click-${i}`)),
    );
    expect(results.every((r) => r.status === 200)).toBe(true);
    await eventually(
      () => fake.responses.filter((r) => r.id.startsWith('click-')).length >= 19 && true,
      '19 private answers',
    );
    await eventually(
      () => fake.callsTo('chat.update').some((c) => textOf(c.args.blocks).includes('Bought')),
      'the update',
    );
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(Object.keys(h.deps.sandbox.state().orders)).toHaveLength(1);
    const request = await h.deps.store.getRequest(requestId);
    expect(request?.status).toBe('done');
    expect(
      fake.callsTo('chat.update').filter((c) => textOf(c.args.blocks).includes('Bought')),
    ).toHaveLength(1);
    expect(
      fake.callsTo('chat.postMessage').filter((c) => c.args.channel === 'DU01ALICE'),
    ).toHaveLength(1);
    const audit = await h.deps.store.listAudit({ requestId, limit: 50 });
    expect(audit.filter((e) => e.command === 'approve' && e.outcome === 'ok')).toHaveLength(1);
  });

  it('without SLACK_APPROVAL_CHANNEL, each approver gets the request by DM, and both messages are updated', async () => {
    h = await startHarness({
      env: { SLACK_APPROVAL_CHANNEL: '' },
      policy: { approvers: ['U01BOB', 'U01DAVE'] },
    });
    const { requestId } = await requestNumber(h);
    const fake = h.fake;
    await eventually(
      () =>
        fake.callsTo('chat.postMessage').filter((c) => textOf(c.args.blocks).includes(requestId))
          .length === 2,
      'two DMs',
    );
    const channels = fake
      .callsTo('chat.postMessage')
      .filter((c) => textOf(c.args.blocks).includes(requestId))
      .map((c) => c.args.channel);
    expect(channels.sort()).toEqual(['DU01BOB', 'DU01DAVE']);
    await postSigned(
      h.server.url,
      actionBody(fake, 'U01DAVE', { action_id: 'sb_approve', value: requestId }, { id: 'dave' }),
    );
    await eventually(() => fake.callsTo('chat.update').length === 2, 'both messages updated');
    expect(
      fake
        .callsTo('chat.update')
        .map((c) => c.args.channel)
        .sort(),
    ).toEqual(['DU01BOB', 'DU01DAVE']);
    expect(
      fake.callsTo('chat.postMessage').filter((c) => c.args.channel === 'DU01ALICE'),
    ).toHaveLength(1);
  });

  it('the Request button on a search result makes a request bound to that quote', async () => {
    h = await startHarness();
    await postSigned(h.server.url, slashBody(h.fake, 'U01ALICE', 'search 415', 'search'));
    const results = await eventually(responseFor(h.fake, 'search'), 'search results');
    const button = (results.body.blocks as Array<Record<string, any>>).find(
      (b) => b.accessory,
    )!.accessory;
    await postSigned(
      h.server.url,
      actionBody(
        h.fake,
        'U01ALICE',
        { action_id: button.action_id, value: button.value },
        { id: 'req' },
      ),
    );
    const reply = await eventually(responseFor(h.fake, 'req'), 'request reply');
    expect(reply.body.replace_original).toBe(false);
    const requestId = /R-[0-9A-Z]+/.exec(textOf(reply.body.blocks))?.[0] as string;
    const request = await h.deps.store.getRequest(requestId);
    expect(request?.quoteId).toBe(button.value);
    expect(request?.surface).toBe('slack');
    // A double click: the second is refused as a duplicate, nothing new is posted.
    await postSigned(
      h.server.url,
      actionBody(
        h.fake,
        'U01ALICE',
        { action_id: button.action_id, value: button.value },
        { id: 'req2' },
      ),
    );
    const second = await eventually(responseFor(h.fake, 'req2'), 'second reply');
    expect(textOf(second.body.blocks)).toContain('already has a pending request');
    expect(await h.deps.store.listRequests({ requester: 'U01ALICE' })).toHaveLength(1);
  });
});

describe('Slack: outcomes no approval message carries', () => {
  it('a Slack requester hears how it ended when nobody in Slack could be asked (approvers in the CLI), once', async () => {
    h = await startHarness({
      env: { SLACK_APPROVAL_CHANNEL: '' },
      policy: { approvers: ['local'] },
    });
    const made = await buyDirectly(h, { id: 'U01ALICE', surface: 'slack' }, 'support line');
    const requestId = made.request.id;
    // Nobody in Slack to ask: no approval message, so none will be redrawn.
    expect(await h.server.slack!.messages.post(made.request)).toBe(0);
    expect(await h.deps.store.listSlackMessages(requestId)).toEqual([]);
    expect(await h.server.slack!.messages.noticeOutcomes()).toBe(0); // still pending

    await approveInCli(h, 'local', requestId);
    expect(await h.server.slack!.messages.noticeOutcomes()).toBe(1);
    const dms = () =>
      h!.fake.callsTo('chat.postMessage').filter((c) => c.args.channel === 'DU01ALICE');
    expect(dms()).toHaveLength(1);
    expect(textOf(dms()[0]!.args.blocks)).toContain(`Your request ${requestId} was approved by`);
    expect(textOf(dms()[0]!.args.blocks)).toContain('is yours');

    // Told once, whoever runs the job next.
    expect(await h.server.slack!.messages.noticeOutcomes()).toBe(0);
    expect(dms()).toHaveLength(1);
  });

  it('a CLI decision landing while the approval message is still being posted is told once, not twice', async () => {
    h = await startHarness();
    const made = await buyDirectly(h, { id: 'U01ALICE', surface: 'slack' }, 'support line');
    const requestId = made.request.id;
    // The approver decides in the CLI before the approval message is saved: for that moment no
    // message carries the request, so the notice job tells Alice.
    await approveInCli(h, 'U01BOB', requestId);
    expect(await h.server.slack!.messages.noticeOutcomes()).toBe(1);
    // Then the slow post finishes, with the request as it was, and redraws it as it is now.
    expect(await h.server.slack!.messages.post(made.request)).toBeGreaterThan(0);
    expect(h.fake.callsTo('chat.update').length).toBeGreaterThan(0);
    const dms = h.fake.callsTo('chat.postMessage').filter((c) => c.args.channel === 'DU01ALICE');
    expect(dms).toHaveLength(1);
    expect(textOf(dms[0]!.args.blocks)).toContain(`Your request ${requestId} was approved by`);
  });
});

describe('Slack: decisions made away from the approval message', () => {
  const ephemeral = {
    type: 'message',
    message_ts: '2.0',
    channel_id: 'C0GENERAL',
    is_ephemeral: true,
  };

  it('Approve in the private /number requests list answers there (no message changes before their eyes)', async () => {
    h = await startHarness();
    const { requestId } = await requestNumber(h);
    await postSigned(
      h.server.url,
      actionBody(
        h.fake,
        'U01BOB',
        { action_id: 'sb_approve:0', value: requestId },
        { id: 'list-approve', container: ephemeral },
      ),
    );
    const answer = await eventually(responseFor(h.fake, 'list-approve'), 'the answer', 5_000);
    expect(answer.body.response_type).toBe('ephemeral');
    expect(textOf(answer.body.blocks)).toContain(`Approved ${requestId}: bought +1415`);
    expect((await h.deps.store.getRequest(requestId))?.status).toBe('done');
  });

  it('Deny in the private list: the reason given in the modal is answered in the list', async () => {
    h = await startHarness();
    const { requestId } = await requestNumber(h);
    await postSigned(
      h.server.url,
      actionBody(
        h.fake,
        'U01BOB',
        { action_id: 'sb_deny:0', value: requestId },
        { id: 'list-deny', container: ephemeral },
      ),
    );
    const open = await eventually(() => h!.fake.callsTo('views.open')[0], 'the deny modal');
    const view = open.args.view as Record<string, any>;
    expect(checkView(view)).toEqual([]);
    await postSigned(
      h.server.url,
      viewSubmissionBody('U01BOB', 'sb_deny_modal', view.private_metadata, 'Use the pool'),
    );
    const answer = await eventually(responseFor(h.fake, 'list-deny'), 'the answer', 5_000);
    expect(answer.body.response_type).toBe('ephemeral');
    expect(answer.body.replace_original).toBe(false);
    expect(textOf(answer.body.blocks)).toContain(`Denied ${requestId}`);
    expect(textOf(answer.body.blocks)).toContain('Use the pool');
    expect((await h.deps.store.getRequest(requestId))?.status).toBe('denied');
  });

  it('Deny on App Home: once the modal is submitted, the Home is drawn again without the buttons', async () => {
    h = await startHarness();
    const { requestId } = await requestNumber(h);
    await postSigned(
      h.server.url,
      actionBody(
        h.fake,
        'U01BOB',
        { action_id: 'sb_deny:0', value: requestId },
        { id: 'home-deny', container: { type: 'view', view_id: 'VHOME' }, view: { type: 'home' } },
      ),
    );
    const open = await eventually(() => h!.fake.callsTo('views.open')[0], 'the deny modal');
    const view = open.args.view as Record<string, any>;
    expect(h.fake.callsTo('views.publish')).toHaveLength(0);
    await postSigned(
      h.server.url,
      viewSubmissionBody('U01BOB', 'sb_deny_modal', view.private_metadata, 'Use the pool'),
    );
    const publish = await eventually(
      () => h!.fake.callsTo('views.publish').find((c) => c.args.user_id === 'U01BOB'),
      'the Home drawn again',
      5_000,
    );
    expect((await h.deps.store.getRequest(requestId))?.status).toBe('denied');
    const home = publish.args.view as Record<string, any>;
    expect(checkView(home)).toEqual([]);
    expect(JSON.stringify(home.blocks)).not.toContain(requestId);
  });
});

describe('Slack: Deny on a request past its expiry', () => {
  it('says it expired instead of opening a form for a reason that would go nowhere', async () => {
    h = await startHarness();
    const { requestId } = await requestNumber(h);
    const request = await h.deps.store.getRequest(requestId);
    // Past its expiry, before the expiry job has run: still 'pending' in the store.
    h.deps.setNow(new Date((request?.expiresAt.getTime() ?? 0) + 1000));
    await postSigned(
      h.server.url,
      actionBody(h.fake, 'U01BOB', { action_id: 'sb_deny', value: requestId }, { id: 'late' }),
    );
    const answer = await eventually(responseFor(h.fake, 'late'), 'the answer', 5_000);
    expect(textOf(answer.body.blocks)).toContain(
      `Request ${requestId} expired before anyone decided`,
    );
    expect(textOf(answer.body.blocks)).toContain('/number buy +1415');
    expect(h.fake.callsTo('views.open')).toHaveLength(0);
  });
});
